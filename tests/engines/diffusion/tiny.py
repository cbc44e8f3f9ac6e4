"""Tiny random-weight pipelines of every preset, built from configs here, with no hub access.

Each builder makes the pipeline class and component layout of one preset's real weights at
a toy size (a one-layer T5 text encoder over an in-memory vocabulary, a few-channel VAE and
transformer), so that :func:`save_tiny` writes a folder the engine loads through its real
path (``from_pretrained(folder, local_files_only=True)``). A render of a few frames at
64x32 takes a fraction of a second on a CPU.

MiniMax-H3's and LTX-2's make sound as their real models do: their audio VAEs (and LTX-2's
vocoder) are sized for 8 kHz, where the real ones run at 32 and 24 kHz, and their text
encoders (Qwen3-VL, Gemma 3) read byte tokenizers built in memory
(:mod:`conch.engines.diffusion.blueprints`). H3's Qwen3-VL has 51 layers of width 16: the
pipeline reads the 50th layer's hidden state. Reused by the API end-to-end tests::

    from engines.diffusion.tiny import save_tiny, tiny_route
    folder = save_tiny("ltx-video", tmp_path / "ltx")
    settings = Settings(models={"MiniMax-Hailuo-02": tiny_route("ltx-video", folder)})

:func:`save_tiny_upsampler` writes LTX's latent upsampler in the layout of its published
repository (``Lightricks/ltxv-spatial-upscaler-0.9.7``: ``model_index.json``, ``vae/``,
``latent_upsampler/``), for the ``upsampler`` option to name.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from diffusers import (
    AutoencoderKLLTX2Audio,
    AutoencoderKLLTX2Video,
    AutoencoderKLLTXVideo,
    AutoencoderKLMiniMaxH3,
    AutoencoderKLMiniMaxH3Audio,
    AutoencoderKLWan,
    FlowMatchEulerDiscreteScheduler,
    LTX2ConditionPipeline,
    LTX2VideoTransformer3DModel,
    LTXConditionPipeline,
    LTXLatentUpsamplePipeline,
    LTXVideoTransformer3DModel,
    MiniMaxH3Scheduler,
    MiniMaxH3Transformer3DModel,
    UniPCMultistepScheduler,
    WanImageToVideoPipeline,
    WanPipeline,
    WanTransformer3DModel,
)
from diffusers.modular_pipelines import MiniMaxH3Blocks
from diffusers.pipelines.ltx.modeling_latent_upsampler import LTXLatentUpsamplerModel
from diffusers.pipelines.ltx2 import LTX2TextConnectors, LTX2Vocoder
from transformers import (
    CLIPImageProcessor,
    CLIPVisionConfig,
    CLIPVisionModelWithProjection,
    T5Config,
    T5EncoderModel,
    T5Tokenizer,
)

from conch.config import ModelRoute
from conch.engines.diffusion.blueprints import (
    gemma3,
    gemma_tokenizer,
    h3_image_processor,
    qwen3_vl,
    qwen_tokenizer,
)

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


SOUND_RATE = 8000
"""The tiny audio models' sample rate (an AAC rate, so the encoder's resampling is real)."""

H3_TEXT_LAYERS = 51
"""MiniMax-H3 reads hidden state 50 of its text encoder, which needs more than 50 layers."""


def tiny_h3() -> Any:
    """MiniMax-H3's modular pipeline: a 16x spatial, 17k+5-frame VAE (its real geometry, so
    its canvas is on the real 32-pixel grid), a mono audio VAE at 40 latents a second, and a
    Qwen3-VL text encoder. Its processor is saved apart (:func:`save_h3_processor`)."""
    torch.manual_seed(0)
    tokenizer = qwen_tokenizer()
    text = {
        "hidden_size": TEXT_DIM,
        "num_hidden_layers": H3_TEXT_LAYERS,
        "intermediate_size": 16,
        "num_attention_heads": 2,
        "num_key_value_heads": 2,
        "head_dim": 8,
        "vocab_size": len(tokenizer),
        "rope_parameters": {"rope_type": "default", "mrope_section": [1, 1, 2]},
    }
    vision = {
        "depth": 1,
        "hidden_size": 16,
        "intermediate_size": 16,
        "num_heads": 2,
        "out_hidden_size": TEXT_DIM,
        "patch_size": 4,
        "deepstack_visual_indexes": [0],
        "num_position_embeddings": 64,
    }
    pipeline = MiniMaxH3Blocks().init_pipeline()
    pipeline.update_components(
        text_encoder=qwen3_vl(text, vision, tokenizer),
        tokenizer=tokenizer,
        transformer=MiniMaxH3Transformer3DModel(
            num_attention_heads=2,
            attention_head_dim=12,
            hidden_size=16,
            num_layers=1,
            num_refiner_layers=1,
            ffn_dim=32,
            in_channels=4,
            audio_in_channels=4,
            text_dim=TEXT_DIM,
            freq_dim=16,
            time_embed_hidden_dim=16,
            time_embed_dim=8,
            rope_freq_dim=2,
        ),
        vae=_h3_vae(),
        audio_vae=_h3_audio_vae(),
        scheduler=MiniMaxH3Scheduler(shift=12.0),
        audio_scheduler=MiniMaxH3Scheduler(shift=3.0),
    )
    return pipeline


def _h3_vae() -> AutoencoderKLMiniMaxH3:
    return AutoencoderKLMiniMaxH3(
        latent_channels=4,
        block_out_channels=(8, 16),
        layers_per_block=1,
        spatial_downsample_factors=(4, 4),
        temporal_downsample_factors=(2, 2),
        norm_num_groups=4,
        decoder_num_layers=1,
        decoder_num_attention_heads=2,
        decoder_attention_head_dim=8,
        decoder_num_register_tokens=2,
        decoder_ffn_mult=2,
        latents_mean=(0.0,) * 4,
        latents_std=(1.0,) * 4,
    )


def _h3_audio_vae() -> AutoencoderKLMiniMaxH3Audio:
    # Hops of 200 samples at 8 kHz: 40 latents a second, as the real one's 800 at 32 kHz.
    return AutoencoderKLMiniMaxH3Audio(
        encoder_dim=4,
        encoder_rates=(2, 4, 5, 5),
        latent_dim=8,
        latent_channels=4,
        num_attention_heads=2,
        decoder_dim=64,
        decoder_rates=(5, 5, 2, 2, 2),
        decoder_kernel_sizes=(9, 9, 4, 4, 4),
        resblock_kernel_sizes=(3,),
        resblock_dilation_sizes=((1,),),
        sampling_rate=SOUND_RATE,
        latents_mean=[0.0] * 4,
        latents_std=[1.0] * 4,
    )


def save_h3_processor(folder: Path) -> None:
    """Qwen3-VL's processor folder as MiniMax-H3 publishes it: its tokenizer, and one
    ``processor_config.json`` holding the image and video processors' settings."""
    images = h3_image_processor(patch_size=4)
    qwen_tokenizer().save_pretrained(folder)
    config = {
        "processor_class": "Qwen3VLProcessor",
        "image_processor": images.to_dict(),
        "video_processor": {"patch_size": 4, "merge_size": 2, "temporal_patch_size": 2},
    }
    (folder / "processor_config.json").write_text(json.dumps(config, indent=2))


def tiny_ltx2() -> LTX2ConditionPipeline:
    """LTX-2's condition pipeline: its real 32x spatial, 8x temporal VAE geometry (4-pixel
    patches, three spatiotemporal stages), a Gemma 3 text encoder, and sound at 8 kHz."""
    torch.manual_seed(0)
    tokenizer = gemma_tokenizer()
    text = {
        "hidden_size": TEXT_DIM,
        "num_hidden_layers": 2,
        "intermediate_size": 16,
        "num_attention_heads": 2,
        "num_key_value_heads": 1,
        "head_dim": 8,
        "vocab_size": len(tokenizer),
        "sliding_window": 16,
    }
    vision = {
        "hidden_size": 8,
        "num_hidden_layers": 1,
        "intermediate_size": 8,
        "num_attention_heads": 2,
        "image_size": 8,
        "patch_size": 4,
    }
    return LTX2ConditionPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(),
        vae=_ltx2_vae(),
        audio_vae=_ltx2_audio_vae(),
        text_encoder=gemma3(text, vision, image_tokens=4),
        tokenizer=tokenizer,
        connectors=_ltx2_connectors(int(text["num_hidden_layers"])),
        transformer=LTX2VideoTransformer3DModel(
            in_channels=4,
            out_channels=4,
            patch_size=1,
            patch_size_t=1,
            num_attention_heads=2,
            attention_head_dim=8,
            cross_attention_dim=16,
            audio_in_channels=4,
            audio_out_channels=4,
            audio_num_attention_heads=2,
            audio_attention_head_dim=4,
            audio_cross_attention_dim=8,
            num_layers=1,
            qk_norm="rms_norm_across_heads",
            caption_channels=TEXT_DIM,
            rope_double_precision=False,
            rope_type="split",
        ),
        vocoder=LTX2Vocoder(
            in_channels=2 * 8,  # the audio VAE's 2 channels of 8 mel bins
            hidden_channels=32,
            out_channels=2,
            upsample_kernel_sizes=[10, 8, 4, 4],
            upsample_factors=[5, 4, 2, 2],  # 80: the mel hop, in samples
            resnet_kernel_sizes=[3],
            resnet_dilations=[[1, 3, 5]],
            output_sampling_rate=SOUND_RATE,
        ),
    )


def _ltx2_vae() -> AutoencoderKLLTX2Video:
    return AutoencoderKLLTX2Video(
        latent_channels=4,
        block_out_channels=(8, 8, 8),
        down_block_types=("LTX2VideoDownBlock3D",) * 3,
        decoder_block_out_channels=(8, 8, 8),
        layers_per_block=(1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1),
        spatio_temporal_scaling=(True, True, True),
        decoder_spatio_temporal_scaling=(True, True, True),
        decoder_inject_noise=(False,) * 4,
        downsample_type=("spatiotemporal",) * 3,
        upsample_type=("spatiotemporal",) * 3,
        upsample_residual=(False,) * 3,
        upsample_factor=(1, 1, 1),
        timestep_conditioning=False,
        patch_size=4,
        patch_size_t=1,
        decoder_causal=False,
        # A tiny frame is one latent row high: reflect padding needs two.
        decoder_spatial_padding_mode="zeros",
    )


def _ltx2_audio_vae() -> AutoencoderKLLTX2Audio:
    return AutoencoderKLLTX2Audio(
        base_channels=4,
        output_channels=2,
        ch_mult=(1,),
        num_res_blocks=1,
        attn_resolutions=None,
        in_channels=2,
        resolution=32,
        latent_channels=2,
        norm_type="pixel",
        causality_axis="height",
        dropout=0.0,
        mid_block_add_attention=False,
        sample_rate=SOUND_RATE,
        mel_hop_length=80,
        is_causal=True,
        mel_bins=8,
    )


def _ltx2_connectors(text_layers: int) -> LTX2TextConnectors:
    return LTX2TextConnectors(
        caption_channels=TEXT_DIM,
        text_proj_in_factor=text_layers + 1,  # every hidden state, the embeddings' too
        video_connector_num_attention_heads=2,
        video_connector_attention_head_dim=TEXT_DIM // 2,
        video_connector_num_layers=1,
        video_connector_num_learnable_registers=None,
        audio_connector_num_attention_heads=2,
        audio_connector_attention_head_dim=TEXT_DIM // 2,
        audio_connector_num_layers=1,
        audio_connector_num_learnable_registers=None,
        connector_rope_base_seq_len=32,
        rope_double_precision=False,
        rope_type="split",
    )


BUILDERS: dict[str, Callable[[], Any]] = {
    "ltx-video": tiny_ltx,
    "wan2.1-flf2v-14b": tiny_wan_flf2v,
    "wan2.2-i2v-a14b": tiny_wan_i2v_a14b,
    "wan2.2-ti2v-5b": tiny_wan_ti2v,
    "minimax-h3": tiny_h3,
    "ltx-2": tiny_ltx2,
}
"""A tiny pipeline builder for each preset."""


def save_tiny(preset: str, folder: Path, upsampler: bool = True) -> Path:
    """Write ``preset``'s tiny pipeline to ``folder`` (LTX: with ``latent_upsampler/``;
    MiniMax-H3: as a modular pipeline, with its processor)."""
    pipeline = BUILDERS[preset]()
    if preset == "minimax-h3":
        # str: the modular pipeline names its index entries after the folder's path.
        pipeline.save_pretrained(str(folder), overwrite_modular_index=True)
        save_h3_processor(folder / "processor")
    else:
        pipeline.save_pretrained(folder)
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
