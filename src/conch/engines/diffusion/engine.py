"""The diffusion engine: generative video from open-weights models on a GPU.

One :class:`DiffusionEngine` serves one route (a preset, its weights and options). It loads
its pipelines when built and keeps them loaded for every job its runner process renders.
For each job it:

1. picks the legal render shape nearest the output (``geometry``);
2. words the prompt (``prompting``);
3. renders through the preset's family (``ltx``, ``wan``, ``minimax_h3`` or ``ltx2``),
   reporting each denoising step (``progress``);
4. retimes the clip to the output's exact frame count at 24 fps (``retime``), resizes
   each frame to the output size, and puts the given first and last frames back exactly,
   reporting each frame handed on;
5. when the model made sound, retimes it with the frames and hands it over with them
   (:class:`~conch.engines.base.Footage`), exactly as long as the video.

Loading imports torch and diffusers; building this module does not, so the API process can
import the package to read presets.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from conch.config import ModelRoute, Settings
from conch.domain.catalog import Mode
from conch.engines.base import Footage, Frame, Job, ProgressFn
from conch.engines.diffusion.geometry import legal_frame_count, legal_size, resize
from conch.engines.diffusion.options import EngineOptions, parse_options
from conch.engines.diffusion.presets import Family, Preset, get_preset, refusal, validate_route
from conch.engines.diffusion.progress import StepProgress
from conch.engines.diffusion.prompting import NEGATIVE_PROMPTS, compose_prompt
from conch.engines.diffusion.renderer import Renderer, RenderRequest
from conch.engines.diffusion.retime import retime, retime_sound
from conch.engines.diffusion.weights import pipeline_source
from conch.media.images import fit_frame

log = logging.getLogger(__name__)

SUBJECT_VERTICAL = 1 / 3
"""A subject image is cropped about its upper third, where a character's face usually is."""


@dataclass(frozen=True)
class Anchors:
    """The frames a video must start and end on, at the output size (None: free)."""

    first: Frame | None
    last: Frame | None


class DiffusionEngine:
    """Renders jobs with a diffusers pipeline kept loaded between jobs."""

    name: ClassVar[str] = "diffusion"

    def __init__(self, route: ModelRoute, _settings: Settings) -> None:
        """Load ``route``'s pipelines (the installation's settings ask nothing more of it)."""
        validate_route(route)
        preset = get_preset(route.preset)
        options = parse_options(route.options, preset.name)
        self._start(route, preset, options, _load_renderer(preset, options, route))

    @classmethod
    def over(cls, route: ModelRoute, renderer: Renderer) -> DiffusionEngine:
        """An engine over a renderer built elsewhere: the GPU benchmark's full-size models
        with random weights, which have no folder to load from."""
        engine = cls.__new__(cls)
        preset = get_preset(route.preset)
        engine._start(route, preset, parse_options(route.options, preset.name), renderer)
        return engine

    def _start(
        self, route: ModelRoute, preset: Preset, options: EngineOptions, renderer: Renderer
    ) -> None:
        self.route, self.preset, self.options = route, preset, options
        self.renderer = renderer
        # One render at a time: a pipeline's call is not re-entrant.
        self._lock = threading.Lock()
        log.info("diffusion engine ready: %s", self.preset.title)

    def generate(self, job: Job, progress: ProgressFn) -> Footage:
        """Exactly ``job.frame_count`` frames of ``job.height`` x ``job.width``, and the
        sound of a preset that makes sound, set before the first frame."""
        footage = Footage()
        return footage.play(self._frames(job, progress, footage))

    def _frames(self, job: Job, progress: ProgressFn, footage: Footage) -> Iterator[Frame]:
        anchors = self._anchors(job)
        request = self._request(job, anchors)
        tracker = StepProgress(progress, self.renderer.step_count(request))
        log.info(
            "rendering %s at %dx%d (x%d), %d frames, for %dx%d, %d frames",
            job.mode,
            request.width,
            request.height,
            request.upscale,
            request.frame_count,
            job.width,
            job.height,
            job.frame_count,
        )
        with self._lock:
            clip = self.renderer.render(request, tracker)
        if clip.sound is not None:
            count = len(clip.frames)
            sound = retime_sound(clip.sound, count, clip.frame_rate, job.frame_count, job.fps)
            footage.soundtrack = sound
        yield from tracker.output(_output(clip.frames, job, anchors), job.frame_count)

    def plan(self, job: Job) -> RenderRequest:
        """What the model is asked to render for ``job``: legal size, frames, prompt, images."""
        return self._request(job, self._anchors(job))

    def close(self) -> None:
        """Free the models and the GPU memory they hold."""
        self.renderer.close()

    def _anchors(self, job: Job) -> Anchors:
        """The frames the video must start and end on, at the output size.

        A request this preset cannot render is refused first (the task fails at once).
        """
        refused = refusal(self.preset, job.mode, job.first_frame is not None)
        if refused is not None:
            raise refused
        if job.mode is Mode.SUBJECT:
            if job.subject_image is None:
                raise ValueError("a subject-reference job came without its subject image")
            subject = fit_frame(job.subject_image, job.width, job.height, SUBJECT_VERTICAL)
            return Anchors(subject, None)
        if job.mode is Mode.TEXT:
            return Anchors(None, None)
        last = job.last_frame if job.mode is Mode.FIRST_LAST else None
        return Anchors(job.first_frame, last)

    def _request(self, job: Job, anchors: Anchors) -> RenderRequest:
        width, height, upscale = self._render_size(job)
        grid = self.renderer.grid
        frames = legal_frame_count(
            job.frame_count,
            job.fps,
            self.preset.fps,
            grid.frame_step,
            self.options.max_frames or self.preset.max_frames,
            frame_base=grid.frame_base,
            min_frames=self.preset.min_frames,
        )
        return RenderRequest(
            prompt=compose_prompt(job, self.preset.family),
            negative_prompt=NEGATIVE_PROMPTS[self.preset.family],
            width=width,
            height=height,
            frame_count=frames,
            frame_rate=_frame_rate(frames, job),
            seed=job.seed,
            upscale=upscale,
            first_image=None if anchors.first is None else resize(anchors.first, width, height),
            last_image=None if anchors.last is None else resize(anchors.last, width, height),
        )

    def _render_size(self, job: Job) -> tuple[int, int, int]:
        """(width, height, upscale): the native area, or twice a half-size render."""
        multiple = self.renderer.grid.multiple
        max_area = self.options.max_area or self.preset.max_area
        upscale = self.renderer.upscale
        if upscale > 1 and job.width * job.height > max_area:
            half_w, half_h = job.width // upscale, job.height // upscale
            width, height = legal_size(half_w, half_h, multiple, max_area)
            return width * upscale, height * upscale, upscale
        width, height = legal_size(job.width, job.height, multiple, max_area)
        return width, height, 1


def _load_renderer(preset: Preset, options: EngineOptions, route: ModelRoute) -> Renderer:
    """The preset's family renderer, loaded (this is where torch and diffusers come in)."""
    source = pipeline_source(route.weights, preset.cache_repo)
    if preset.family is Family.LTX:
        from conch.engines.diffusion.ltx import LtxRenderer

        return LtxRenderer(preset, options, source, route.weights)
    if preset.family is Family.H3:
        from conch.engines.diffusion.minimax_h3 import H3Renderer

        return H3Renderer.load(preset, options, source)
    if preset.family is Family.LTX2:
        from conch.engines.diffusion.ltx2 import Ltx2Renderer

        return Ltx2Renderer.load(preset, options, source)
    from conch.engines.diffusion.wan import WanRenderer

    return WanRenderer(preset, options, source)


def _frame_rate(frames: int, job: Job) -> int:
    """The rate at which ``frames`` span the output's duration (LTX is told it)."""
    if job.frame_count < 2:
        return job.fps
    return max(1, round((frames - 1) * job.fps / (job.frame_count - 1)))


def _output(clip: np.ndarray, job: Job, anchors: Anchors) -> Iterator[Frame]:
    """The rendered clip at the output's frame count and size, anchors put back exactly."""
    last_index = job.frame_count - 1
    for index, frame in enumerate(retime(list(clip), job.frame_count)):
        if index == 0 and anchors.first is not None:
            yield np.ascontiguousarray(anchors.first)
        elif index == last_index and anchors.last is not None:
            yield np.ascontiguousarray(anchors.last)
        else:
            yield resize(frame, job.width, job.height)
