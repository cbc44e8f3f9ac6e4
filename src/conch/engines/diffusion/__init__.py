"""The GPU ``diffusion`` engine: LTX-Video, Wan, LTX-2 and MiniMax-H3 through diffusers,
behind the same API (the last two make the video's sound too).

Configure it per public model name in ``conch.toml`` (the lead's ``Settings.models``)::

    [models."MiniMax-Hailuo-02"]             # text, image, first+last
    engine = "diffusion"
    preset = "ltx-video"                     # the default preset
    weights = "/models/LTX-Video-0.9.7-distilled"
    options = { dtype = "bfloat16", upsampler = "/models/ltxv-spatial-upscaler-0.9.7" }

    [models."MiniMax-Hailuo-2.3"]            # text, image
    engine = "diffusion"
    preset = "wan2.2-ti2v-5b"
    weights = "/models/Wan2.2-TI2V-5B-Diffusers"
    options = { cpu_offload = true }

    [models."S2V-01"]                        # subject reference, as an opening frame
    engine = "diffusion"
    preset = "wan2.2-i2v-a14b"               # no weights: the local model cache

    [models."T2V-01"]                        # video with sound
    engine = "diffusion"
    preset = "ltx-2"
    options = { fp8 = true, text_encoder_offload = true }

Presets and their modes: :mod:`conch.engines.diffusion.presets`; options:
:mod:`conch.engines.diffusion.options`; where weights come from (never downloaded):
:mod:`conch.engines.diffusion.weights`. A wrong preset, option or weights path is a
``ValueError`` from :func:`validate_route`, which the server calls at start-up.

Each runner process that serves a diffusion route loads the model once and keeps it, so
run one runner per GPU (``workers = 1`` on a one-GPU machine).

Importing this package does not import torch or diffusers; building an engine does.
"""

from conch.engines.diffusion.engine import DiffusionEngine
from conch.engines.diffusion.presets import (
    DEFAULT_PRESET,
    PRESETS,
    Preset,
    get_preset,
    makes_sound,
    preset_modes,
    validate_route,
)

__all__ = [
    "DEFAULT_PRESET",
    "PRESETS",
    "DiffusionEngine",
    "Preset",
    "get_preset",
    "makes_sound",
    "preset_modes",
    "validate_route",
]
