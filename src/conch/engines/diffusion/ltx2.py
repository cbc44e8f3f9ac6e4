"""LTX-2 through diffusers' ``LTX2ConditionPipeline``: video with stereo sound.

One pipeline serves every mode: conditions are images at latent frames of the clip (the
first frame at latent 0, the last at the last latent, -1, which ends the clip; either alone
or both); text to video passes none. LTX-2 renders ``8k+1`` frames on a 32-pixel grid and
is told the frame rate its frames span, which also sets how long its sound lasts.

Settings follow the pipeline's documented use of LTX-2: 30 steps at guidance 3, its own
defaults for the sound's guidance, spatio-temporal and modality guidance, and its own
re-compression of conditioning images. The prompt is encoded before the call, in the text
encoder's own dtype and handed over in the connectors', so that an offloaded text encoder
leaves the GPU before the first denoising step. The audio VAE and the vocoder run in float32
whatever the route's dtype (small, and vocoders lose quality in half precision).
"""

from __future__ import annotations

import math
from typing import Any, Self

import numpy as np
from diffusers import LTX2ConditionPipeline
from diffusers.pipelines.ltx2.pipeline_ltx2_condition import LTX2VideoCondition

from conch.engines.base import Soundtrack
from conch.engines.diffusion import runtime
from conch.engines.diffusion.geometry import Grid
from conch.engines.diffusion.options import EngineOptions
from conch.engines.diffusion.presets import Preset, sampling
from conch.engines.diffusion.progress import StepProgress
from conch.engines.diffusion.renderer import RenderedClip, RenderRequest

SIZE_MULTIPLE = 32
"""LTX2ConditionPipeline refuses sides that are not multiples of 32."""

FLOAT32_COMPONENTS = ("audio_vae", "vocoder")


class Ltx2Renderer:
    """An LTX-2 condition pipeline, kept loaded."""

    upscale = 1

    def __init__(self, preset: Preset, options: EngineOptions, pipeline: Any) -> None:
        """Over ``pipeline`` as loaded or built: applies the route's memory options, places it."""
        self.preset, self.options, self.pipeline = preset, options, pipeline
        self.sampling = sampling(preset, options)
        self.device = runtime.pick_device(options)
        runtime.prepare(pipeline, options, runtime.pick_dtype(options, self.device))
        runtime.place(pipeline, options, self.device)
        self.grid = grid_of(pipeline)

    @classmethod
    def load(cls, preset: Preset, options: EngineOptions, source: str) -> Self:
        """Load the pipeline from a local folder or the model cache, never the network."""
        device = runtime.pick_device(options)
        dtype = runtime.pick_dtype(options, device)
        dtypes = runtime.component_dtypes(dtype, device, float32=FLOAT32_COMPONENTS)
        return cls(preset, options, runtime.load(LTX2ConditionPipeline, source, dtypes))

    def step_count(self, _request: RenderRequest) -> int:
        return self.sampling.steps

    def render(self, request: RenderRequest, progress: StepProgress) -> RenderedClip:
        video, audio = self.pipeline(
            conditions=_conditions(request),
            width=request.width,
            height=request.height,
            num_frames=request.frame_count,
            frame_rate=float(request.frame_rate),
            num_inference_steps=self.sampling.steps,
            guidance_scale=self.sampling.guidance_scale,
            generator=runtime.seeded(request.seed),
            output_type="pt",
            return_dict=False,
            callback_on_step_end=progress.on_step_end,
            **self._encode(request),
        )
        samples = np.ascontiguousarray(audio[0].float().cpu().numpy())
        sound = Soundtrack(samples, int(self.pipeline.vocoder.config.output_sampling_rate))
        return RenderedClip(runtime.to_frames(video[0]), request.frame_rate, sound)

    def _encode(self, request: RenderRequest) -> dict[str, Any]:
        """The prompt's embeddings, in the connectors' dtype."""
        embeds, mask, negative, negative_mask = self.pipeline.encode_prompt(
            prompt=request.prompt,
            negative_prompt=request.negative_prompt,
            do_classifier_free_guidance=self.sampling.guidance_scale > 1.0,
            device=self.pipeline._execution_device,
            dtype=self.pipeline.connectors.dtype,
        )
        return {
            "prompt_embeds": embeds,
            "prompt_attention_mask": mask,
            "negative_prompt_embeds": negative,
            "negative_prompt_attention_mask": negative_mask,
        }

    def close(self) -> None:
        self.pipeline = None
        runtime.release()


def grid_of(pipeline: Any) -> Grid:
    """The side multiple (32) and the 8k+1 frames of ``pipeline``."""
    cell = pipeline.vae_spatial_compression_ratio * pipeline.transformer_spatial_patch_size
    frame_step = pipeline.vae_temporal_compression_ratio * pipeline.transformer_temporal_patch_size
    return Grid(multiple=math.lcm(SIZE_MULTIPLE, cell), frame_step=frame_step)


def _conditions(request: RenderRequest) -> list[LTX2VideoCondition] | None:
    conditions = []
    if request.first_image is not None:
        conditions.append(LTX2VideoCondition(frames=runtime.to_image(request.first_image)))
    if request.last_image is not None:
        # LTX-2 reads the index as a latent frame's: -1 is the last, ending the clip.
        conditions.append(LTX2VideoCondition(frames=runtime.to_image(request.last_image), index=-1))
    return conditions or None
