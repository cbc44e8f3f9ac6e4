"""Each of the 15 camera commands, checked by what it does to known features of a picture."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from engines.motion.scene import (
    BLUE,
    CENTRE,
    FRAMES,
    GREEN,
    HEIGHT,
    RED,
    RING,
    WIDTH,
    area,
    backdrop,
    centroid,
    extension_depth,
    marked_scene,
    render,
    ring_inside,
    with_markers,
    with_ring,
)

SCENE = with_ring(marked_scene())
"""The marked scene with its edge painted: wherever a view looks past it, the paint smears in."""
MOVES = [
    "Truck left",
    "Truck right",
    "Pan left",
    "Pan right",
    "Push in",
    "Pull out",
    "Pedestal up",
    "Pedestal down",
    "Tilt up",
    "Tilt down",
    "Zoom in",
    "Zoom out",
    "Shake",
    "Tracking shot",
    "Static shot",
]


@pytest.fixture(scope="module")
def clips() -> dict[str, list[np.ndarray]]:
    """Every move rendered once over the marked scene."""
    return {move: render(SCENE, f"A scene [{move}]") for move in MOVES}


def _shift(frames: list[np.ndarray], colour: tuple[int, int, int] = RED) -> np.ndarray:
    """How far the marker of ``colour`` moved from the first frame to the last (x, y)."""
    return np.subtract(centroid(frames[-1], colour), centroid(frames[0], colour))


@pytest.mark.parametrize("move", MOVES)
def test_every_move_yields_the_clip_shape(clips: dict[str, list[np.ndarray]], move: str) -> None:
    frames = clips[move]
    assert len(frames) == FRAMES
    assert all(f.shape == (HEIGHT, WIDTH, 3) and f.dtype == np.uint8 for f in frames)


@pytest.mark.parametrize("move", MOVES)
def test_no_move_looks_further_past_the_picture_than_its_extension(
    clips: dict[str, list[np.ndarray]], move: str
) -> None:
    # A view looking further past the picture's edge than its extension would show the
    # painted edge smeared deep into the frame.
    for index, frame in enumerate(clips[move]):
        assert ring_inside(frame, extension_depth(WIDTH)) == 0, (
            f"{move}, frame {index}: looks too far"
        )


@pytest.mark.parametrize("move", MOVES)
def test_every_move_begins_on_the_picture_itself(
    clips: dict[str, list[np.ndarray]], move: str
) -> None:
    assert np.array_equal(clips[move][0], SCENE)


@pytest.mark.parametrize("move", ["Pull out", "Zoom out"])
def test_a_move_out_shows_the_picture_whole_inside_its_extension(
    clips: dict[str, list[np.ndarray]], move: str
) -> None:
    last = clips[move][-1]
    # The painted edge is inside the last frame on every side: the whole picture is seen.
    ring = np.abs(last.astype(np.int16) - np.array(RING, np.int16)).max(axis=2) < 60
    ys, xs = np.nonzero(ring)
    assert xs.min() > 2 and xs.max() < WIDTH - 3 and ys.min() > 2 and ys.max() < HEIGHT - 3
    # Beyond it lies the extension, not a flat border: it varies as the picture does.
    band = last[:, : xs.min() - 1].astype(float)
    assert band.std(axis=(0, 1)).mean() > 2


def test_static_shot_keeps_every_frame_equal(clips: dict[str, list[np.ndarray]]) -> None:
    assert all(np.array_equal(frame, SCENE) for frame in clips["Static shot"])


@pytest.mark.parametrize(
    ("move", "sign"), [("Truck left", 1), ("Truck right", -1), ("Pan left", 1), ("Pan right", -1)]
)
def test_sideways_moves_carry_content_the_other_way(
    clips: dict[str, list[np.ndarray]], move: str, sign: int
) -> None:
    dx, dy = _shift(clips[move])
    assert sign * dx > 0.03 * WIDTH, f"{move} moved the centre by {dx:.1f} px"
    assert abs(dy) < abs(dx)


@pytest.mark.parametrize(
    ("move", "sign"), [("Pedestal up", 1), ("Pedestal down", -1), ("Tilt up", 1), ("Tilt down", -1)]
)
def test_vertical_moves_carry_content_the_other_way(
    clips: dict[str, list[np.ndarray]], move: str, sign: int
) -> None:
    dx, dy = _shift(clips[move])
    assert sign * dy > 0.03 * HEIGHT, f"{move} moved the centre by {dy:.1f} px"
    assert abs(dx) < abs(dy)


@pytest.mark.parametrize("move", ["Push in", "Zoom in"])
def test_moving_in_grows_a_feature_steadily(clips: dict[str, list[np.ndarray]], move: str) -> None:
    frames = clips[move]
    sizes = [area(frames[i], RED) for i in range(0, FRAMES, 12)] + [area(frames[-1], RED)]
    assert sizes[-1] > 1.3 * sizes[0]
    assert all(b >= a - 2 for a, b in itertools.pairwise(sizes))
    x, y = centroid(frames[-1], RED)
    assert abs(x - CENTRE[0]) < 3 and abs(y - CENTRE[1]) < 3, "it moves toward the centre"


@pytest.mark.parametrize("move", ["Pull out", "Zoom out"])
def test_moving_out_shrinks_a_feature(clips: dict[str, list[np.ndarray]], move: str) -> None:
    # Measured by the distance between the markers above and below the centre (100 px).
    frames = [*clips[move][::12], clips[move][-1]]
    gaps = [centroid(frame, GREEN)[1] - centroid(frame, BLUE)[1] for frame in frames]
    assert gaps[-1] < gaps[0] / 1.07
    assert all(b <= a + 0.1 for a, b in itertools.pairwise(gaps)), "steadily, never back"


def test_push_in_shows_parallax_that_zoom_does_not(clips: dict[str, list[np.ndarray]]) -> None:
    # The scene leans back like the ground: its lower part is nearer, so a dolly enlarges
    # it more than the upper part; a zoom enlarges everything alike.
    def spread(frames: list[np.ndarray]) -> float:
        (_, top0), (_, bottom0) = centroid(frames[0], BLUE), centroid(frames[0], GREEN)
        (_, top1), (_, bottom1) = centroid(frames[-1], BLUE), centroid(frames[-1], GREEN)
        centre = CENTRE[1]
        return ((bottom1 - centre) / (bottom0 - centre)) / ((centre - top1) / (centre - top0))

    assert spread(clips["Push in"]) > 1.03
    assert abs(spread(clips["Zoom in"]) - 1.0) < 0.015


def test_shake_jitters_around_the_picture(clips: dict[str, list[np.ndarray]]) -> None:
    frames = clips["Shake"]
    path = np.array([centroid(frame, RED) for frame in frames])
    steps = np.diff(path, axis=0)
    assert np.abs(path - path[0]).max() > 0.5, "it moves"
    assert np.abs(path - path[0]).max() < 0.05 * WIDTH, "but only a little"
    reversals = np.sum(np.diff(np.sign(steps[:, 0])) != 0)
    assert reversals >= 6, "back and forth, not a drift"


def test_tracking_turns_toward_the_subject() -> None:
    # The only detail in this picture is a patch on the right: that is the subject.
    picture = backdrop()
    picture[60:120, 230:290] = np.where((np.indices((60, 60)).sum(axis=0) // 6) % 2 == 0, 170, 90)[
        ..., None
    ].astype(np.uint8)
    picture = with_markers(picture, {CENTRE: RED})
    frames = render(picture, "[Tracking shot]")
    dx, _ = _shift(frames)
    assert dx < -0.02 * WIDTH, "the subject is drawn toward the centre"
    assert area(frames[-1], RED) > area(frames[0], RED), "and the camera advances"


def test_repeated_tracking_segments_turn_toward_the_subject_once() -> None:
    picture = backdrop()
    picture[60:120, 230:290] = np.where((np.indices((60, 60)).sum(axis=0) // 6) % 2 == 0, 170, 90)[
        ..., None
    ].astype(np.uint8)
    picture = with_markers(picture, {CENTRE: RED})
    once = render(picture, "[Tracking shot]")[-1]
    twice = render(picture, "[Tracking shot], [Tracking shot]")[-1]
    # The same target and the same advance: the camera ends where one segment took it.
    assert np.abs(np.subtract(centroid(twice, RED), centroid(once, RED))).max() < 1.5


def test_an_image_with_no_command_slowly_pushes_in() -> None:
    frames = render(SCENE, "A scene")
    assert np.array_equal(frames[0], SCENE)
    assert 1.1 * area(frames[0], RED) < area(frames[-1], RED) < 1.6 * area(frames[0], RED)


def test_moves_in_one_bracket_act_together() -> None:
    frames = render(SCENE, "[Truck left, Push in]")
    dx, _ = _shift(frames)
    assert dx > 0.02 * WIDTH
    assert area(frames[-1], RED) > 1.2 * area(frames[0], RED)


def test_later_brackets_act_later() -> None:
    frames = render(SCENE, "[Truck left], then [Truck right]")
    x = [centroid(frame, RED)[0] for frame in frames]
    middle = FRAMES // 2
    assert x[middle] - x[0] > 0.02 * WIDTH, "first it goes one way"
    assert x[middle] - x[-1] > 0.02 * WIDTH, "then back the other"
    steps = np.diff(x)
    assert (steps[: middle - 2] >= -0.2).all() and (steps[middle + 2 :] <= 0.2).all()


def test_moves_ease_in_and_out() -> None:
    x = [centroid(frame, RED)[0] for frame in render(SCENE, "[Pan left]")]
    speed = np.abs(np.diff(x))
    assert speed[:5].mean() < 0.3 * speed.max() and speed[-5:].mean() < 0.3 * speed.max()


def test_natural_wording_moves_the_camera() -> None:
    grow = render(SCENE, "镜头缓缓推进")
    assert area(grow[-1], RED) > 1.2 * area(grow[0], RED)
    dx, _ = _shift(render(SCENE, "the camera pans left"))
    assert dx > 0.03 * WIDTH
