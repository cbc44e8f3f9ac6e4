"""Request validation: the rules that need no I/O."""

from __future__ import annotations

import pytest

from conch.domain.camera import CameraMove
from conch.domain.catalog import Mode, Resolution
from conch.domain.errors import InvalidParams
from conch.domain.request import GenerationRequest, TaskSpec, validate

IMG = "https://example.com/a.jpg"


def test_modes_come_from_the_images_given() -> None:
    assert validate(GenerationRequest("T2V-01", prompt="a cat")).mode is Mode.TEXT
    assert validate(GenerationRequest("I2V-01", first_frame_image=IMG)).mode is Mode.IMAGE
    fl = GenerationRequest("MiniMax-Hailuo-02", first_frame_image=IMG, last_frame_image=IMG)
    assert validate(fl).mode is Mode.FIRST_LAST
    # MiniMax's schema requires only the last frame for first+last.
    last_only = GenerationRequest("MiniMax-Hailuo-02", last_frame_image=IMG)
    assert validate(last_only).mode is Mode.FIRST_LAST
    s2v = GenerationRequest("S2V-01", prompt="x", subject_image=IMG)
    assert validate(s2v).mode is Mode.SUBJECT


def test_defaults() -> None:
    spec = validate(GenerationRequest("MiniMax-Hailuo-02", first_frame_image=IMG))
    assert (spec.resolution, spec.duration) == (Resolution.R768, 6)
    assert spec.prompt_optimizer and not spec.aigc_watermark


def test_camera_brackets_become_a_plan_on_models_that_take_them() -> None:
    spec = validate(
        GenerationRequest(
            "MiniMax-Hailuo-02",
            prompt="A girl [推进, Pan left], then [Pull out].",
            first_frame_image=IMG,
        )
    )
    assert spec.prompt_text == "A girl, then."
    moves = [seg.moves for seg in spec.camera_plan.segments]
    assert moves == [
        frozenset({CameraMove.PUSH_IN, CameraMove.PAN_LEFT}),
        frozenset({CameraMove.PULL_OUT}),
    ]
    plain = validate(GenerationRequest("I2V-01", prompt="A girl [推进]", first_frame_image=IMG))
    assert plain.camera_plan.is_empty and plain.prompt_text == "A girl [推进]"


def test_fast_pretreatment_applies_only_where_offered() -> None:
    on = GenerationRequest("MiniMax-Hailuo-2.3", first_frame_image=IMG, fast_pretreatment=True)
    assert validate(on).fast_pretreatment
    off = GenerationRequest("I2V-01", first_frame_image=IMG, fast_pretreatment=True)
    assert not validate(off).fast_pretreatment


def test_spec_round_trips_through_json() -> None:
    spec = validate(
        GenerationRequest(
            "MiniMax-Hailuo-02",
            prompt="[Shake] storm",
            first_frame_image=IMG,
            last_frame_image=IMG,
            duration=10,
            callback_url="https://example.com/cb",
        )
    )
    assert TaskSpec.from_json(spec.to_json()) == spec


@pytest.mark.parametrize(
    ("request_", "field", "says"),
    [
        (
            GenerationRequest("MiniMax-Hailuo-02", prompt="x", duration=True),  # type: ignore[arg-type]
            "duration",
            "whole number",
        ),
        (
            GenerationRequest("MiniMax-Hailuo-02", first_frame_image="file:///etc/passwd"),
            "first_frame_image",
            "https URL",
        ),
        (
            GenerationRequest("MiniMax-Hailuo-02", first_frame_image="data:image/png,abc"),
            "first_frame_image",
            ";base64",
        ),
        (
            GenerationRequest("MiniMax-Hailuo-02", first_frame_image=IMG, callback_url="ftp://x/y"),
            "callback_url",
            "http or https",
        ),
    ],
)
def test_malformed_fields_are_named(request_: GenerationRequest, field: str, says: str) -> None:
    with pytest.raises(InvalidParams, match=says) as refused:
        validate(request_)
    assert refused.value.field == field


def test_a_mode_the_model_lacks_is_refused_before_its_defaults_are_read() -> None:
    both = GenerationRequest("MiniMax-Hailuo-2.3", first_frame_image=IMG, last_frame_image=IMG)
    with pytest.raises(InvalidParams, match="does not offer first-last-frame"):
        validate(both)
