"""The diffusion presets: which open-weights model, through which diffusers pipeline, for
which modes, at which native size, frame rate and length.

This module is import-light on purpose (no torch, no diffusers): the API process imports
it to refuse requests a preset cannot serve (:func:`preset_modes`) and to check the
configuration at start-up (:func:`validate_route`), without loading anything.

=====================  ===============================  ==================================
preset                 model (diffusers pipeline)       modes
=====================  ===============================  ==================================
``ltx-video``          LTX-Video 0.9.x distilled        text, image, first+last, subject
(the default)          (``LTXConditionPipeline``; the
                       2x latent upsampler above its
                       native area, i.e. for 1080P)
``wan2.1-flf2v-14b``   Wan2.1-FLF2V-14B                 first+last only (its image
                       (``WanImageToVideoPipeline``)    embedder is built for exactly
                                                        two images, first and last)
``wan2.2-i2v-a14b``    Wan2.2-I2V-A14B                  image, first+last, subject
                       (``WanImageToVideoPipeline``)
``wan2.2-ti2v-5b``     Wan2.2-TI2V-5B (``WanPipeline``  text, image, subject (it ignores a
                       and ``WanImageToVideoPipeline``) last frame: never first+last)
``minimax-h3``         MiniMax-H3, video with stereo    text, image, first+last, subject
                       sound (``MiniMaxH3Modular-
                       Pipeline``, ``t2va``/``fl2va``)
``ltx-2``              LTX-2 (19B), video with stereo   text, image, first+last, subject
                       sound (``LTX2ConditionPipeline``)
=====================  ===============================  ==================================

Presets whose model makes sound (:func:`makes_sound`) hand the encoder a soundtrack; the
others' videos are silent.

Subject reference (S2V-01) is served by every preset that takes a lone first frame: the subject
image, fitted to the output size (scaled to cover, cropped about its upper third, where a
face usually is), becomes the opening frame and the prompt says what happens next. It is an
approximation: no preset loads a model that takes a free-standing identity reference
(MiniMax-H3's ``ref2va`` partition would, at the cost of a second 33B transformer).

:func:`refusal` is the one judge of what a preset cannot render: the API process asks it
before a task exists (``registry.check_servable``), the engine again before it renders.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from conch.config import ModelRoute
from conch.domain.catalog import Mode
from conch.domain.errors import EngineCannotServe
from conch.domain.request import ImageRole
from conch.engines.diffusion.options import EngineOptions, parse_options
from conch.engines.diffusion.weights import MODULAR_INDEX, PIPELINE_INDEX, check_weights


class Family(StrEnum):
    """A model family: one way of calling diffusers and one prompt style."""

    LTX = "ltx"
    WAN = "wan"
    H3 = "minimax-h3"
    LTX2 = "ltx-2"


@dataclass(frozen=True)
class Preset:
    """One supported model and the settings its authors recommend.

    ``max_area`` is the largest frame (in pixels) the model renders natively; larger outputs
    are upsampled (LTX's latent upsampler when available, else a resize). ``max_frames`` is
    the longest clip it renders well; a longer output is retimed from fewer frames, and
    ``min_frames`` the shortest it renders at all. ``schedule`` is the number of denoising
    steps, or a distilled model's exact timesteps (one step each). ``index_file`` marks
    the model's diffusers folder; ``makes_sound``: the model renders a soundtrack too.
    """

    name: str
    family: Family
    title: str
    modes: frozenset[Mode]
    cache_repo: str
    fps: int
    max_area: int
    max_frames: int
    schedule: int | tuple[float, ...]
    guidance_scale: float
    upsampler_repo: str | None = None
    min_frames: int = 1
    index_file: str = PIPELINE_INDEX
    makes_sound: bool = False

    @property
    def needs_first_frame(self) -> bool:
        """Wan's image-to-video pipelines always start from a first frame, even in
        first+last mode; LTX can be conditioned on the last frame alone."""
        return self.family is Family.WAN


LTX_DISTILLED_TIMESTEPS = (1000.0, 993.0, 987.0, 981.0, 975.0, 909.0, 725.0, 0.03)
"""LTX-Video 0.9.x distilled's own schedule for a first (or only) stage: 8 steps."""

_IMAGE_MODES = frozenset({Mode.IMAGE, Mode.FIRST_LAST, Mode.SUBJECT})

PRESETS: Mapping[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset(
            name="ltx-video",
            family=Family.LTX,
            title="LTX-Video 0.9.x distilled",
            modes=frozenset({Mode.TEXT, *_IMAGE_MODES}),
            cache_repo="Lightricks/LTX-Video-0.9.7-distilled",
            upsampler_repo="Lightricks/ltxv-spatial-upscaler-0.9.7",
            fps=24,
            max_area=1376 * 768,
            max_frames=257,
            schedule=LTX_DISTILLED_TIMESTEPS,
            guidance_scale=1.0,  # guidance-distilled: no classifier-free guidance
        ),
        Preset(
            name="wan2.1-flf2v-14b",
            family=Family.WAN,
            title="Wan2.1-FLF2V-14B (720P)",
            # Its transformer positions the CLIP tokens of two images: one image won't do.
            modes=frozenset({Mode.FIRST_LAST}),
            cache_repo="Wan-AI/Wan2.1-FLF2V-14B-720P-diffusers",
            fps=16,
            max_area=1280 * 720,
            max_frames=81,
            schedule=50,
            guidance_scale=5.5,
        ),
        Preset(
            name="wan2.2-i2v-a14b",
            family=Family.WAN,
            title="Wan2.2-I2V-A14B",
            modes=_IMAGE_MODES,
            cache_repo="Wan-AI/Wan2.2-I2V-A14B-Diffusers",
            fps=16,
            max_area=1280 * 720,
            max_frames=81,
            schedule=40,
            guidance_scale=3.5,
        ),
        Preset(
            name="wan2.2-ti2v-5b",
            family=Family.WAN,
            title="Wan2.2-TI2V-5B",
            # It ignores a last frame, so first+last must never reach it.
            modes=frozenset({Mode.TEXT, Mode.IMAGE, Mode.SUBJECT}),
            cache_repo="Wan-AI/Wan2.2-TI2V-5B-Diffusers",
            fps=24,
            max_area=1280 * 704,
            max_frames=121,
            schedule=50,
            guidance_scale=5.0,
        ),
        Preset(
            name="minimax-h3",
            family=Family.H3,
            title="MiniMax-H3",
            # A lone last frame is fine: fl2va anchors whichever keyframes it is given.
            modes=frozenset({Mode.TEXT, *_IMAGE_MODES}),
            cache_repo="MiniMaxAI/MiniMax-H3",
            fps=24,
            max_area=768 * 1344,  # its canvas: a 768 short edge, at most 768x1344 pixels
            # 5 to 15 s at 24 fps, in the 17k+5 frames its video VAE encodes: 124 to 345.
            min_frames=124,
            max_frames=345,
            schedule=30,
            guidance_scale=1.0,  # guidance-distilled: one forward pass a step
            index_file=MODULAR_INDEX,
            makes_sound=True,
        ),
        Preset(
            name="ltx-2",
            family=Family.LTX2,
            title="LTX-2",
            modes=frozenset({Mode.TEXT, *_IMAGE_MODES}),
            cache_repo="Lightricks/LTX-2",
            fps=24,
            max_area=1376 * 768,
            max_frames=481,  # 20 s at 24 fps, in its 8k+1 frames
            schedule=30,
            guidance_scale=3.0,
            makes_sound=True,
        ),
    )
}
"""Every preset, by the name an operator writes in ``conch.toml``."""

DEFAULT_PRESET = "ltx-video"
"""The preset of a diffusion route that names none: LTX-Video is the fastest."""


def get_preset(name: str | None) -> Preset:
    """The preset called ``name`` (None: the default); ValueError for an unknown name."""
    key = DEFAULT_PRESET if name is None else name
    try:
        return PRESETS[key]
    except KeyError:
        known = ", ".join(PRESETS)
        raise ValueError(f"unknown diffusion preset {key!r}; known presets: {known}") from None


def preset_modes(preset: str | None) -> frozenset[Mode]:
    """The modes ``preset`` can render (None: the default preset)."""
    return get_preset(preset).modes


def makes_sound(preset: str | None) -> bool:
    """Whether ``preset``'s videos carry sound (None: the default preset).

    What a request asking for sound is judged against: a preset that makes none cannot
    serve it.
    """
    return get_preset(preset).makes_sound


def refusal(
    preset: Preset, mode: Mode, has_first_frame: bool, model: str = "this model"
) -> EngineCannotServe | None:
    """Why ``preset`` cannot render a ``mode`` request (None: it can), as the error to raise.

    The two reasons concern different request fields (the model, or the first frame), so
    the answer is the error itself, field and message together. ``model`` names the public
    model in the message, when the caller knows it.
    """
    if mode not in preset.modes:
        offered = ", ".join(sorted(preset.modes))
        return EngineCannotServe(
            f"{mode} is not offered by the diffusion engine preset {preset.name!r} "
            f"({preset.title}) that serves {model} here; it offers {offered}",
            field="model",
        )
    if mode is Mode.FIRST_LAST and not has_first_frame and preset.needs_first_frame:
        return EngineCannotServe(
            f"is required here: {model} runs on the {preset.title} preset, which starts "
            "every first-last-frame video from a given first frame",
            field=ImageRole.FIRST_FRAME,
        )
    return None


@dataclass(frozen=True)
class Sampling:
    """How a render denoises, resolved once from the preset and the route's options."""

    steps: int
    timesteps: tuple[float, ...] | None
    """The exact schedule; None: the pipeline spaces ``steps`` itself."""
    guidance_scale: float


def sampling(preset: Preset, options: EngineOptions) -> Sampling:
    """The route's ``steps`` and ``guidance_scale`` over the preset's own."""
    guidance = preset.guidance_scale if options.guidance_scale is None else options.guidance_scale
    if options.steps is not None:
        return Sampling(options.steps, None, guidance)
    if isinstance(preset.schedule, tuple):
        return Sampling(len(preset.schedule), preset.schedule, guidance)
    return Sampling(preset.schedule, None, guidance)


def validate_route(route: ModelRoute) -> None:
    """Refuse a diffusion route whose preset, options or weights are wrong (ValueError).

    Called at server start-up and again when an engine loads, so that a typo in
    ``conch.toml`` is a clear start-up error, not a failed task an hour later.
    """
    preset = get_preset(route.preset)
    options = parse_options(route.options, preset.name)
    if isinstance(options.upsampler, Path) and preset.upsampler_repo is None:
        raise ValueError(f"diffusion preset {preset.name!r}: options.upsampler is for LTX only")
    if options.cpu_offload == "sequential" and preset.family is Family.H3:
        raise ValueError(
            f"diffusion preset {preset.name!r}: options.cpu_offload 'sequential' is not "
            "offered for MiniMax-H3's modular pipeline; use true (models take turns on the "
            "GPU), or fp8 with text_encoder_offload"
        )
    check_weights(route.weights, preset.cache_repo, preset.name, preset.index_file)
