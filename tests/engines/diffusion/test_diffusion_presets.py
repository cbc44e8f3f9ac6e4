"""Presets, their modes, and the start-up check of a diffusion route (no torch needed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conch.config import ModelRoute, Settings
from conch.domain.catalog import Mode
from conch.engines.diffusion.options import EngineOptions, parse_options
from conch.engines.diffusion.presets import (
    DEFAULT_PRESET,
    LTX_DISTILLED_TIMESTEPS,
    PRESETS,
    Family,
    Sampling,
    get_preset,
    makes_sound,
    preset_modes,
    refusal,
    sampling,
    validate_route,
)
from conch.engines.registry import check_routes, modes_of

ALL_MODES = frozenset(Mode)


def pipeline_folder(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "model_index.json").write_text("{}")
    return path


def test_the_default_preset_is_ltx_and_serves_every_mode() -> None:
    assert DEFAULT_PRESET == "ltx-video"
    assert preset_modes(None) == ALL_MODES
    assert get_preset(None).title.startswith("LTX-Video")


def test_each_wan_preset_offers_only_what_its_pipeline_can_do() -> None:
    assert preset_modes("wan2.1-flf2v-14b") == {Mode.FIRST_LAST}
    assert preset_modes("wan2.2-i2v-a14b") == {Mode.IMAGE, Mode.FIRST_LAST, Mode.SUBJECT}
    # TI2V-5B ignores a last frame: first+last must never be routed to it.
    assert Mode.FIRST_LAST not in preset_modes("wan2.2-ti2v-5b")
    assert Mode.TEXT in preset_modes("wan2.2-ti2v-5b")


def test_the_registry_asks_the_presets_for_modes() -> None:
    route = ModelRoute(engine="diffusion", preset="wan2.2-ti2v-5b")
    assert modes_of(route) == preset_modes("wan2.2-ti2v-5b")


def test_an_unknown_preset_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown diffusion preset 'sora'.*ltx-video"):
        preset_modes("sora")


def test_a_missing_weights_path_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "LTX-Video"
    route = ModelRoute(engine="diffusion", weights=missing)
    with pytest.raises(ValueError, match=f"weights path {missing} does not exist"):
        validate_route(route)


def test_weights_must_be_a_diffusers_folder(tmp_path: Path) -> None:
    file = tmp_path / "weights.safetensors"
    file.write_bytes(b"")
    with pytest.raises(ValueError, match="is not a directory"):
        validate_route(ModelRoute(engine="diffusion", weights=file))
    with pytest.raises(ValueError, match=r"no model_index\.json"):
        validate_route(ModelRoute(engine="diffusion", weights=tmp_path))


def test_without_weights_the_model_cache_must_hold_the_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(ValueError, match=r"not in the local model cache.*huggingface-cli download"):
        validate_route(ModelRoute(engine="diffusion", preset="wan2.2-ti2v-5b"))


def test_a_good_route_passes(tmp_path: Path) -> None:
    weights = pipeline_folder(tmp_path / "ltx")
    options = {"dtype": "bf16", "cpu_offload": True, "steps": 6, "upsampler": str(tmp_path)}
    validate_route(ModelRoute(engine="diffusion", weights=weights, options=options))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"dtpye": "float16"}, "unknown option.*dtpye"),
        ({"dtype": "int8"}, "options.dtype: must be one of bfloat16, float16, float32"),
        ({"cpu_offload": "yes"}, "options.cpu_offload: must be true, false"),
        ({"steps": 0}, "options.steps: must be positive"),
        ({"steps": 2.5}, "options.steps: must be a whole number"),
        ({"device": "gpu0"}, "options.device: must be a torch device"),
        ({"upsampler": "/no/such/folder"}, "options.upsampler: /no/such/folder is not a directory"),
        ({"fp8": "int4"}, "options.fp8: must be true, false, 'transformer' or 'all'; got 'int4'"),
        ({"text_encoder_offload": "yes"}, "options.text_encoder_offload: must be true or false"),
        ({"attention_backend": "flash"}, "options.attention_backend: must be one of native, flex"),
    ],
)
def test_bad_options_are_named(tmp_path: Path, options: dict[str, object], message: str) -> None:
    weights = pipeline_folder(tmp_path / "ltx")
    with pytest.raises(ValueError, match=message):
        validate_route(ModelRoute(engine="diffusion", weights=weights, options=options))


def test_the_upsampler_option_is_for_ltx_only(tmp_path: Path) -> None:
    weights = pipeline_folder(tmp_path / "wan")
    route = ModelRoute(
        engine="diffusion",
        preset="wan2.2-i2v-a14b",
        weights=weights,
        options={"upsampler": str(tmp_path)},
    )
    with pytest.raises(ValueError, match="upsampler is for LTX only"):
        validate_route(route)


def test_server_start_up_checks_every_diffusion_route(tmp_path: Path) -> None:
    models = {"MiniMax-Hailuo-02": ModelRoute(engine="diffusion", weights=tmp_path / "gone")}
    with pytest.raises(ValueError, match="does not exist"):
        check_routes(Settings(models=models))


def test_each_preset_has_its_models_native_shape_and_rate() -> None:
    table = {name: (p.fps, p.max_area, p.max_frames) for name, p in PRESETS.items()}
    assert table == {
        "ltx-video": (24, 1376 * 768, 257),
        "wan2.1-flf2v-14b": (16, 1280 * 720, 81),
        "wan2.2-i2v-a14b": (16, 1280 * 720, 81),
        "wan2.2-ti2v-5b": (24, 1280 * 704, 121),
        "minimax-h3": (24, 768 * 1344, 345),
        "ltx-2": (24, 1376 * 768, 481),
    }
    # MiniMax-H3 renders 5 to 15 s: 124 to 345 frames in its 17k+5.
    assert (PRESETS["minimax-h3"].min_frames, PRESETS["ltx-2"].min_frames) == (124, 1)


def test_steps_and_guidance_are_the_presets_unless_the_route_sets_them() -> None:
    ltx, i2v = PRESETS["ltx-video"], PRESETS["wan2.2-i2v-a14b"]
    assert sampling(ltx, EngineOptions()) == Sampling(8, LTX_DISTILLED_TIMESTEPS, 1.0)
    assert sampling(ltx, EngineOptions(steps=4)) == Sampling(4, None, 1.0)
    assert sampling(i2v, EngineOptions()) == Sampling(40, None, 3.5)
    assert sampling(i2v, EngineOptions(steps=20, guidance_scale=0.0)) == Sampling(20, None, 0.0)


def test_refusals_name_the_field_at_fault() -> None:
    ltx, flf2v, ti2v = (PRESETS[n] for n in ("ltx-video", "wan2.1-flf2v-14b", "wan2.2-ti2v-5b"))
    assert refusal(ltx, Mode.FIRST_LAST, has_first_frame=False) is None
    assert refusal(flf2v, Mode.FIRST_LAST, has_first_frame=True) is None
    no_first = refusal(flf2v, Mode.FIRST_LAST, has_first_frame=False, model="MiniMax-Hailuo-02")
    assert no_first is not None and no_first.field == "first_frame_image"
    assert "MiniMax-Hailuo-02 runs on the Wan2.1-FLF2V-14B (720P) preset" in no_first.detail
    wrong_mode = refusal(ti2v, Mode.FIRST_LAST, has_first_frame=True)
    assert wrong_mode is not None and wrong_mode.field == "model"
    assert wrong_mode.detail.startswith("first-last-frame is not offered by the diffusion")
    assert "it offers image-to-video, subject-reference, text-to-video" in wrong_mode.detail


def test_the_upsampler_option_is_one_field() -> None:
    assert parse_options({}, "ltx-video").upsampler is None  # look for it
    assert parse_options({"upsampler": False}, "ltx-video").upsampler is False


def test_the_api_process_can_read_presets_without_torch() -> None:
    probe = (
        "import sys; import conch.engines.diffusion.presets as p; p.preset_modes(None); "
        "from conch.engines.diffusion import DiffusionEngine; "
        "assert 'torch' not in sys.modules and 'diffusers' not in sys.modules, 'heavy import'"
    )
    subprocess.run([sys.executable, "-c", probe], check=True, timeout=60)


def test_the_sound_presets_serve_every_mode_and_say_they_make_sound() -> None:
    for name in ("minimax-h3", "ltx-2"):
        assert preset_modes(name) == ALL_MODES
        assert makes_sound(name)
        # Both can end on a last frame alone, as LTX-Video can.
        assert refusal(PRESETS[name], Mode.FIRST_LAST, has_first_frame=False) is None
    assert not any(makes_sound(name) for name in PRESETS if name not in ("minimax-h3", "ltx-2"))
    assert not makes_sound(None)


def test_memory_options_are_read(tmp_path: Path) -> None:
    options = {"fp8": True, "text_encoder_offload": True, "attention_backend": "_native_flash"}
    parsed = parse_options(options, "ltx-2")
    assert (parsed.fp8, parsed.text_encoder_offload) == ("transformer", True)
    assert parsed.attention_backend == "_native_flash"
    assert parse_options({"fp8": "all"}, "ltx-2").fp8 == "all"
    assert parse_options({"fp8": False}, "ltx-2").fp8 is None
    weights = pipeline_folder(tmp_path / "ltx2")
    validate_route(ModelRoute(engine="diffusion", preset="ltx-2", weights=weights, options=options))


def test_the_attention_backends_offered_are_diffusers_own() -> None:
    from diffusers.models.attention_dispatch import AttentionBackendName

    from conch.engines.diffusion.options import ATTENTION_BACKENDS

    assert set(ATTENTION_BACKENDS) <= {backend.value for backend in AttentionBackendName}


def test_minimax_h3_weights_are_a_modular_pipeline_folder(tmp_path: Path) -> None:
    plain = pipeline_folder(tmp_path / "h3")  # model_index.json: not MiniMax-H3's layout
    route = ModelRoute(engine="diffusion", preset="minimax-h3", weights=plain)
    with pytest.raises(ValueError, match=r"no modular_model_index\.json"):
        validate_route(route)
    (plain / "modular_model_index.json").write_text("{}")
    validate_route(route)


def test_minimax_h3_refuses_sequential_offload(tmp_path: Path) -> None:
    weights = tmp_path / "h3"
    weights.mkdir()
    (weights / "modular_model_index.json").write_text("{}")
    route = ModelRoute(
        engine="diffusion",
        preset="minimax-h3",
        weights=weights,
        options={"cpu_offload": "sequential"},
    )
    with pytest.raises(ValueError, match="'sequential' is not offered for MiniMax-H3"):
        validate_route(route)
    assert PRESETS["minimax-h3"].family is Family.H3
