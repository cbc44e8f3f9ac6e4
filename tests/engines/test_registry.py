"""Engine routing: what each configured engine can serve, checked before a task exists."""

from __future__ import annotations

from pathlib import Path

import pytest

from conch.config import ModelRoute, Settings
from conch.domain.errors import EngineCannotServe
from conch.domain.request import GenerationRequest, validate
from conch.engines.registry import check_routes, check_servable, runner_count

IMG = "https://example.com/a.jpg"


def wan(preset: str) -> Settings:
    route = ModelRoute(engine="diffusion", preset=preset)
    return Settings(models={"MiniMax-Hailuo-02": route}, workers=4)


def test_the_motion_engine_serves_frames_only() -> None:
    settings = Settings()
    check_servable(
        settings, validate(GenerationRequest("MiniMax-Hailuo-02", first_frame_image=IMG))
    )
    last_only = validate(GenerationRequest("MiniMax-Hailuo-02", last_frame_image=IMG))
    check_servable(settings, last_only)  # the motion engine lands a camera move on it
    with pytest.raises(EngineCannotServe, match="cannot invent pictures"):
        check_servable(settings, validate(GenerationRequest("MiniMax-Hailuo-02", prompt="a cat")))


def test_wan_needs_a_first_frame_for_first_last() -> None:
    last_only = validate(GenerationRequest("MiniMax-Hailuo-02", last_frame_image=IMG))
    with pytest.raises(EngineCannotServe, match="starts every first-last-frame video") as refused:
        check_servable(wan("wan2.1-flf2v-14b"), last_only)
    assert refused.value.field == "first_frame_image"
    both = validate(
        GenerationRequest("MiniMax-Hailuo-02", first_frame_image=IMG, last_frame_image=IMG)
    )
    check_servable(wan("wan2.1-flf2v-14b"), both)


def test_ti2v_never_takes_first_last() -> None:
    both = validate(
        GenerationRequest("MiniMax-Hailuo-02", first_frame_image=IMG, last_frame_image=IMG)
    )
    with pytest.raises(EngineCannotServe, match="not offered by the diffusion engine preset"):
        check_servable(wan("wan2.2-ti2v-5b"), both)


def test_one_runner_by_default_when_a_model_is_on_the_gpu() -> None:
    route = {"MiniMax-Hailuo-02": ModelRoute(engine="diffusion")}
    assert runner_count(Settings(models=route)) == 1
    assert runner_count(Settings(models=route, workers=3)) == 3  # the operator decides
    assert runner_count(Settings(workers=2)) == 2


def test_bad_routes_are_start_up_errors_that_name_the_model(tmp_path: Path) -> None:
    missing = ModelRoute(engine="diffusion", weights=tmp_path / "nowhere")
    with pytest.raises(ValueError, match=r"models\.MiniMax-Hailuo-02: .*nowhere"):
        check_routes(Settings(models={"MiniMax-Hailuo-02": missing}))
    with pytest.raises(ValueError, match="unknown model"):
        check_routes(Settings(models={"Hailuo-9": ModelRoute()}))
    with pytest.raises(ValueError, match="unknown engine 'warp'"):
        check_routes(Settings(models={"T2V-01": ModelRoute(engine="warp")}))


def test_sound_is_refused_where_the_engine_makes_none() -> None:
    asks = validate(GenerationRequest("MiniMax-H3", first_frame_image=IMG, generate_audio=True))
    with pytest.raises(EngineCannotServe, match="motion engine, whose videos are silent") as no:
        check_servable(Settings(), asks)
    assert no.value.field == "generate_audio"
    h3 = Settings(models={"MiniMax-H3": ModelRoute(engine="diffusion", preset="minimax-h3")})
    check_servable(h3, asks)  # MiniMax-H3's own weights make sound
    check_servable(Settings(), validate(GenerationRequest("MiniMax-H3", first_frame_image=IMG)))
