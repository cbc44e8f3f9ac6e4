"""Torch plumbing shared by the renderers: device, dtype, loading, placement, frames.

Imported only when an engine loads (it imports torch and diffusers).
"""

from __future__ import annotations

import gc
import logging
from typing import Any

import numpy as np
import torch
from PIL import Image

from conch.engines.base import Frame
from conch.engines.diffusion import memory
from conch.engines.diffusion.options import EngineOptions

log = logging.getLogger(__name__)


def pick_device(options: EngineOptions) -> torch.device:
    """The configured device, else the first GPU, else the CPU."""
    if options.device is not None:
        return torch.device(options.device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def pick_dtype(options: EngineOptions, device: torch.device) -> torch.dtype:
    """The configured dtype, else bfloat16 on a GPU and float32 on the CPU."""
    if options.dtype is not None:
        dtype: torch.dtype = getattr(torch, options.dtype)
        return dtype
    return torch.bfloat16 if device.type == "cuda" else torch.float32


def text_encoder_dtype(dtype: torch.dtype, device: torch.device) -> torch.dtype:
    """The dtype of the text encoder (T5, UMT5, Gemma 3, Qwen3-VL) for a route in ``dtype``.

    T5's activations overflow float16 (infinities, then NaN prompt embeddings), and Gemma's
    are known to, so with float16 it runs in bfloat16 where the GPU has it natively, else in
    float32.
    """
    if dtype != torch.float16:
        return dtype
    native_bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported(including_emulation=False)
    return torch.bfloat16 if native_bf16 else torch.float32


def component_dtypes(
    dtype: torch.dtype, device: torch.device, *, float32: tuple[str, ...] = ()
) -> dict[str, torch.dtype]:
    """Per-component dtypes for ``from_pretrained``: ``dtype`` for the pipeline, the text
    encoder's own (:func:`text_encoder_dtype`), and float32 for the components named in
    ``float32`` (those a pipeline lacks are ignored)."""
    dtypes = {"default": dtype, "text_encoder": text_encoder_dtype(dtype, device)}
    return dtypes | dict.fromkeys(float32, torch.float32)


def load(
    cls: Any, source: str, dtype: torch.dtype | dict[str, torch.dtype], **components: Any
) -> Any:
    """``cls.from_pretrained`` from a local folder or the model cache, never the network.

    ``dtype`` is one dtype, or one per component name (``"default"`` for the rest).
    """
    return cls.from_pretrained(source, dtype=dtype, local_files_only=True, **components)


def prepare(pipeline: Any, options: EngineOptions, dtype: torch.dtype) -> None:
    """Apply the route's fp8 and attention options to a loaded pipeline, before placing it
    (fp8 halves the transformer in CPU memory before it moves)."""
    memory.use_fp8(pipeline, options.fp8, dtype)
    memory.use_attention_backend(pipeline, options.attention_backend)


def place(pipeline: Any, options: EngineOptions, device: torch.device) -> None:
    """Put ``pipeline`` on ``device``, or set up CPU offload onto it."""
    offload = offload_mode(options, device)
    if offload == "sequential":
        pipeline.enable_sequential_cpu_offload(device=device)
    elif offload == "model":
        pipeline.enable_model_cpu_offload(device=device)
    elif offload == "text_encoder" and getattr(pipeline, "text_encoder", None) is not None:
        memory.place_beside_text_encoder(pipeline, device)
        memory.offload_text_encoder(pipeline, device)
    else:
        pipeline.to(device)
    tiling = options.vae_tiling if options.vae_tiling is not None else device.type == "cuda"
    if tiling:
        pipeline.vae.enable_tiling()
    pipeline.set_progress_bar_config(disable=True)


def offload_mode(options: EngineOptions, device: torch.device) -> str | None:
    """ "sequential", "model", "text_encoder" or None: what the route keeps off ``device``."""
    if device.type == "cpu":
        if options.cpu_offload or options.text_encoder_offload:
            log.warning("CPU offload is set but the device is the CPU: ignoring it")
        return None
    if options.cpu_offload:
        return options.cpu_offload
    return "text_encoder" if options.text_encoder_offload else None


def seeded(seed: int) -> torch.Generator:
    """A CPU generator: the same seed gives the same noise on any device."""
    return torch.Generator("cpu").manual_seed(seed)


def to_image(frame: Frame) -> Image.Image:
    """A frame as the PIL image diffusers' processors expect."""
    return Image.fromarray(frame)


def to_frames(video: torch.Tensor) -> np.ndarray:
    """Frames (N, 3, H, W) in [0, 1] on any device -> uint8 (N, H, W, 3) on the host.

    One frame at a time into a preallocated host array, quantised on the device: a long
    clip is never copied whole, as floats on the GPU or anywhere else.
    """
    count, _, height, width = video.shape
    frames = np.empty((count, height, width, 3), np.uint8)
    host = torch.from_numpy(frames)
    for index in range(count):
        scaled = video[index].float().clamp(0, 1).mul_(255).round_()
        host[index].copy_(scaled.to(torch.uint8).permute(1, 2, 0))
    return frames


def release() -> None:
    """Return freed memory to the system (and the GPU)."""
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
