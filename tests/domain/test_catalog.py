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
    with pytest.raises(InvalidParams, match="must be one of 512P, 720P, 768P, 1080P, got '1080'"):
        Resolution.parse("1080")
