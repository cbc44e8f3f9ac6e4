"""The operator's knobs for one diffusion route: ``route.options`` in ``conch.toml``.

========================  ==================================================================
option                    meaning (default)
========================  ==================================================================
``dtype``                 ``"bfloat16"``, ``"float16"`` or ``"float32"`` (bfloat16 on a GPU,
                          float32 on the CPU). Wan's VAE and CLIP image encoder always run in
                          float32. With float16, the T5/UMT5 text encoder runs in bfloat16 if
                          the GPU has it natively, else float32: T5 overflows in float16.
``device``                ``"cuda"``, ``"cuda:1"``, ``"cpu"``, ... (the first GPU if any, else CPU)
``fp8``                   ``"transformer"`` (or ``true``): keep the video transformer's weights
                          in float8 (e4m3) and compute each layer in ``dtype``; ``"all"``: the
                          text encoder's too; ``false`` (diffusers' layerwise casting: half
                          the weights' memory, a little slower, norms and embeddings kept)
``text_encoder_offload``  keep the text encoder in CPU memory; it reads a prompt with its
                          layers visiting the GPU one at a time (``false``)
``cpu_offload``           ``true`` / ``"model"``: whole models move to the GPU in turn;
                          ``"sequential"``: layer by layer (slowest, least memory; not for
                          MiniMax-H3); ``false``
``vae_tiling``            decode in tiles to save memory (on when the device is a GPU; always
                          on for MiniMax-H3 unless ``false``: its released output is tiled)
``attention_backend``     diffusers' attention backend for the transformer: ``"native"``
                          (torch SDPA, the default), ``"flex"``, ``"_native_flash"``,
                          ``"_native_cudnn"``, ``"_native_efficient"``, ``"_native_math"``
``steps``                 denoising steps, overriding the preset's
``guidance_scale``        classifier-free guidance, overriding the preset's
``max_area``              the largest frame rendered natively, in pixels (the preset's)
``max_frames``            the most frames rendered in one pass (the preset's)
``upsampler``             LTX only: a folder holding the 2x latent upsampler (either the
                          ``LTXLatentUpsamplePipeline`` folder or its ``latent_upsampler``
                          model folder), or ``false`` to render large frames without it
========================  ==================================================================

Import-light: no torch here; dtype names stay strings until the engine loads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

DTYPES = {
    "bfloat16": "bfloat16",
    "bf16": "bfloat16",
    "float16": "float16",
    "fp16": "float16",
    "half": "float16",
    "float32": "float32",
    "fp32": "float32",
    "float": "float32",
}
"""Accepted spellings of a dtype, each to its torch name."""

OFFLOAD_MODES = ("model", "sequential")
_DEVICE = re.compile(r"^(cpu|mps|cuda(:\d+)?|xpu(:\d+)?)$")

FP8_SCOPES = ("transformer", "all")
"""What ``fp8`` stores in float8: the video transformer(s), or the text encoder as well."""

ATTENTION_BACKENDS = (
    "native",
    "flex",
    "_native_flash",
    "_native_cudnn",
    "_native_efficient",
    "_native_math",
)
"""diffusers' attention backends that torch alone provides (no extra kernel package)."""


@dataclass(frozen=True)
class EngineOptions:
    """Parsed ``route.options``; None means "the preset's or the machine's default"."""

    dtype: str | None = None
    device: str | None = None
    fp8: str | None = None
    """None, or one of :data:`FP8_SCOPES`."""
    text_encoder_offload: bool = False
    cpu_offload: str | None = None
    vae_tiling: bool | None = None
    attention_backend: str | None = None
    steps: int | None = None
    guidance_scale: float | None = None
    max_area: int | None = None
    max_frames: int | None = None
    upsampler: Path | Literal[False] | None = None
    """A folder holding the LTX upsampler; False: none; None: look for it."""


def parse_options(options: dict[str, Any], preset: str) -> EngineOptions:
    """Check and read ``options``; ValueError names the bad key and what is allowed."""
    unknown = sorted(set(options) - set(_READERS))
    if unknown:
        raise ValueError(
            f"diffusion preset {preset!r}: unknown option(s) {', '.join(unknown)}; "
            f"known options: {', '.join(_READERS)}"
        )
    values: dict[str, Any] = {}
    for key, value in options.items():
        try:
            values.update(_READERS[key](value))
        except (TypeError, ValueError) as error:
            raise ValueError(f"diffusion preset {preset!r}: options.{key}: {error}") from None
    return EngineOptions(**values)


def _dtype(value: Any) -> dict[str, Any]:
    name = DTYPES.get(str(value).lower())
    if name is None:
        raise ValueError(f"must be one of bfloat16, float16, float32; got {value!r}")
    return {"dtype": name}


def _device(value: Any) -> dict[str, Any]:
    if not isinstance(value, str) or not _DEVICE.match(value):
        raise ValueError(f"must be a torch device such as 'cuda', 'cuda:1' or 'cpu'; got {value!r}")
    return {"device": value}


def _offload(value: Any) -> dict[str, Any]:
    if value is True:
        return {"cpu_offload": "model"}
    if value is False:
        return {"cpu_offload": None}
    if value in OFFLOAD_MODES:
        return {"cpu_offload": value}
    raise ValueError(f"must be true, false, 'model' or 'sequential'; got {value!r}")


def _fp8(value: Any) -> dict[str, Any]:
    if value is True:
        return {"fp8": "transformer"}
    if value is False:
        return {"fp8": None}
    if value in FP8_SCOPES:
        return {"fp8": value}
    raise ValueError(f"must be true, false, 'transformer' or 'all'; got {value!r}")


def _attention(value: Any) -> dict[str, Any]:
    if value not in ATTENTION_BACKENDS:
        raise ValueError(f"must be one of {', '.join(ATTENTION_BACKENDS)}; got {value!r}")
    return {"attention_backend": value}


def _flag(key: str) -> Any:
    def read(value: Any) -> dict[str, Any]:
        if not isinstance(value, bool):
            raise ValueError(f"must be true or false; got {value!r}")
        return {key: value}

    return read


def _positive(key: str, kind: type) -> Any:
    def read(value: Any) -> dict[str, Any]:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"must be a positive number; got {value!r}")
        if kind is int and value != int(value):
            raise ValueError(f"must be a whole number; got {value!r}")
        if value <= 0:
            raise ValueError(f"must be positive; got {value!r}")
        return {key: kind(value)}

    return read


def _guidance(value: Any) -> dict[str, Any]:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"must be a number >= 0; got {value!r}")
    return {"guidance_scale": float(value)}


def _upsampler(value: Any) -> dict[str, Any]:
    if value is False:
        return {"upsampler": False}
    if not isinstance(value, str) or not value:
        raise ValueError(f"must be a folder path or false; got {value!r}")
    folder = Path(value).expanduser()
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a directory")
    return {"upsampler": folder}


_READERS = {
    "dtype": _dtype,
    "device": _device,
    "fp8": _fp8,
    "text_encoder_offload": _flag("text_encoder_offload"),
    "cpu_offload": _offload,
    "vae_tiling": _flag("vae_tiling"),
    "attention_backend": _attention,
    "steps": _positive("steps", int),
    "guidance_scale": _guidance,
    "max_area": _positive("max_area", int),
    "max_frames": _positive("max_frames", int),
    "upsampler": _upsampler,
}
