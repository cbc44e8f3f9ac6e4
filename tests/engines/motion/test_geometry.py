"""Camera geometry, framing and homography paths, checked without rendering a frame."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conch.domain.camera import CameraMove, CameraPlan, CameraSegment, parse_prompt
from conch.engines.motion.alignment import HomographyPath, plausible
from conch.engines.motion.blend import edge_bands
from conch.engines.motion.easing import clip_time
from conch.engines.motion.framing import UNSEEN_EDGE, Pin, Sources, framed_views, relative_pose
from conch.engines.motion.geometry import (
    STILL,
    CameraPose,
    Lens,
    corners,
    is_identity,
    pose_homography,
)
from conch.engines.motion.grids import apply_to_points
from conch.engines.motion.moves import TRACKING_AIM, move_displacement
from conch.engines.motion.timeline import plan_path

LENS = Lens(640, 360)
TOP, BOTTOM = (319.5, 60.0), (319.5, 300.0)


def transform(h: np.ndarray, points: np.ndarray) -> np.ndarray:
    """``h`` applied to an (n, 2) array of points."""
    x, y = apply_to_points(h, points[:, 0], points[:, 1])
    return np.stack([x, y], axis=1)


def _screen_shift(pose: CameraPose, point: tuple[float, float]) -> np.ndarray:
    """Where the source content at ``point`` appears after the move, minus where it was."""
    to_source = pose_homography(pose, LENS)
    seen_at = transform(np.linalg.inv(to_source), np.array([point]))[0]
    return seen_at - np.array(point)


def test_a_still_camera_samples_every_pixel_from_itself() -> None:
    assert is_identity(pose_homography(CameraPose(), LENS))


def test_truck_shows_parallax_and_pan_does_not() -> None:
    truck = CameraPose(x=-0.05)
    pan = CameraPose(yaw=-math.radians(3))
    top, bottom = _screen_shift(truck, TOP), _screen_shift(truck, BOTTOM)
    assert top[0] > 0 and bottom[0] > 1.2 * top[0], "nearer ground moves more"
    top, bottom = _screen_shift(pan, TOP), _screen_shift(pan, BOTTOM)
    assert top[0] > 0 and bottom[0] == pytest.approx(top[0], rel=1e-6)


def test_pedestal_shows_parallax_and_tilt_does_not() -> None:
    pedestal = CameraPose(y=-0.05)  # up
    tilt = CameraPose(pitch=math.radians(3))  # up
    left, right = (100.0, 180.0), (540.0, 180.0)
    assert _screen_shift(pedestal, BOTTOM)[1] > 1.2 * _screen_shift(pedestal, TOP)[1] > 0
    assert _screen_shift(tilt, left)[1] == pytest.approx(_screen_shift(tilt, right)[1])
    assert _screen_shift(tilt, left)[1] > 0


def test_zoom_scales_about_the_centre() -> None:
    h = pose_homography(CameraPose(log_zoom=math.log(1.25)), LENS)
    centre = np.array([LENS.centre])
    assert transform(h, centre)[0] == pytest.approx(centre[0])
    assert transform(h, np.array([[639.0, 359.0]]))[0] == pytest.approx(
        centre[0] + (np.array([639.0, 359.0]) - centre[0]) / 1.25
    )


@pytest.mark.parametrize(
    "h",
    [
        np.array([[1.0, 0.0, 30.0], [0.0, 1.0, -12.0], [0.0, 0.0, 1.0]]),
        np.array([[1.3, 0.02, -40.0], [0.01, 1.28, -30.0], [1e-4, 2e-5, 1.0]]),
        pose_homography(CameraPose(yaw=0.2, pitch=-0.1, roll=0.05), LENS),
    ],
)
def test_a_homography_path_runs_from_identity_to_the_motion_at_steady_speed(h: np.ndarray) -> None:
    path = HomographyPath(h)
    assert is_identity(path.at(0.0))
    assert np.allclose(path.at(1.0), h / h[2, 2], atol=1e-8)
    half = path.at(0.5)
    assert np.allclose(half @ half / (half @ half)[2, 2], h / h[2, 2], atol=1e-8)


def test_a_rotation_path_turns_at_a_steady_rate() -> None:
    turn = pose_homography(CameraPose(yaw=0.3), LENS)
    third = pose_homography(CameraPose(yaw=0.1), LENS)
    assert np.allclose(HomographyPath(turn).at(1 / 3), third, atol=1e-9)


def test_implausible_motions_are_refused() -> None:
    assert plausible(np.eye(3), (360, 640))
    assert not plausible(np.diag([-1.0, 1.0, 1.0]), (360, 640)), "a mirror"
    assert not plausible(np.diag([5.0, 5.0, 1.0]), (360, 640)), "a 25x change of area"


_move_sets = st.frozensets(st.sampled_from(list(CameraMove)), min_size=1, max_size=3)


@settings(max_examples=60, deadline=None)
@given(
    segments=st.lists(_move_sets, min_size=1, max_size=3),
    seconds=st.sampled_from([6.0, 10.0]),
    pin=st.sampled_from(list(Pin)),
    reach=st.sampled_from([0.0, 32.0]),
)
def test_no_plan_ever_looks_further_past_the_edges_than_its_reach(
    segments: list[frozenset[CameraMove]], seconds: float, pin: Pin, reach: float
) -> None:
    plan = CameraPlan(tuple(CameraSegment(moves) for moves in segments))
    path = plan_path(plan, seconds, aim=CameraPose(yaw=0.2, pitch=-0.1), seed=3)
    views = framed_views(path, LENS, 41, pin, reach=reach)
    slack = reach + 1e-4
    for view in views:
        seen = transform(view, corners(LENS.width, LENS.height))
        assert (seen >= -slack).all()
        assert (seen[:, 0] <= LENS.width - 1 + slack).all()
        assert (seen[:, 1] <= LENS.height - 1 + slack).all()
    if pin in (Pin.START, Pin.BOTH):
        assert is_identity(views[0])
    if pin in (Pin.END, Pin.BOTH):
        assert is_identity(views[-1])


def _poses(prompt: str, pin: Pin, count: int = 145) -> list[CameraPose]:
    path = plan_path(parse_prompt(prompt).plan, 6.0)
    return [relative_pose(path, clip_time(i, count), pin) for i in range(count)]


def test_sequenced_segments_play_in_full_between_two_fixed_frames() -> None:
    # Each segment lasts 2 s; between two fixed frames the camera must still make every
    # move in full (the pan last of all) before settling back onto the last frame.
    poses = _poses("[Push in], [Zoom in], [Pan left]", Pin.BOTH)
    for move, field in (
        (CameraMove.PUSH_IN, "z"),
        (CameraMove.ZOOM_IN, "log_zoom"),
        (CameraMove.PAN_LEFT, "yaw"),
    ):
        full = getattr(move_displacement(move, 2.0), field)
        reached = max(getattr(pose, field) / full for pose in poses)
        assert reached > 0.98, f"{move} reached {reached:.0%} of its move"
    peak = int(np.argmin([pose.yaw for pose in poses]))
    push = move_displacement(CameraMove.PUSH_IN, 2.0).z
    assert poses[peak].z == pytest.approx(push, rel=1e-3), "the push is kept while it pans"
    assert poses[0] == STILL and poses[-1] == STILL


def test_a_move_between_two_fixed_frames_is_full_when_the_settle_begins() -> None:
    yaw = [pose.yaw for pose in _poses("[Pan left]", Pin.BOTH)]
    turn = move_displacement(CameraMove.PAN_LEFT, 6.0).yaw
    assert min(yaw) == pytest.approx(turn, rel=1e-3)
    assert int(np.argmin(yaw)) == pytest.approx(0.7 * 144, abs=2)


@pytest.mark.parametrize(
    "prompt",
    ["[Tracking shot], [Tracking shot]", "[Tracking shot], [Tracking shot], [Tracking shot]"],
)
def test_tracking_turns_toward_its_subject_once(prompt: str) -> None:
    aim = CameraPose(yaw=0.2, pitch=-0.1)
    once = plan_path(parse_prompt("[Tracking shot]").plan, 6.0, aim=aim).end()
    repeated = plan_path(parse_prompt(prompt).plan, 6.0, aim=aim).end()
    assert repeated.yaw == pytest.approx(TRACKING_AIM * aim.yaw), "no overshoot"
    assert repeated.pitch == pytest.approx(TRACKING_AIM * aim.pitch)
    assert repeated.z == pytest.approx(once.z), "it keeps advancing"


def test_tracking_after_a_pan_turns_only_the_rest_of_the_way() -> None:
    aim = CameraPose(yaw=0.2)
    end = plan_path(parse_prompt("[Pan right], [Tracking shot]").plan, 6.0, aim=aim).end()
    assert end.yaw == pytest.approx(TRACKING_AIM * aim.yaw)


def _translation(dx: float, dy: float) -> np.ndarray:
    return np.array([[1.0, 0.0, dx], [0.0, 1.0, dy], [0.0, 0.0, 1.0]])


@settings(max_examples=40, deadline=None)
@given(
    dx=st.floats(-120, 120),
    dy=st.floats(-70, 70),
    prompt=st.sampled_from(["", "[Push in]", "[Pan left, Pedestal up]", "[Zoom out], [Shake]"]),
)
def test_every_in_between_view_is_seen_by_the_first_or_last_frame(
    dx: float, dy: float, prompt: str
) -> None:
    # The last frame sees the first's content moved by (dx, dy); a frame at time t sees it
    # moved by t (dx, dy). Every point of every view, but a sliver along the edges, must be
    # inside one of the two frames.
    count = 25
    times = [clip_time(i, count) for i in range(count)]
    sources = Sources(
        to_first=np.stack([_translation(-t * dx, -t * dy) for t in times]),
        to_last=np.stack([_translation((1 - t) * dx, (1 - t) * dy) for t in times]),
    )
    path = plan_path(parse_prompt(prompt).plan, 1.0, seed=3)
    views = framed_views(path, LENS, count, Pin.BOTH, sources)
    assert is_identity(views[0]) and is_identity(views[-1])
    inset = UNSEEN_EDGE * LENS.width + 1e-3
    ys, xs = np.mgrid[inset : LENS.height - 1 - inset : 9j, inset : LENS.width - 1 - inset : 9j]
    grid = np.stack([xs.ravel(), ys.ravel()], axis=1)
    for index, view in enumerate(views):
        seen = [
            transform(source[index] @ view, grid) for source in (sources.to_first, sources.to_last)
        ]
        inside = [
            (p[:, 0] >= -1e-6)
            & (p[:, 0] <= LENS.width - 1 + 1e-6)
            & (p[:, 1] >= -1e-6)
            & (p[:, 1] <= LENS.height - 1 + 1e-6)
            for p in seen
        ]
        assert (inside[0] | inside[1]).all(), f"frame {index} looks past both frames"


@settings(deadline=None)  # never timed: a loaded machine is not a failure
@given(st.lists(st.tuples(st.integers(0, 26), st.integers(0, 47)), min_size=1, max_size=30))
def test_edge_bands_cover_every_unusual_cell(cells: list[tuple[int, int]]) -> None:
    unusual = np.zeros((27, 48), bool)
    for row, col in cells:
        unusual[row, col] = True
    covered = np.zeros((360, 640), bool)
    for rows, cols in edge_bands(unusual, 640, 360):
        covered[rows, cols] = True
    for row, col in cells:
        y, x = int((row + 0.5) * 360 / 27), int((col + 0.5) * 640 / 48)
        assert covered[y, x]
