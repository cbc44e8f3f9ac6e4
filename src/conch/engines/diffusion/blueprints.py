"""MiniMax-H3 and LTX-2 at full size, built from configs with random weights.

For the GPU benchmark (``benchmarks/diffusion_gpu.py``), which measures speed and memory
where no weights can be downloaded, and for the memory arithmetic in ``docs/diffusion.md``
(:func:`parameter_counts` builds every component on the meta device, allocating nothing).

The sizes are the released checkpoints': diffusers' own defaults for MiniMax-H3's and
LTX-2's transformers, VAEs, connectors and vocoder (its docstrings call them the released
ones), the published configs of their text encoders (Qwen3-VL-32B, Gemma 3 12B), and the
processors' published patch sizes. Tokenizers are built in memory over bytes: the real
vocabularies are not at hand, and a model's speed does not depend on its token ids, only on
how many there are (a byte per token: a few hundred for a prompt, where the real ones make
a few dozen; next to tens of thousands of video rows, that changes nothing measurable).

Imports torch, diffusers and transformers: only the benchmark and the tests import it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

import torch
from diffusers import (
    AutoencoderKLLTX2Audio,
    AutoencoderKLLTX2Video,
    AutoencoderKLMiniMaxH3,
    AutoencoderKLMiniMaxH3Audio,
    FlowMatchEulerDiscreteScheduler,
    LTX2ConditionPipeline,
    LTX2VideoTransformer3DModel,
    MiniMaxH3Scheduler,
    MiniMaxH3Transformer3DModel,
)
from diffusers.modular_pipelines.minimax_h3.modular_blocks_minimax_h3 import MiniMaxH3Blocks
from diffusers.pipelines.ltx2.connectors import LTX2TextConnectors
from diffusers.pipelines.ltx2.vocoder import LTX2Vocoder
from transformers import (
    Gemma3Config,
    Gemma3ForConditionalGeneration,
    GemmaTokenizer,
    Qwen2Tokenizer,
    Qwen2VLImageProcessorPil,
    Qwen3VLConfig,
    Qwen3VLForConditionalGeneration,
)
from transformers.convert_slow_tokenizer import bytes_to_unicode

from conch.engines.diffusion import ltx2, memory, minimax_h3
from conch.engines.diffusion.geometry import Grid
from conch.engines.diffusion.minimax_h3 import KeyframeProcessor
from conch.engines.diffusion.options import EngineOptions, parse_options
from conch.engines.diffusion.presets import get_preset
from conch.engines.diffusion.renderer import Renderer

QWEN_SPECIAL = (
    "<|endoftext|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|image_pad|>",
    "<|video_pad|>",
)
"""The tokens Qwen3-VL's presentation of an image needs, besides bytes."""

GEMMA_SPECIAL = ("<pad>", "<eos>", "<bos>", "<unk>", "<mask>")

QWEN3_VL_32B_TEXT: Mapping[str, Any] = {
    "hidden_size": 5120,
    "intermediate_size": 25600,
    "num_hidden_layers": 64,
    "num_attention_heads": 64,
    "num_key_value_heads": 8,
    "head_dim": 128,
    "vocab_size": 151936,
    "rope_parameters": {
        "rope_type": "default",
        "rope_theta": 5000000.0,
        "mrope_section": [24, 20, 20],
        "mrope_interleaved": True,
    },
}
"""Qwen3-VL-32B's language model: MiniMax-H3 reads its 50th layer's hidden state."""

QWEN3_VL_32B_VISION: Mapping[str, Any] = {
    "depth": 27,
    "hidden_size": 1152,
    "intermediate_size": 4304,
    "num_heads": 16,
    "out_hidden_size": 5120,
    "patch_size": 16,
    "spatial_merge_size": 2,
    "temporal_patch_size": 2,
    "deepstack_visual_indexes": [8, 16, 24],
    "num_position_embeddings": 2304,
}

GEMMA3_12B_TEXT: Mapping[str, Any] = {
    "hidden_size": 3840,
    "intermediate_size": 15360,
    "num_hidden_layers": 48,
    "num_attention_heads": 16,
    "num_key_value_heads": 8,
    "head_dim": 256,
    "vocab_size": 262208,
    "sliding_window": 1024,
    "query_pre_attn_scalar": 256,
}
"""Gemma 3 12B's language model, LTX-2's text encoder (every layer's hidden state is read)."""

GEMMA3_12B_VISION: Mapping[str, Any] = {
    "hidden_size": 1152,
    "intermediate_size": 4304,
    "num_hidden_layers": 27,
    "num_attention_heads": 16,
    "image_size": 896,
    "patch_size": 14,
}
"""Gemma 3's SigLIP image encoder (loaded with the text encoder, unused by LTX-2's prompts)."""

H3_AUDIO_LATENTS = 32
LTX2_GEMMA_IMAGE_TOKENS = 256


def qwen_tokenizer() -> Qwen2Tokenizer:
    """A byte-level BPE tokenizer (Qwen2's kind) over the 256 bytes and Qwen's vision tokens."""
    vocab = {symbol: index for index, symbol in enumerate(bytes_to_unicode().values())}
    vocab |= {token: len(vocab) + offset for offset, token in enumerate(QWEN_SPECIAL)}
    return Qwen2Tokenizer(vocab=vocab, merges=[], additional_special_tokens=list(QWEN_SPECIAL[1:]))


def gemma_tokenizer() -> GemmaTokenizer:
    """A Gemma tokenizer over byte pieces (every text falls back to them), letters and ``▁``."""
    pieces = [*GEMMA_SPECIAL, *(f"<0x{byte:02X}>" for byte in range(256)), "\u2581"]
    pieces += [chr(code) for code in range(ord("a"), ord("z") + 1)]
    return GemmaTokenizer(vocab={piece: index for index, piece in enumerate(pieces)}, merges=[])


def qwen3_vl(text: Mapping[str, Any], vision: Mapping[str, Any], tokenizer: Any) -> Any:
    """A Qwen3-VL model whose vision tokens are ``tokenizer``'s."""
    ids = {token: tokenizer.convert_tokens_to_ids(token) for token in QWEN_SPECIAL}
    config = Qwen3VLConfig(
        text_config=dict(text),
        vision_config=dict(vision),
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
    )
    return Qwen3VLForConditionalGeneration(config)


def gemma3(text: Mapping[str, Any], vision: Mapping[str, Any], image_tokens: int) -> Any:
    """A Gemma 3 model (text and image encoder) of the given sizes."""
    config = Gemma3Config(
        text_config=dict(text),
        vision_config=dict(vision),
        mm_tokens_per_image=image_tokens,
        image_token_index=int(text["vocab_size"]) - 1,
    )
    return Gemma3ForConditionalGeneration(config)


def h3_image_processor(patch_size: int) -> Qwen2VLImageProcessorPil:
    """Qwen3-VL's image processor (its Pillow form: no torchvision needed)."""
    return Qwen2VLImageProcessorPil(patch_size=patch_size, merge_size=2, temporal_patch_size=2)


Makers = dict[str, Callable[[], Any]]
"""How to make each of a pipeline's components, by name (each made where its caller says)."""


def h3_models() -> Makers:
    """How to make MiniMax-H3's components at full size."""
    tokenizer = qwen_tokenizer()
    return {
        "transformer": MiniMaxH3Transformer3DModel,
        "vae": AutoencoderKLMiniMaxH3,
        "audio_vae": lambda: AutoencoderKLMiniMaxH3Audio(
            latents_mean=[0.0] * H3_AUDIO_LATENTS, latents_std=[1.0] * H3_AUDIO_LATENTS
        ),
        "text_encoder": lambda: qwen3_vl(QWEN3_VL_32B_TEXT, QWEN3_VL_32B_VISION, tokenizer),
        "tokenizer": lambda: tokenizer,
    }


def ltx2_models() -> Makers:
    """How to make LTX-2's components at full size."""
    return {
        "transformer": LTX2VideoTransformer3DModel,
        "connectors": LTX2TextConnectors,
        # The published config states its ratios: derived from the blocks, they would be 64x16.
        "vae": lambda: AutoencoderKLLTX2Video(
            spatial_compression_ratio=32, temporal_compression_ratio=8, decoder_causal=False
        ),
        "audio_vae": AutoencoderKLLTX2Audio,
        "vocoder": LTX2Vocoder,
        "text_encoder": lambda: gemma3(GEMMA3_12B_TEXT, GEMMA3_12B_VISION, LTX2_GEMMA_IMAGE_TOKENS),
        "tokenizer": gemma_tokenizer,
    }


def h3_pipeline(models: dict[str, Any]) -> Any:
    """MiniMax-H3's ``t2va``/``fl2va`` modular pipeline over ``models``."""
    pipeline = MiniMaxH3Blocks().init_pipeline()
    processor = KeyframeProcessor(h3_image_processor(16), models["tokenizer"])
    pipeline.update_components(
        **models,
        processor=processor,
        scheduler=MiniMaxH3Scheduler(shift=12.0),
        audio_scheduler=MiniMaxH3Scheduler(shift=3.0),
    )
    return pipeline


def ltx2_pipeline(models: dict[str, Any]) -> Any:
    """LTX-2's condition pipeline over ``models``."""
    return LTX2ConditionPipeline(scheduler=FlowMatchEulerDiscreteScheduler(), **models)


@dataclass(frozen=True)
class Blueprint:
    """How to build one preset at full size, and what runs it."""

    models: Callable[[], Makers]
    pipeline: Callable[[dict[str, Any]], Any]
    renderer: Callable[[Any, EngineOptions, Any], Renderer]
    grid: Callable[[Any], Grid]
    float32: tuple[str, ...] = ()
    """Models its renderer loads in float32 whatever the route's dtype."""


BLUEPRINTS: Mapping[str, Blueprint] = {
    "minimax-h3": Blueprint(h3_models, h3_pipeline, minimax_h3.H3Renderer, minimax_h3.grid_of),
    "ltx-2": Blueprint(
        ltx2_models, ltx2_pipeline, ltx2.Ltx2Renderer, ltx2.grid_of, ltx2.FLOAT32_COMPONENTS
    ),
}
"""The presets built here."""


@contextmanager
def building(dtype: torch.dtype) -> Iterator[None]:
    """New modules' tensors made in ``dtype``."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


def make(
    preset: str, device: str | torch.device, dtype: torch.dtype, **devices: str
) -> dict[str, Any]:
    """``preset``'s components at full size with random weights, in ``dtype``, made on
    ``device`` (the meta device: no memory), or on the one ``devices`` names for them."""
    made: dict[str, Any] = {}
    with building(dtype):
        for name, maker in BLUEPRINTS[preset].models().items():
            with torch.device(devices.get(name, device)):
                made[name] = maker()
    return made


def build(preset: str, device: str | torch.device, dtype: torch.dtype, **devices: str) -> Any:
    """``preset``'s pipeline at full size with random weights (see :func:`make`), each
    model's float32 parts in float32, as its checkpoint and its renderer keep them."""
    models = make(preset, device, dtype, **devices)
    _float32_parts(models, BLUEPRINTS[preset].float32)
    return BLUEPRINTS[preset].pipeline(models)


def renderer_over(preset: str, options: dict[str, Any], pipeline: Any) -> Renderer:
    """``preset``'s renderer over a built ``pipeline``, with the route's ``options`` applied."""
    return BLUEPRINTS[preset].renderer(get_preset(preset), parse_options(options, preset), pipeline)


def _float32_parts(models: dict[str, Any], whole: tuple[str, ...]) -> None:
    for name, model in models.items():
        if name in whole:
            model.float()
        else:
            keep_in_float32(model)


def keep_in_float32(model: Any) -> None:
    """Cast the parameters a diffusers model keeps in float32 (``_keep_in_fp32_modules``)."""
    kept = getattr(model, "_keep_in_fp32_modules", None) or ()
    for name, parameter in model.named_parameters() if kept else ():
        if any(part in name for part in kept):
            parameter.data = parameter.data.float()


def parameter_counts(preset: str) -> dict[str, int]:
    """Parameters of each of ``preset``'s models at full size, counted on the meta device."""
    return dict(_sizes(preset, None, count_bytes=False))


def weight_bytes(preset: str, fp8: str | None = None) -> dict[str, int]:
    """Bytes of each of ``preset``'s models' weights, in bfloat16 with their float32 parts,
    and with ``fp8`` (None, "transformer" or "all") applied: built on the meta device."""
    return dict(_sizes(preset, fp8, count_bytes=True))


@lru_cache(maxsize=16)
def _sizes(preset: str, fp8: str | None, *, count_bytes: bool) -> tuple[tuple[str, int], ...]:
    models = make(preset, "meta", torch.bfloat16)
    _float32_parts(models, BLUEPRINTS[preset].float32)
    memory.use_fp8(SimpleNamespace(**models), fp8, torch.bfloat16)
    return tuple(
        (name, sum(p.numel() * (p.element_size() if count_bytes else 1) for p in m.parameters()))
        for name, m in _modules(models)
    )


def _modules(models: dict[str, Any]) -> Iterator[tuple[str, torch.nn.Module]]:
    return ((name, m) for name, m in models.items() if isinstance(m, torch.nn.Module))


@dataclass(frozen=True)
class Setup:
    """A way to run a preset on one GPU: a name, and the route options that make it."""

    name: str
    options: dict[str, Any] = field(default_factory=dict)

    def resident_bytes(self, preset: str) -> int:
        """Bytes of weights that stay on the GPU (an offloaded text encoder visits it, alone
        with the VAEs, only to read the prompt)."""
        options = parse_options(self.options, preset)
        weights = weight_bytes(preset, options.fp8)
        offloaded = {"text_encoder"} if options.text_encoder_offload else set()
        return sum(size for name, size in weights.items() if name not in offloaded)


SETUPS = (
    Setup("bf16"),
    Setup("bf16, text encoder offloaded", {"text_encoder_offload": True}),
    Setup(
        "fp8 transformer, text encoder offloaded",
        {"fp8": "transformer", "text_encoder_offload": True},
    ),
)
"""From the fastest to the leanest: the first whose weights and activations fit is used."""
