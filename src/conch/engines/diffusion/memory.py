"""What a route's memory options do to a loaded pipeline: fp8 weights, attention backend,
and the text encoder kept in CPU memory between prompts.

These act on the components every family's pipelines share by name (``transformer``,
``transformer_2``, ``text_encoder``), so they work the same on LTX, Wan, LTX-2 and
MiniMax-H3. Imported only when an engine loads (it imports torch, diffusers, accelerate).
"""

from __future__ import annotations

import logging
from typing import Any

import torch
from diffusers.hooks.layerwise_casting import apply_layerwise_casting

log = logging.getLogger(__name__)

TRANSFORMERS = ("transformer", "transformer_2")
"""The denoisers a pipeline may hold (Wan2.2-A14B has two)."""

FP8 = torch.float8_e4m3fn
"""How fp8 weights are stored: 4 exponent bits, 3 mantissa bits (diffusers' choice)."""

TEXT_ENCODER_KEPT = ("norm", "embed", "lm_head", "visual", "vision_tower", "multi_modal_projector")
"""Text-encoder modules left in their dtype under fp8: norms and embeddings (precision; the
output head too, which Gemma ties to its embeddings), and a vision-language encoder's image
side (small)."""


def transformers_of(pipeline: Any) -> list[Any]:
    """The pipeline's denoising transformers that are loaded."""
    return [model for name in TRANSFORMERS if (model := getattr(pipeline, name, None)) is not None]


def use_fp8(pipeline: Any, scope: str | None, compute: torch.dtype) -> None:
    """Store the transformer's weights (``scope`` "all": the text encoder's too) in fp8,
    each layer cast up to ``compute`` as it runs (diffusers' layerwise casting).

    The models' own exceptions stay in their dtype: a transformer's norms, patch
    embeddings and float32 heads, a text encoder's norms, embeddings and vision tower.
    """
    if scope is None:
        return
    for transformer in transformers_of(pipeline):
        transformer.enable_layerwise_casting(storage_dtype=FP8, compute_dtype=compute)
    encoder = getattr(pipeline, "text_encoder", None)
    if scope == "all" and encoder is not None:
        apply_layerwise_casting(encoder, FP8, compute, skip_modules_pattern=TEXT_ENCODER_KEPT)


def use_attention_backend(pipeline: Any, backend: str | None) -> None:
    """Run the transformers' attention on ``backend`` (None: diffusers' default)."""
    if backend is None:
        return
    for transformer in transformers_of(pipeline):
        transformer.set_attention_backend(backend)


def offload_text_encoder(pipeline: Any, device: torch.device) -> None:
    """Keep the text encoder in CPU memory; as it reads a prompt, each of its layers visits
    ``device`` in turn (diffusers' group offloading, leaf by leaf, the next layer copied on a
    CUDA stream while the current one runs), so it never holds more than a layer or two
    there, however large it is, and the transformer need not make room for it.

    Leaf hooks also fire when a pipeline calls a part of the encoder directly (MiniMax-H3
    reads ``text_encoder.model``). Its weights are pinned a layer at a time, not copied
    whole: host memory holds it once.
    """
    from diffusers.hooks.group_offloading import apply_group_offloading

    encoder = pipeline.text_encoder
    encoder.to("cpu")
    apply_group_offloading(
        encoder,
        onload_device=device,
        offload_type="leaf_level",
        use_stream=device.type == "cuda",
        low_cpu_mem_usage=True,
    )
    log.info("text encoder offloaded: in CPU memory, its layers on %s in turn", device)


def place_beside_text_encoder(pipeline: Any, device: torch.device) -> None:
    """Move every model but the text encoder to ``device``."""
    for name, component in pipeline.components.items():
        if name != "text_encoder" and isinstance(component, torch.nn.Module):
            component.to(device)
