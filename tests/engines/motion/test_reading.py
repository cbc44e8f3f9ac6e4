"""A camera plan read against the motion two frames show: agree, contradict or unshown."""

from __future__ import annotations

import math

import numpy as np
import pytest

from conch.domain.camera import CameraMove, parse_prompt
from conch.engines.motion.alignment import HomographyPath
from conch.engines.motion.geometry import CameraPose, Lens, pose_homography
from conch.engines.motion.reading import SHOWN, FrameMotion, Law, Verdict, read_plan

LENS = Lens(640, 360)


def _shift(dx: float, dy: float) -> np.ndarray:
    return np.array([[1.0, 0.0, dx], [0.0, 1.0, dy], [0.0, 0.0, 1.0]])


def _zoom(factor: float) -> np.ndarray:
    """First-frame points to last-frame points of a zoom in by ``factor`` about the centre."""
    cx, cy = LENS.centre
    return _shift(cx, cy) @ np.diag([factor, factor, 1.0]) @ _shift(-cx, -cy)


def test_a_picture_sliding_left_is_a_camera_moving_right() -> None:
    motion = FrameMotion.of(_shift(-0.3 * 640, 0.0), LENS)
    assert motion.across == pytest.approx(0.3) and abs(motion.up) < 1e-12
    for move in (CameraMove.TRUCK_RIGHT, CameraMove.PAN_RIGHT, CameraMove.TRACKING):
        assert motion.verdict(move) is Verdict.AGREES
    for move in (CameraMove.TRUCK_LEFT, CameraMove.PAN_LEFT, CameraMove.STATIC):
        assert motion.verdict(move) is Verdict.CONTRADICTS
    for move in (CameraMove.PUSH_IN, CameraMove.TILT_UP, CameraMove.SHAKE):
        assert motion.verdict(move) is Verdict.UNSHOWN


def test_a_picture_sliding_down_is_a_camera_moving_up() -> None:
    motion = FrameMotion.of(_shift(0.0, 0.1 * 360), LENS)
    assert motion.up == pytest.approx(0.1)
    assert motion.verdict(CameraMove.PEDESTAL_UP) is Verdict.AGREES
    assert motion.verdict(CameraMove.TILT_DOWN) is Verdict.CONTRADICTS


def test_a_real_turn_of_the_camera_reads_as_a_pan() -> None:
    # The picture the camera sees after turning right, as the last frame: content slides left.
    sampling = pose_homography(CameraPose(yaw=math.radians(8)), LENS)
    motion = FrameMotion.of(np.linalg.inv(sampling), LENS)
    assert motion.verdict(CameraMove.PAN_RIGHT) is Verdict.AGREES
    assert motion.verdict(CameraMove.TILT_UP) is Verdict.UNSHOWN


@pytest.mark.parametrize(
    ("factor", "agrees"), [(1.3, CameraMove.PUSH_IN), (1 / 1.3, CameraMove.ZOOM_OUT)]
)
def test_an_enlarged_picture_is_a_move_in(factor: float, agrees: CameraMove) -> None:
    motion = FrameMotion.of(_zoom(factor), LENS)
    assert motion.scale == pytest.approx(factor)
    assert motion.verdict(agrees) is Verdict.AGREES
    assert motion.verdict(CameraMove.TRUCK_LEFT) is Verdict.UNSHOWN


def test_motion_below_the_threshold_is_no_move() -> None:
    motion = FrameMotion.of(_shift(-0.9 * SHOWN * 640, 0.0), LENS)
    assert motion.is_still
    assert motion.verdict(CameraMove.TRUCK_RIGHT) is Verdict.UNSHOWN
    assert motion.verdict(CameraMove.STATIC) is Verdict.AGREES


def test_only_unshown_moves_are_left_to_play_and_segments_keep_their_places() -> None:
    motion = FrameMotion.of(_shift(-0.3 * 640, 0.0), LENS)
    reading = read_plan(parse_prompt("[Truck right, Push in], [Truck left], [Shake]").plan, motion)
    assert [set(s.moves) for s in reading.detour.segments] == [
        {CameraMove.PUSH_IN},
        set(),
        {CameraMove.SHAKE},
    ]
    assert reading.law is Law.STEADY and not reading.eased


@pytest.mark.parametrize(
    ("prompt", "law", "middle"),
    [
        ("", Law.STEADY, math.sqrt(1.3)),
        ("[Zoom in]", Law.ZOOM, (1 + 1.3) / 2),
        ("[推进]", Law.DOLLY, 1 / (1 - (1 - 1 / 1.3) / 2)),
        ("[Push in, Zoom in]", Law.STEADY, math.sqrt(1.3)),
        ("[Pull out]", Law.STEADY, math.sqrt(1.3)),  # contradicts: the frames' own pace
    ],
)
def test_the_command_that_agrees_sets_how_the_scale_changes(
    prompt: str, law: Law, middle: float
) -> None:
    camera = _zoom(1.3)
    reading = read_plan(parse_prompt(prompt).plan, FrameMotion.of(camera, LENS))
    assert reading.law is law
    path = HomographyPath(camera)
    assert reading.camera_time(0.0) == 0.0 and reading.camera_time(1.0) == pytest.approx(1.0)
    halfway = path.at(reading.camera_time(0.5))
    assert halfway[0, 0] == pytest.approx(middle, rel=1e-6)


def test_a_tracking_shot_eases_along_the_frames() -> None:
    reading = read_plan(parse_prompt("[Tracking shot]").plan, FrameMotion.of(_shift(50, 0), LENS))
    assert reading.eased
    assert reading.camera_time(0.1) < 0.05 and reading.camera_time(0.5) == pytest.approx(0.5)
