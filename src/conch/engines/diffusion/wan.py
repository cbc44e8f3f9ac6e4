"""Wan through diffusers' ``WanImageToVideoPipeline`` (and ``WanPipeline`` for text).

- Wan2.1-FLF2V-14B and Wan2.2-I2V-A14B: ``WanImageToVideoPipeline(image, last_image)``, the
  first frame always, the last frame in first+last mode.
- Wan2.2-TI2V-5B: ``WanPipeline`` for text, and the image pipeline built from the same
  loaded modules (no second copy in memory) for a first frame. It ignores
  ``last_image``, so its preset never offers first+last.

The VAE and (Wan2.1-FLF2V's) CLIP image encoder are loaded in float32 whatever the
route's dtype: Wan's authors run them so, and a half-precision Wan VAE decodes with visible
artefacts. The UMT5 text encoder never runs in float16 (``runtime.text_encoder_dtype``).
"""

from __future__ import annotations

from typing import Any

from diffusers import WanImageToVideoPipeline, WanPipeline
from typing_extensions import override

from conch.domain.catalog import Mode
from conch.engines.diffusion import runtime
from conch.engines.diffusion.geometry import Grid
from conch.engines.diffusion.options import EngineOptions
from conch.engines.diffusion.presets import Preset, sampling
from conch.engines.diffusion.progress import StepProgress
from conch.engines.diffusion.renderer import RenderedClip, Renderer, RenderRequest

FLOAT32_COMPONENTS = ("vae", "image_encoder")
"""Loaded in float32 whatever the route's dtype (a pipeline without one ignores it)."""


class WanRenderer(Renderer):
    """Wan pipelines for one preset, kept loaded."""

    upscale = 1

    def __init__(self, preset: Preset, options: EngineOptions, source: str) -> None:
        self.preset, self.options = preset, options
        self.sampling = sampling(preset, options)
        self.device = runtime.pick_device(options)
        dtype = runtime.pick_dtype(options, self.device)
        dtypes = runtime.component_dtypes(dtype, self.device, float32=FLOAT32_COMPONENTS)
        self.text_pipeline: Any = None
        if Mode.TEXT in preset.modes:
            self.text_pipeline = runtime.load(WanPipeline, source, dtypes)
            self.image_pipeline: Any = _image_pipeline_sharing(self.text_pipeline)
        else:
            self.image_pipeline = runtime.load(WanImageToVideoPipeline, source, dtypes)
        # Placing the loaded pipeline places the modules the other one shares.
        runtime.prepare(self._loaded, options, dtype)
        runtime.place(self._loaded, options, self.device)
        self.image_pipeline.set_progress_bar_config(disable=True)
        self.grid = _grid(self._loaded)

    @property
    def _loaded(self) -> Any:
        """The pipeline loaded and placed: under CPU offload, it holds every module's hook."""
        return self.text_pipeline if self.text_pipeline is not None else self.image_pipeline

    @override
    def step_count(self, request: RenderRequest) -> int:
        return self.sampling.steps

    def render(self, request: RenderRequest, progress: StepProgress) -> RenderedClip:
        call_arguments = {
            "prompt": request.prompt,
            "negative_prompt": request.negative_prompt,
            "width": request.width,
            "height": request.height,
            "num_frames": request.frame_count,
            "num_inference_steps": self.sampling.steps,
            "guidance_scale": self.sampling.guidance_scale,
            "generator": runtime.seeded(request.seed),
            "output_type": "pt",
            "callback_on_step_end": progress.on_step_end,
        }
        try:
            if request.first_image is None:
                video = self.text_pipeline(**call_arguments).frames
            else:
                last = request.last_image
                video = self.image_pipeline(
                    image=runtime.to_image(request.first_image),
                    last_image=runtime.to_image(last) if last is not None else None,
                    **call_arguments,
                ).frames
        finally:
            # TI2V's image pipeline shares the text pipeline's modules but not its offload
            # hooks, so its own call leaves the last module it used on the GPU.
            self._loaded.maybe_free_model_hooks()
        return RenderedClip(runtime.to_frames(video[0]), request.frame_rate)

    def close(self) -> None:
        self.text_pipeline = self.image_pipeline = None
        runtime.release()


def _image_pipeline_sharing(text_pipeline: Any) -> Any:
    """An image-to-video pipeline over the text pipeline's loaded modules.

    Built directly rather than with ``from_pipe``, which casts every shared module to one
    dtype (float32 unless told), undoing the float32 VAE and the text encoder's own dtype,
    or doubling the transformer.
    """
    return WanImageToVideoPipeline(
        **text_pipeline.components,
        expand_timesteps=text_pipeline.config.expand_timesteps,
        boundary_ratio=text_pipeline.config.boundary_ratio,
    )


def _grid(pipeline: Any) -> Grid:
    transformer = pipeline.transformer or pipeline.transformer_2
    cell = pipeline.vae_scale_factor_spatial * transformer.config.patch_size[1]
    return Grid(multiple=cell, frame_step=pipeline.vae_scale_factor_temporal)
