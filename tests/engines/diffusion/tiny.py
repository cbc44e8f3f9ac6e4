"""Tiny random-weight LTX and Wan pipelines, built from configs here, with no hub access.

Each builder makes the pipeline class and component layout of one preset's real weights at
a toy size (a one-layer T5 text encoder over an in-memory vocabulary, a few-channel VAE and
transformer), so that :func:`save_tiny` writes a folder the engine loads through its real
path (``from_pretrained(folder, local_files_only=True)``). A render of a few frames at
64x32 takes a fraction of a second on a CPU. Reused by the API end-to-end tests::

    from engines.diffusion.tiny import save_tiny, tiny_route
    folder = save_tiny("ltx-video", tmp_path / "ltx")
    settings = Settings(models={"MiniMax-Hailuo-02": tiny_route("ltx-video", folder)})

:func:`save_tiny_upsampler` writes LTX's latent upsampler in the layout of its published
repository (``Lightricks/ltxv-spatial-upscaler-0.9.7``: ``model_index.json``, ``vae/``,
``latent_upsampler/``), for the ``upsampler`` option to name.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from diffusers import (
    AutoencoderKLLTXVideo,
    AutoencoderKLWan,
    FlowMatchEulerDiscreteScheduler,
    LTXConditionPipeline,
    LTXLatentUpsamplePipeline,
    LTXVideoTransformer3DModel,
    UniPCMultistepScheduler,
    WanImageToVideoPipeline,
    WanPipeline,
    WanTransformer3DModel,
)
from diffusers.pipelines.ltx.modeling_latent_upsampler import LTXLatentUpsamplerModel
from transformers import (
    CLIPImageProcessor,
    CLIPVisionConfig,
    CLIPVisionModelWithProjection,
    T5Config,
    T5EncoderModel,
    T5Tokenizer,
)

from conch.config import ModelRoute

FAST_OPTIONS = {"dtype": "float32", "device": "cpu", "steps": 2}
"""Two denoising steps in float32 on the CPU: the shape of a render at a toy's cost."""

TEXT_DIM = 32
"""Width of the tiny text encoder's output (the transformers' caption/text dimension)."""

_WORDS = """
a the of and in on to with camera pans left right pushes pulls out rises lowers tilts up down
zooms shakes tracks stays still static shot subject scene cat dog girl runs walks sits smiles
light natural smooth motion real footage cinematic style
"""
VOCABULARY = tuple(_WORDS.split())
"""Words the tiny tokenizer knows; any other word is <unk>."""


def tiny_tokenizer() -> T5Tokenizer:
    """A T5 (unigram) tokenizer over :data:`VOCABULARY`, built in memory."""
    pieces = ["<pad>", "</s>", "<unk>", *(f"\u2581{word}" for word in VOCABULARY)]
    scores = [(piece, -float(rank)) for rank, piece in enumerate(pieces)]
    return T5Tokenizer(vocab=scores, extra_ids=0)


def tiny_text_encoder(vocab_size: int) -> T5EncoderModel:
    """A one-layer T5 encoder with :data:`TEXT_DIM` outputs."""
    config = T5Config(
        vocab_size=vocab_size,
        d_model=TEXT_DIM,
        d_kv=8,
        d_ff=37,
        num_layers=1,
        num_heads=4,
        relative_attention_num_buckets=8,
        dropout_rate=0.0,
    )
    return T5EncoderModel(config)


def _text() -> dict[str, Any]:
    tokenizer = tiny_tokenizer()
    return {"tokenizer": tokenizer, "text_encoder": tiny_text_encoder(len(tokenizer))}


def tiny_ltx() -> LTXConditionPipeline:
    """LTX-Video's condition pipeline: VAE 4x spatial, 4x temporal (so 4k+1 frames)."""
    torch.manual_seed(0)
    transformer = LTXVideoTransformer3DModel(
        in_channels=8,
        out_channels=8,
        patch_size=1,
        patch_size_t=1,
        num_attention_heads=2,
        attention_head_dim=8,
        cross_attention_dim=16,
        num_layers=1,
        caption_channels=TEXT_DIM,
    )
    scheduler = FlowMatchEulerDiscreteScheduler()
    return LTXConditionPipeline(
        transformer=transformer, vae=_ltx_vae(), scheduler=scheduler, **_text()
    )


def _ltx_vae() -> AutoencoderKLLTXVideo:
    return AutoencoderKLLTXVideo(
        in_channels=3,
        out_channels=3,
        latent_channels=8,
        block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8),
        layers_per_block=(1, 1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1, 1),
        spatio_temporal_scaling=(True, True, False, False),
        decoder_spatio_temporal_scaling=(True, True, False, False),
        decoder_inject_noise=(False, False, False, False, False),
        upsample_residual=(False, False, False, False),
        upsample_factor=(1, 1, 1, 1),
        timestep_conditioning=False,
        patch_size=1,
        patch_size_t=1,
        encoder_causal=True,
        decoder_causal=False,
    )


def tiny_ltx_upsampler() -> LTXLatentUpsamplerModel:
    """LTX's 2x spatial latent upsampler over the tiny VAE's 8 latent channels."""
    torch.manual_seed(0)
    return LTXLatentUpsamplerModel(in_channels=8, mid_channels=32, num_blocks_per_stage=1)


def _wan_vae() -> AutoencoderKLWan:
    return AutoencoderKLWan(
        base_dim=3,
        z_dim=16,
        dim_mult=[1, 1, 1, 1],
        num_res_blocks=1,
        temperal_downsample=[False, True, True],
    )


def _wan_transformer(in_channels: int, out_channels: int, **extra: Any) -> WanTransformer3DModel:
    return WanTransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=2,
        attention_head_dim=12,
        in_channels=in_channels,
        out_channels=out_channels,
        text_dim=TEXT_DIM,
        freq_dim=256,
        ffn_dim=32,
        num_layers=1,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        rope_max_seq_len=32,
        **extra,
    )


def _wan_scheduler() -> UniPCMultistepScheduler:
    return UniPCMultistepScheduler(
        prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=3.0
    )


CLIP_TOKENS = 17
"""The tiny CLIP's tokens per image: (32 / 8) ** 2 patches plus the class token."""


def tiny_wan_flf2v() -> WanImageToVideoPipeline:
    """Wan2.1-FLF2V's layout: a CLIP image encoder whose two images' tokens are positioned."""
    torch.manual_seed(0)
    image_encoder = CLIPVisionModelWithProjection(
        CLIPVisionConfig(
            hidden_size=4,
            projection_dim=4,
            num_hidden_layers=2,
            num_attention_heads=2,
            image_size=32,
            intermediate_size=16,
            patch_size=8,
        )
    )
    transformer = _wan_transformer(36, 16, image_dim=4, pos_embed_seq_len=2 * CLIP_TOKENS)
    return WanImageToVideoPipeline(
        transformer=transformer,
        vae=_wan_vae(),
        scheduler=_wan_scheduler(),
        image_encoder=image_encoder,
        image_processor=CLIPImageProcessor(crop_size=32, size=32),
        **_text(),
    )


def tiny_wan_i2v_a14b() -> WanImageToVideoPipeline:
    """Wan2.2-I2V-A14B's layout: a high-noise and a low-noise transformer, no image encoder."""
    torch.manual_seed(0)
    return WanImageToVideoPipeline(
        transformer=_wan_transformer(36, 16),
        transformer_2=_wan_transformer(36, 16),
        boundary_ratio=0.875,
        vae=_wan_vae(),
        scheduler=_wan_scheduler(),
        **_text(),
    )


def tiny_wan_ti2v() -> WanPipeline:
    """Wan2.2-TI2V-5B's layout: a 48-channel VAE at 16x spatial, per-token timesteps."""
    torch.manual_seed(0)
    vae = AutoencoderKLWan(
        base_dim=3,
        z_dim=48,
        in_channels=12,
        out_channels=12,
        is_residual=True,
        patch_size=2,
        latents_mean=[0.0] * 48,
        latents_std=[1.0] * 48,
        dim_mult=[1, 1, 1, 1],
        num_res_blocks=1,
        scale_factor_spatial=16,
        scale_factor_temporal=4,
        temperal_downsample=[False, True, True],
    )
    return WanPipeline(
        transformer=_wan_transformer(48, 48),
        vae=vae,
        scheduler=_wan_scheduler(),
        expand_timesteps=True,
        **_text(),
    )


BUILDERS: dict[str, Callable[[], Any]] = {
    "ltx-video": tiny_ltx,
    "wan2.1-flf2v-14b": tiny_wan_flf2v,
    "wan2.2-i2v-a14b": tiny_wan_i2v_a14b,
    "wan2.2-ti2v-5b": tiny_wan_ti2v,
}
"""A tiny pipeline builder for each preset."""


def save_tiny(preset: str, folder: Path, upsampler: bool = True) -> Path:
    """Write ``preset``'s tiny pipeline to ``folder`` (LTX: with ``latent_upsampler/``)."""
    BUILDERS[preset]().save_pretrained(folder)
    if preset == "ltx-video" and upsampler:
        tiny_ltx_upsampler().save_pretrained(folder / "latent_upsampler")
    return folder


def save_tiny_upsampler(folder: Path) -> Path:
    """Write LTX's tiny latent upsampler as its published pipeline folder is laid out."""
    upsampler = LTXLatentUpsamplePipeline(vae=_ltx_vae(), latent_upsampler=tiny_ltx_upsampler())
    upsampler.save_pretrained(folder)
    return folder


def tiny_route(preset: str, weights: Path | None, **options: object) -> ModelRoute:
    """A diffusion route with :data:`FAST_OPTIONS`, overridden by ``options``."""
    merged = {**FAST_OPTIONS, **options}
    return ModelRoute(engine="diffusion", preset=preset, weights=weights, options=merged)


def photo_frame(name: str, width: int, height: int) -> np.ndarray:
    """A real photo from scikit-image (astronaut, coffee, ...) stretched to a frame size."""
    from support.photos import photo

    resized = cv2.resize(photo(name), (width, height), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(resized)
