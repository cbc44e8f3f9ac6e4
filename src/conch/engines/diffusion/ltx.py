"""LTX-Video 0.9.x distilled through diffusers' ``LTXConditionPipeline``.

Conditions are frames at positions in the clip: the first frame at index 0, the last frame
at the clip's last index (LTX renders 8k+1 frames, so that index is a multiple of 8 and
falls on a latent frame boundary). Text to video passes no condition.

Frames larger than the model's native area take two stages when the 2x latent upsampler is
loaded (the distilled model's recommended multi-scale recipe): render at half size to
latents, double them with the upsampler, then refine a few steps at full size from those
latents with the same conditions, and decode. Without the upsampler the clip renders at the
native area and the engine resizes it.

Settings follow the distilled model's authors: no classifier-free guidance, their
timestep schedules (the preset's, then :data:`REFINE_TIMESTEPS`), a lightly noised decode,
and no extra noise on conditioning frames. The prompt is encoded once per render, in the
text encoder's own dtype (see ``runtime.text_encoder_dtype``), and handed to both stages in
the transformer's.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

from diffusers import LTXConditionPipeline, LTXLatentUpsamplePipeline
from diffusers.pipelines.ltx.modeling_latent_upsampler import LTXLatentUpsamplerModel
from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition

from conch.engines.diffusion import runtime
from conch.engines.diffusion.geometry import Grid
from conch.engines.diffusion.options import EngineOptions
from conch.engines.diffusion.presets import Preset, sampling
from conch.engines.diffusion.progress import StepProgress
from conch.engines.diffusion.renderer import RenderedClip, RenderRequest
from conch.engines.diffusion.weights import upsampler_source

log = logging.getLogger(__name__)

REFINE_TIMESTEPS = (1000.0, 909.0, 725.0, 421.0, 0.0)
REFINE_STRENGTH = 0.999
"""The refinement stage after upsampling: starts just below pure noise (skips 1000)."""

SIZE_MULTIPLE = 32
"""LTXConditionPipeline refuses sides that are not multiples of 32."""

DECODE = {"decode_timestep": 0.05, "decode_noise_scale": 0.025, "image_cond_noise_scale": 0.0}
UPSAMPLE = {"adain_factor": 1.0}

SCHEDULER_LOGGER = "diffusers.schedulers.scheduling_flow_match_euler_discrete"


class _TimestepsWithoutSigmas(logging.Filter):
    """Drops the scheduler's "`timesteps` were passed without `sigmas`" warning.

    ``LTXConditionPipeline`` itself always passes timesteps alone (its own default
    schedule included), so the warning would fire at every stage of every render and says
    nothing an operator can act on.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "were passed without `sigmas`" not in record.getMessage()


TIMESTEPS_FILTER = _TimestepsWithoutSigmas()


class LtxRenderer:
    """An LTX-Video pipeline (and, if found, its latent upsampler) kept loaded."""

    def __init__(
        self, preset: Preset, options: EngineOptions, source: str, weights: Path | None
    ) -> None:
        self.preset, self.options = preset, options
        self.sampling = sampling(preset, options)
        self.device = runtime.pick_device(options)
        dtype = runtime.pick_dtype(options, self.device)
        dtypes = runtime.component_dtypes(dtype, self.device)
        self.pipeline = runtime.load(LTXConditionPipeline, source, dtypes)
        self.upsampler = self._load_upsampler(preset, weights, dtype)
        runtime.prepare(self.pipeline, options, dtype)
        runtime.place(self.pipeline, options, self.device)
        self._place_upsampler()
        self.grid = _grid(self.pipeline)
        self.upscale = 2 if self.upsampler is not None else 1
        logging.getLogger(SCHEDULER_LOGGER).addFilter(TIMESTEPS_FILTER)  # once: a set

    def _load_upsampler(self, preset: Preset, weights: Path | None, dtype: Any) -> Any:
        option = self.options.upsampler
        if option is False:
            return None
        found = upsampler_source(option, weights, preset.upsampler_repo)
        if found is None:
            log.warning("no LTX latent upsampler found: frames above the native area are resized")
            return None
        folder, subfolder = found
        extra = {"subfolder": subfolder} if subfolder else {}
        model = runtime.load(LTXLatentUpsamplerModel, folder, dtype, **extra)
        return LTXLatentUpsamplePipeline(vae=self.pipeline.vae, latent_upsampler=model)

    def _place_upsampler(self) -> None:
        if self.upsampler is None:
            return
        if self.options.cpu_offload and self.device.type != "cpu":
            # The VAE is shared with the main pipeline and already handled by its offload.
            self.upsampler.latent_upsampler.to(self.device)
        else:
            self.upsampler.to(self.device)
        self.upsampler.set_progress_bar_config(disable=True)

    def step_count(self, request: RenderRequest) -> int:
        if request.upscale == 1:
            return self.sampling.steps
        return self.sampling.steps + int(len(REFINE_TIMESTEPS) * REFINE_STRENGTH)

    def render(self, request: RenderRequest, progress: StepProgress) -> RenderedClip:
        prompt = self._encode(request)
        if request.upscale == 1:
            video = self._stage(request, prompt, request.width, request.height, progress, "pt")
            return RenderedClip(runtime.to_frames(video[0]), request.frame_rate)
        width, height = request.width // 2, request.height // 2
        latents = self._stage(request, prompt, width, height, progress, "latent")
        doubled = self.upsampler(latents=latents, output_type="latent", **UPSAMPLE).frames
        video = self._call(
            request,
            prompt,
            request.width,
            request.height,
            progress,
            "pt",
            latents=doubled,
            timesteps=list(REFINE_TIMESTEPS),
            denoise_strength=REFINE_STRENGTH,
        )
        return RenderedClip(runtime.to_frames(video[0]), request.frame_rate)

    def _encode(self, request: RenderRequest) -> dict[str, Any]:
        """The prompt's embeddings, in the transformer's dtype, for every stage's call."""
        embeds, mask, negative, negative_mask = self.pipeline.encode_prompt(
            prompt=request.prompt,
            negative_prompt=request.negative_prompt,
            do_classifier_free_guidance=self.sampling.guidance_scale > 1.0,
            device=self.pipeline._execution_device,
            dtype=self.pipeline.transformer.dtype,
        )
        return {
            "prompt_embeds": embeds,
            "prompt_attention_mask": mask,
            "negative_prompt_embeds": negative,
            "negative_prompt_attention_mask": negative_mask,
        }

    def _stage(
        self,
        request: RenderRequest,
        prompt: dict[str, Any],
        width: int,
        height: int,
        progress: StepProgress,
        output: str,
    ) -> Any:
        """The first (or only) stage, on the route's schedule."""
        timesteps = self.sampling.timesteps
        schedule: dict[str, Any] = (
            {"num_inference_steps": self.sampling.steps}
            if timesteps is None
            else {"timesteps": list(timesteps)}
        )
        return self._call(request, prompt, width, height, progress, output, **schedule)

    def _call(
        self,
        request: RenderRequest,
        prompt: dict[str, Any],
        width: int,
        height: int,
        progress: StepProgress,
        output: str,
        **schedule: Any,
    ) -> Any:
        return self.pipeline(
            conditions=_conditions(request),
            width=width,
            height=height,
            num_frames=request.frame_count,
            frame_rate=request.frame_rate,
            guidance_scale=self.sampling.guidance_scale,
            generator=runtime.seeded(request.seed),
            output_type=output,
            callback_on_step_end=progress.on_step_end,
            **prompt,
            **DECODE,
            **schedule,
        ).frames

    def close(self) -> None:
        self.pipeline = self.upsampler = None
        runtime.release()


def _grid(pipeline: Any) -> Grid:
    latent_cell = pipeline.vae_spatial_compression_ratio * pipeline.transformer_spatial_patch_size
    frame_step = pipeline.vae_temporal_compression_ratio * pipeline.transformer_temporal_patch_size
    return Grid(multiple=math.lcm(SIZE_MULTIPLE, latent_cell), frame_step=frame_step)


def _conditions(request: RenderRequest) -> list[LTXVideoCondition] | None:
    conditions = []
    if request.first_image is not None:
        conditions.append(LTXVideoCondition(image=runtime.to_image(request.first_image)))
    if request.last_image is not None:
        last = request.frame_count - 1
        conditions.append(
            LTXVideoCondition(image=runtime.to_image(request.last_image), frame_index=last)
        )
    # An empty list would make the pipeline expect conditioning tensors: pass None instead.
    return conditions or None
