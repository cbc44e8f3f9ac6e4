"""Camera language for the 15 commands and each family's prompt structure."""

from __future__ import annotations

from dataclasses import replace

import pytest

from conch.domain.camera import CameraMove, CameraPlan, CameraSegment, parse_prompt
from conch.domain.catalog import Mode
from conch.engines.base import Job
from conch.engines.diffusion.presets import Family
from conch.engines.diffusion.prompting import CAMERA_PHRASES, camera_sentence, compose_prompt


def job_for(prompt: str, mode: Mode = Mode.TEXT, optimizer: bool = True) -> Job:
    parsed = parse_prompt(prompt)
    return Job(
        mode=mode,
        prompt=parsed.text,
        camera_plan=parsed.plan,
        width=64,
        height=36,
        frame_count=24,
        prompt_optimizer=optimizer,
    )


def test_every_command_has_its_own_phrase() -> None:
    assert set(CAMERA_PHRASES) == set(CameraMove)
    assert len(set(CAMERA_PHRASES.values())) == 15


@pytest.mark.parametrize("move", list(CameraMove))
def test_each_command_in_brackets_reaches_the_prompt(move: CameraMove) -> None:
    prompt = compose_prompt(job_for(f"A lighthouse at dusk [{move.value}]"), Family.LTX)
    assert CAMERA_PHRASES[move] in prompt
    assert "[" not in prompt


def test_moves_together_and_in_sequence() -> None:
    plan = CameraPlan(
        (
            CameraSegment(frozenset({CameraMove.PEDESTAL_UP, CameraMove.PAN_LEFT})),
            CameraSegment(frozenset({CameraMove.PUSH_IN})),
        )
    )
    assert camera_sentence(plan) == (
        "The camera pans left and rises straight up, then pushes in toward the subject."
    )
    three = CameraSegment(frozenset({CameraMove.ZOOM_IN, CameraMove.TILT_UP, CameraMove.SHAKE}))
    assert camera_sentence(CameraPlan((three,))) == (
        "The camera tilts up, zooms in on the subject and shakes as if handheld."
    )
    assert camera_sentence(CameraPlan()) == ""


def test_the_optimizer_orders_action_camera_then_look() -> None:
    job = job_for("A little girl grows up [推进]")
    for family in Family:
        prompt = compose_prompt(job, family)
        action, camera = prompt.index("A little girl grows up."), prompt.index("The camera")
        assert action < camera < len(prompt) - 1
        assert len(prompt) > len(job.prompt) + 40  # a look-and-motion sentence follows


def test_without_the_optimizer_the_prompt_passes_through() -> None:
    job = job_for("A little girl grows up [推进]", optimizer=False)
    assert compose_prompt(job, Family.WAN) == "A little girl grows up"


def test_an_image_led_video_without_a_prompt_still_gets_a_subject() -> None:
    job = replace(job_for("", Mode.IMAGE), camera_plan=CameraPlan())
    assert compose_prompt(job, Family.LTX).startswith("The scene in the picture comes to life.")
