"""MiniMax-H3 through diffusers' ``MiniMaxH3ModularPipeline``: video with stereo sound.

- Text to video is the ``t2va`` workflow; image, first+last and subject reference are
  ``fl2va`` with the given keyframes (``image`` first, ``last_image`` last, or either alone).
  Both run on the ``transformer/`` checkpoint partition, the only one loaded: ``ref2va``'s
  ``transformer_ref/`` is another 33B model.
- The engine passes the canvas (multiples of 32) and the frame count (``17k+5``, 124 to
  345: 5 to 15 s at 24 fps) itself, and keyframes already at that size, so the pipeline
  stretches and crops nothing.
- The checkpoint is guidance-distilled: no negative prompt, no guidance scale, one forward
  pass a step. conch's ``steps`` counts those passes; the pipeline's ``num_inference_steps``
  counts the schedule's points, the last of which (t = 0) takes no pass, so it is one more.
- The modular pipeline has no step callback: a forward hook on the transformer reports
  each step.
- transformers builds Qwen3-VL's processor only with torchvision installed (for its video
  processor, which ``t2va`` and ``fl2va`` never call). Without it, :class:`KeyframeProcessor`
  stands in with the real image processor and tokenizer.
"""

from __future__ import annotations

import logging
from typing import Any, Self

import numpy as np
from diffusers.modular_pipelines.minimax_h3.modular_pipeline import MiniMaxH3ModularPipeline

from conch.engines.base import Soundtrack
from conch.engines.diffusion import memory, runtime
from conch.engines.diffusion.geometry import Grid
from conch.engines.diffusion.options import EngineOptions
from conch.engines.diffusion.presets import Preset, sampling
from conch.engines.diffusion.progress import StepProgress
from conch.engines.diffusion.renderer import RenderedClip, RenderRequest

log = logging.getLogger(__name__)

WORKFLOW = "fl2va"
"""The workflow whose components are loaded: keyframes, and with none of them, ``t2va``."""

OUTPUTS = ["videos", "audio", "sampling_rate"]

IMAGE_TOKEN, VIDEO_TOKEN = "<|image_pad|>", "<|video_pad|>"


class H3Renderer:
    """A MiniMax-H3 modular pipeline, kept loaded."""

    upscale = 1

    def __init__(self, preset: Preset, options: EngineOptions, pipeline: Any) -> None:
        """Over ``pipeline`` as loaded or built: applies the route's memory options, places it."""
        self.preset, self.options, self.pipeline = preset, options, pipeline
        self.sampling = sampling(preset, options)
        self.device = runtime.pick_device(options)
        runtime.prepare(pipeline, options, runtime.pick_dtype(options, self.device))
        _place(pipeline, options, self.device)
        self.grid = grid_of(pipeline)

    @classmethod
    def load(cls, preset: Preset, options: EngineOptions, source: str) -> Self:
        """Load the pipeline from a local folder or the model cache, never the network."""
        device = runtime.pick_device(options)
        return cls(preset, options, load_pipeline(source, options, device))

    def step_count(self, _request: RenderRequest) -> int:
        return self.sampling.steps

    def render(self, request: RenderRequest, progress: StepProgress) -> RenderedClip:
        transformer = self.pipeline.transformer
        hook = transformer.register_forward_hook(lambda *_: progress.step())
        try:
            out = self.pipeline(
                prompt=request.prompt,
                height=request.height,
                width=request.width,
                num_frames=request.frame_count,
                num_inference_steps=self.sampling.steps + 1,
                generator=runtime.seeded(request.seed),
                output_type="pt",
                output=OUTPUTS,
                **_keyframes(request),
            )
        finally:
            hook.remove()
        samples = out["audio"][0].float().cpu().numpy()
        sound = Soundtrack(np.ascontiguousarray(samples), int(out["sampling_rate"]))
        return RenderedClip(runtime.to_frames(out["videos"][0]), self.pipeline.fps, sound)

    def close(self) -> None:
        self.pipeline = None
        runtime.release()


def grid_of(pipeline: Any) -> Grid:
    """The canvas multiple (VAE x patch, 32) and the 17k+5 frames of ``pipeline``."""
    return Grid(
        multiple=pipeline.canvas_multiple,
        frame_step=pipeline.vae_frames_per_chunk,
        frame_base=pipeline.vae_latents_per_chunk,
    )


def load_pipeline(source: str, options: EngineOptions, device: Any) -> Any:
    """The ``fl2va`` half of MiniMax-H3 from ``source``, in the route's dtypes, on the CPU
    (or, under model offload, registered with a components manager that moves it)."""
    dtype = runtime.pick_dtype(options, device)
    manager = _offload_manager(options, device)
    pipeline = MiniMaxH3ModularPipeline.from_pretrained(
        source, components_manager=manager, local_files_only=True
    )
    names = _pretrained_components(pipeline)
    dtypes = runtime.component_dtypes(dtype, device)
    pipeline.load_components(names=names, dtype=dtypes, local_files_only=True)
    pipeline.update_components(processor=load_processor(source, pipeline.tokenizer))
    missing = [name for name in [*names, "processor"] if getattr(pipeline, name, None) is None]
    if missing:
        raise ValueError(f"MiniMax-H3 at {source}: could not load {', '.join(missing)}")
    return pipeline


def _pretrained_components(pipeline: Any) -> list[str]:
    """The weights the workflow needs (the processor is built apart, see the module doc)."""
    wanted = pipeline.blocks.get_workflow(WORKFLOW).expected_components
    specs = pipeline._component_specs  # the index's loading specs, by component name
    return [
        spec.name
        for spec in wanted
        if spec.name != "processor"
        and specs[spec.name].default_creation_method == "from_pretrained"
    ]


def load_processor(source: str, tokenizer: Any) -> Any:
    """Qwen3-VL's processor from ``source``'s ``processor/`` folder (or its stand-in)."""
    from transformers.utils.import_utils import is_torchvision_available

    if is_torchvision_available():
        from transformers import Qwen3VLProcessor

        return Qwen3VLProcessor.from_pretrained(
            source, subfolder="processor", local_files_only=True
        )
    from transformers import Qwen2VLImageProcessorPil

    images = Qwen2VLImageProcessorPil.from_pretrained(
        source, subfolder="processor", local_files_only=True
    )
    log.info("torchvision is not installed: MiniMax-H3 reads keyframes with conch's processor")
    return KeyframeProcessor(images, tokenizer)


class KeyframeProcessor:
    """What MiniMax-H3's ``t2va`` and ``fl2va`` blocks use of ``Qwen3VLProcessor``: its image
    processor, and the modality of each token (0 text, 1 image, 2 video)."""

    def __init__(self, image_processor: Any, tokenizer: Any) -> None:
        self.image_processor = image_processor
        self.image_token_id = tokenizer.convert_tokens_to_ids(IMAGE_TOKEN)
        self.video_token_id = tokenizer.convert_tokens_to_ids(VIDEO_TOKEN)

    def create_mm_token_type_ids(self, input_ids: list[list[int]]) -> list[list[int]]:
        kinds = {self.image_token_id: 1, self.video_token_id: 2}
        return [[kinds.get(token, 0) for token in row] for row in input_ids]


def _offload_manager(options: EngineOptions, device: Any) -> Any:
    """Under model offload, diffusers' components manager: it moves each model to the GPU
    when it runs, and others off when memory runs short."""
    if runtime.offload_mode(options, device) != "model":
        return None
    from diffusers.modular_pipelines.components_manager import ComponentsManager

    manager = ComponentsManager()
    manager.enable_auto_cpu_offload(device=device)
    return manager


def _place(pipeline: Any, options: EngineOptions, device: Any) -> None:
    offload = runtime.offload_mode(options, device)
    if offload == "text_encoder":
        memory.place_beside_text_encoder(pipeline, device)
        memory.offload_text_encoder(pipeline, device)
    elif offload != "model":  # under model offload, the components manager places them
        pipeline.to(device)
    if options.vae_tiling is False:  # on unless told: H3's released output is tiled
        pipeline.vae.disable_tiling()
    _quiet(pipeline.blocks)


def _quiet(blocks: Any) -> None:
    """No progress bars, in any block (the pipeline's own setting reaches the top level only)."""
    for block in getattr(blocks, "sub_blocks", {}).values():
        if hasattr(block, "set_progress_bar_config"):
            block.set_progress_bar_config(disable=True)
        _quiet(block)


def _keyframes(request: RenderRequest) -> dict[str, Any]:
    keyframes: dict[str, Any] = {}
    if request.first_image is not None:
        keyframes["image"] = runtime.to_image(request.first_image)
    if request.last_image is not None:
        keyframes["last_image"] = runtime.to_image(request.last_image)
    return keyframes
