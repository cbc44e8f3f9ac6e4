"""The model catalog: modes, the duration x resolution matrix, output sizes."""

from __future__ import annotations

import pytest

from conch.domain.catalog import (
    CATALOG,
    Mode,
    Resolution,
    frame_count,
    model_spec,
    output_size,
    video_size,
)
from conch.domain.errors import InvalidParams

LEGAL = [
    ("MiniMax-Hailuo-2.3", Mode.TEXT, "768P", 10),
    ("MiniMax-Hailuo-2.3", Mode.IMAGE, "1080P", 6),
    ("MiniMax-Hailuo-2.3-Fast", Mode.IMAGE, "768P", 10),
    ("MiniMax-Hailuo-02", Mode.IMAGE, "512P", 10),
    ("MiniMax-Hailuo-02", Mode.FIRST_LAST, "768P", 10),
    ("MiniMax-Hailuo-02", Mode.FIRST_LAST, "1080P", 6),
    ("T2V-01-Director", Mode.TEXT, "720P", 6),
    ("I2V-01-live", Mode.IMAGE, "720P", 6),
    ("S2V-01", Mode.SUBJECT, "720P", 6),
    ("video-01", Mode.TEXT, "720P", 6),
]
ILLEGAL = [
    ("MiniMax-Hailuo-2.3", Mode.IMAGE, "1080P", 10, "allows duration 6"),
    ("MiniMax-Hailuo-2.3", Mode.IMAGE, "512P", 6, "got 512P"),
    ("MiniMax-Hailuo-2.3-Fast", Mode.TEXT, "768P", 6, "does not offer text-to-video"),
    ("MiniMax-Hailuo-02", Mode.TEXT, "512P", 6, "got 512P"),
    ("MiniMax-Hailuo-02", Mode.FIRST_LAST, "512P", 6, "got 512P"),
    ("T2V-01", Mode.TEXT, "1080P", 6, "allows 720P"),
    ("I2V-01", Mode.IMAGE, "720P", 10, "allows duration 6"),
    ("S2V-01", Mode.IMAGE, "720P", 6, "does not offer image-to-video"),
]


@pytest.mark.parametrize(("model", "mode", "tier", "duration"), LEGAL)
def test_legal_combinations_pass(model: str, mode: Mode, tier: str, duration: int) -> None:
    model_spec(model).check(mode, Resolution(tier), duration)


@pytest.mark.parametrize(("model", "mode", "tier", "duration", "says"), ILLEGAL)
def test_illegal_combinations_say_what_is_allowed(
    model: str, mode: Mode, tier: str, duration: int, says: str
) -> None:
    with pytest.raises(InvalidParams, match=says):
        model_spec(model).check(mode, Resolution(tier), duration)


def test_defaults_and_camera_support() -> None:
    assert (
        model_spec("MiniMax-Hailuo-02").default_resolution_for(Mode.FIRST_LAST) == Resolution.R768
    )
    assert model_spec("T2V-01").default_resolution_for(Mode.TEXT) == Resolution.R720
    with_camera = {name for name, spec in CATALOG.items() if spec.camera_commands}
    assert with_camera == {
        "MiniMax-Hailuo-2.3",
        "MiniMax-Hailuo-2.3-Fast",
        "MiniMax-Hailuo-02",
        "T2V-01-Director",
        "I2V-01-Director",
    }


@pytest.mark.parametrize(
    ("tier", "source", "expected"),
    [
        ("720P", (1280, 720), (1280, 720)),
        ("768P", (1920, 1080), (1366, 768)),
        ("1080P", (640, 360), (1920, 1080)),
        ("768P", (512, 512), (768, 768)),
        ("768P", (720, 1280), (768, 1366)),
        ("512P", (600, 400), (768, 512)),
        ("1080P", (1000, 401), (2694, 1080)),
    ],
)
def test_output_size_keeps_the_aspect_with_even_sides(
    tier: str, source: tuple[int, int], expected: tuple[int, int]
) -> None:
    size = output_size(Resolution(tier), *source)
    assert size == expected and size[0] % 2 == 0 and size[1] % 2 == 0


def test_video_size_follows_the_first_frame_then_the_last_then_16_9() -> None:
    assert video_size(Mode.FIRST_LAST, Resolution.R768, (512, 512), (1280, 720)) == (768, 768)
    assert video_size(Mode.FIRST_LAST, Resolution.R768, None, (720, 1280)) == (768, 1366)
    assert video_size(Mode.TEXT, Resolution.R1080, None, None) == (1920, 1080)
    assert frame_count(6) == 144 and frame_count(10) == 240


def test_resolution_names_forgive_case_only() -> None:
    assert Resolution.parse("1080p") is Resolution.R1080
    with pytest.raises(InvalidParams, match=r"must be one of 512P, 720P, 768P, 1080P, 2K, got"):
        Resolution.parse("1080")


def test_minimax_h3_takes_a_range_of_seconds_two_tiers_and_ratios() -> None:
    h3 = model_spec("MiniMax-H3")
    assert h3.modes == (Mode.TEXT, Mode.IMAGE, Mode.FIRST_LAST)
    for seconds in (5, 11, 15):
        h3.check(Mode.FIRST_LAST, Resolution.R2K, seconds)
    with pytest.raises(InvalidParams, match=r"MiniMax-H3 at 768P allows duration 5 to 15 .*got 4"):
        h3.check(Mode.TEXT, Resolution.R768, 4)
    with pytest.raises(InvalidParams, match="allows 768P, 2K, got 1080P"):
        h3.check(Mode.IMAGE, Resolution.R1080, 6)
    assert h3.check_ratio(Mode.TEXT, "9:16") == "9:16"
    assert h3.check_ratio(Mode.IMAGE, "adaptive") is None  # follow the frame
    with pytest.raises(InvalidParams, match=r"text-to-video allows 21:9, 16:9, .*got 'adaptive'"):
        h3.check_ratio(Mode.TEXT, "adaptive")
    with pytest.raises(InvalidParams, match="takes no ratio") as refused:
        model_spec("MiniMax-Hailuo-02").check_ratio(Mode.IMAGE, "16:9")
    assert refused.value.field == "ratio"


def test_a_ratio_shapes_the_video_and_2k_is_1440_high() -> None:
    assert Resolution.parse("2k").short_side == 1440
    assert video_size(Mode.TEXT, Resolution.R2K, None, None) == (2560, 1440)
    assert video_size(Mode.TEXT, Resolution.R768, None, None, "9:16") == (768, 1366)
    assert video_size(Mode.TEXT, Resolution.R768, None, None, "1:1") == (768, 768)
    # A ratio given with a frame wins: the frame is cropped to it.
    assert video_size(Mode.IMAGE, Resolution.R768, (1280, 720), None, "3:4") == (768, 1024)
