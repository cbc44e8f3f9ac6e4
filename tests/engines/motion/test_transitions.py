"""First and last frame, a last frame alone, and the engine's contract, on real photos."""

from __future__ import annotations

import math
from collections.abc import Callable

import cv2
import numpy as np
import pytest

from conch.domain.camera import CameraPlan
from conch.domain.catalog import Mode
from conch.engines.base import EngineFailure, Job
from conch.engines.motion import MotionEngine
from conch.engines.motion.flow import FlowField
from conch.engines.motion.framing import UNSEEN_EDGE
from conch.engines.motion.morph import CameraTransition, Transition, related
from conch.media.quality import psnr
from engines.motion.scene import (
    RED,
    area,
    centroid,
    extension_depth,
    marked_scene,
    render,
    ring_inside,
    with_markers,
    with_ring,
)
from support.photos import clip_frame, photo

WIDTH, HEIGHT = 320, 192


def _window(picture: np.ndarray, x: float, y: float, scale: float = 1.0) -> np.ndarray:
    """A WIDTH x HEIGHT view of ``picture`` with its top-left at (x, y), magnified ``scale``."""
    sampling = np.array([[1 / scale, 0, x], [0, 1 / scale, y], [0, 0, 1.0]])
    return cv2.warpPerspective(
        picture, sampling, (WIDTH, HEIGHT), flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP
    )


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return photo("astronaut")


def test_the_clip_starts_and_ends_on_the_given_frames(astronaut: np.ndarray) -> None:
    first, last = _window(astronaut, 60, 80), _window(astronaut, 110, 100)
    frames = render(first, "", last=last, frames=48)
    assert len(frames) == 48
    assert np.array_equal(frames[0], first) and np.array_equal(frames[-1], last)


@pytest.mark.parametrize(("dx", "dy"), [(6, 0), (0, -4)], ids=["sideways", "vertical"])
def test_in_between_frames_follow_the_true_motion(astronaut: np.ndarray, dx: int, dy: int) -> None:
    # The camera slides over the photo at a steady speed: each in-between view is known.
    # (On a diagonal slide a corner of each in-between view is in neither frame, and the
    # engine zooms it away: see the diagonal test below. Truth cannot be compared there.)
    gap = 8
    views = [_window(astronaut, 60 + dx * k, 80 + dy * k) for k in range(gap + 1)]
    frames = render(views[0], "", last=views[-1], frames=gap + 1)
    for k in range(1, gap):
        fade = cv2.addWeighted(views[0], 1 - k / gap, views[-1], k / gap, 0)
        assert psnr(frames[k], views[k]) > 32
        assert psnr(frames[k], views[k]) > psnr(fade, views[k]) + 8


def test_a_still_under_a_moving_camera_is_drawn_along_the_camera_motion_alone(
    astronaut: np.ndarray,
) -> None:
    still = related(_window(astronaut, 60, 80), _window(astronaut, 100, 90, 1.2))
    assert isinstance(still, CameraTransition) and not isinstance(still, Transition)
    footage = related(clip_frame(10), clip_frame(18))
    assert isinstance(footage, Transition), "a scene that moves of its own follows its flow"


def test_a_transition_told_its_motion_follows_it_instead_of_estimating(
    astronaut: np.ndarray,
) -> None:
    # A patch of another photo slides 24 px right over a photo that stays put. Told the
    # exact motion, the middle frame has the patch where it truly is at mid-clip; told
    # there is none, it dissolves between the patch's two places.
    patch = photo("coffee")[100:164, 100:164]

    def scene(x: int) -> np.ndarray:
        frame = _window(astronaut, 60, 80)
        frame[64:128, x : x + 64] = patch
        return frame

    first, middle, last = scene(100), scene(112), scene(124)
    forward, backward = (np.zeros((HEIGHT, WIDTH, 2), np.float32) for _ in range(2))
    forward[64:128, 100:164, 0] = 24
    backward[64:128, 124:188, 0] = -24
    sure = np.zeros((HEIGHT, WIDTH), np.float32)
    told = Transition(first, last, np.eye(3), FlowField(forward, backward, sure, sure))
    still = FlowField(np.zeros_like(forward), np.zeros_like(backward), sure, sure)
    told_still = Transition(first, last, np.eye(3), still)
    # The patch at mid-clip, clear of its edges and of the bands (12 px on each side) where
    # the patch covers a background that one source still sees at its own time.
    core = (slice(72, 120), slice(128, 160))
    assert psnr(told.frame(0.5, np.eye(3), 0.5)[core], middle[core]) > 40
    assert psnr(told_still.frame(0.5, np.eye(3), 0.5)[core], middle[core]) < 32


def test_a_zoom_between_the_frames_is_interpolated(astronaut: np.ndarray) -> None:
    # A zoom at a constant rate (1.3x over the clip) about the photo point (200, 200).
    gap = 12
    scales = [1.3 ** (k / gap) for k in range(gap + 1)]
    views = [_window(astronaut, 200 - 104 / s, 200 - 104 / s, s) for s in scales]
    frames = render(views[0], "", last=views[-1], frames=gap + 1)
    for k in (3, 6, 9):
        fade = cv2.addWeighted(views[0], 1 - k / gap, views[-1], k / gap, 0)
        assert psnr(frames[k], views[k]) > 28
        assert psnr(frames[k], views[k]) > psnr(fade, views[k]) + 8


def _centred(picture: np.ndarray, cx: float, cy: float, scale: float) -> np.ndarray:
    """A WIDTH x HEIGHT view of ``picture`` centred on (cx, cy), magnified ``scale``."""
    return _window(picture, cx - (WIDTH - 1) / 2 / scale, cy - (HEIGHT - 1) / 2 / scale, scale)


def _scale_of(frame: np.ndarray, reference: np.ndarray, cx: float, cy: float) -> float:
    """The magnification of ``frame`` as a centred view: the scale whose view it best matches."""
    scales = np.linspace(1.0, 1.4, 81)
    errors = [np.abs(_centred(reference, cx, cy, s).astype(float) - frame).mean() for s in scales]
    return float(scales[int(np.argmin(errors))])


@pytest.mark.parametrize("prompt", ["[Truck right]", "[右移]", "[Pan right]", "[Truck left]"])
def test_a_command_on_the_frames_own_axis_adds_no_displacement(
    astronaut: np.ndarray, prompt: str
) -> None:
    # The last frame is the first moved right by 30 % of its width: naming that move (or
    # contradicting it) leaves the path to the frames, exactly as with no command.
    first, last = _window(astronaut, 40, 100), _window(astronaut, 40 + 0.3 * WIDTH, 100)
    plain = render(first, "", last=last, frames=25)
    named = render(first, prompt, last=last, frames=25)
    assert all(np.array_equal(a, b) for a, b in zip(plain, named, strict=True))
    middle = _window(astronaut, 40 + 0.15 * WIDTH, 100)
    assert psnr(named[12], middle) > 30


@pytest.mark.parametrize(
    ("prompt", "truth"),
    [
        ("[推进]", lambda t: 1 / (1 - (1 - 1 / 1.3) * t)),  # a dolly: distance shrinks linearly
        ("[变焦推近]", lambda t: 1 + 0.3 * t),  # a zoom lens: focal length grows linearly
    ],
)
def test_a_push_in_or_zoom_that_agrees_follows_its_device_and_never_turns_back(
    astronaut: np.ndarray, prompt: str, truth: Callable[[float], float]
) -> None:
    centre = (260.0, 230.0)
    first, last = _centred(astronaut, *centre, 1.0), _centred(astronaut, *centre, 1.3)
    frames = render(first, prompt, last=last, frames=25)
    assert np.array_equal(frames[0], first) and np.array_equal(frames[-1], last)
    scales = [_scale_of(frames[k], astronaut, *centre) for k in range(0, 25, 4)]
    assert scales == sorted(scales) and max(scales) <= 1.3 + 0.005, "no zoom past the last frame"
    middle = _centred(astronaut, *centre, truth(0.5))
    plain = render(first, "", last=last, frames=25)
    assert psnr(frames[12], middle) > psnr(plain[12], middle) + 1.5
    assert psnr(frames[12], middle) > 33


@pytest.mark.parametrize("prompt", ["[Push in]", "[Pan left]", "[Shake]"])
def test_a_move_the_frames_cannot_show_plays_as_a_detour_between_them(prompt: str) -> None:
    scene = marked_scene()
    shifted = np.roll(scene, 4, axis=1)  # 1 % of the width: no camera move to speak of
    plain = render(scene, "", last=shifted)
    moved = render(scene, prompt, last=shifted)
    assert np.array_equal(moved[0], scene) and np.array_equal(moved[-1], shifted)
    away = max(float(np.abs(a.astype(int) - b).mean()) for a, b in zip(moved, plain, strict=True))
    assert away > 3, "the camera moves off the frames' path and comes back"


def test_a_push_in_detour_between_identical_frames_settles_back() -> None:
    scene = marked_scene()
    pushed = render(scene, "[Push in]", last=scene)
    assert np.array_equal(pushed[0], scene) and np.array_equal(pushed[-1], scene)
    sizes = [area(frame, RED) / area(scene, RED) for frame in pushed]
    assert max(sizes) > 1.2, "the camera pushes in"
    assert int(np.argmax(sizes)) > len(sizes) // 2, "through most of the clip, then settles"


@pytest.mark.parametrize("prompt", ["", "[Push in]", "[Pan left]", "[Pedestal up, Zoom out]"])
def test_a_last_frame_alone_is_landed_on_whatever_the_move(prompt: str) -> None:
    scene = marked_scene()
    frames = render(None, prompt, last=scene, mode=Mode.FIRST_LAST)
    assert np.array_equal(frames[-1], scene)
    path = np.array([centroid(frame, RED) for frame in frames])
    sizes = np.array([area(frame, RED) for frame in frames])
    assert np.abs(path - path[-1]).max() > 3 or np.abs(sizes - sizes[-1]).max() > 20, "it moves"
    if not prompt:
        # With no command the camera pulls back onto the picture: the feature shrinks.
        assert sizes[0] > 1.1 * sizes[-1]


@pytest.mark.parametrize(("dx", "dy"), [(40, 30), (40, -30), (-40, 30), (-40, -30)])
@pytest.mark.parametrize("prompt", ["", "[Push in]"])
def test_a_diagonal_move_between_the_frames_never_smears_an_edge(
    astronaut: np.ndarray, dx: int, dy: int, prompt: str
) -> None:
    # On a diagonal move a corner of an in-between frame is in neither frame; drawn from
    # past both edges, the painted rings would be smeared into the picture. Only a sliver
    # UNSEEN_EDGE deep may be neither frame's, and the 2-pixel rings may border it.
    first = with_ring(_window(astronaut, 100, 100))
    last = with_ring(_window(astronaut, 100 + dx, 100 + dy))
    frames = render(first, prompt, last=last, frames=25)
    assert np.array_equal(frames[0], first) and np.array_equal(frames[-1], last)
    depth = math.ceil(UNSEEN_EDGE * WIDTH) + 2 + 1
    for index, frame in enumerate(frames):
        assert ring_inside(frame, depth) == 0, f"frame {index}: an edge is smeared inward"


def test_tracking_between_frames_eases_along_their_motion(astronaut: np.ndarray) -> None:
    green = (20, 220, 20)
    marked = with_markers(astronaut, {(300, 180): green}, half=5)
    first, last = _window(marked, 60, 80), _window(marked, 140, 80)
    plain = render(first, "", last=last, frames=25)
    tracked = render(first, "[Tracking shot]", last=last, frames=25)
    assert np.array_equal(tracked[0], first) and np.array_equal(tracked[-1], last)

    def travelled(frames: list[np.ndarray], index: int) -> float:
        return centroid(frames[0], green)[0] - centroid(frames[index], green)[0]

    # The feature travels 80 px. An eased camera lags the steady one early on and leads late.
    assert travelled(tracked, 6) < travelled(plain, 6) - 4
    assert travelled(tracked, 18) > travelled(plain, 18) + 2


def test_progress_is_reported_as_frames_stream(astronaut: np.ndarray) -> None:
    seen: list[float] = []
    first, last = _window(astronaut, 60, 80), _window(astronaut, 90, 90)
    job = Job(
        mode=Mode.FIRST_LAST,
        prompt="",
        camera_plan=CameraPlan(),
        width=WIDTH,
        height=HEIGHT,
        frame_count=30,
        first_frame=first,
        last_frame=last,
    )
    frames = MotionEngine().generate(job, seen.append)
    next(frames)
    assert seen and seen[-1] < 0.1, "the first frame comes before the rest are made"
    rest = list(frames)
    assert len(rest) == 29
    assert seen == sorted(seen) and seen[-1] == 1.0


def test_an_abort_from_progress_stops_the_engine(astronaut: np.ndarray) -> None:
    class Taken(Exception):
        pass

    def progress(fraction: float) -> None:
        if fraction > 0.5:
            raise Taken

    still = _window(astronaut, 60, 80)
    job = Job(
        mode=Mode.IMAGE,
        prompt="",
        camera_plan=CameraPlan(),
        width=WIDTH,
        height=HEIGHT,
        frame_count=40,
        first_frame=still,
    )
    made = []
    with pytest.raises(Taken):
        for frame in MotionEngine().generate(job, progress):
            made.append(frame)
    assert 15 < len(made) < 40


def test_the_engine_refuses_what_it_cannot_draw() -> None:
    engine = MotionEngine()
    assert engine.name == "motion"
    text = Job(
        mode=Mode.TEXT,
        prompt="a cat",
        camera_plan=CameraPlan(),
        width=WIDTH,
        height=HEIGHT,
        frame_count=24,
    )
    with pytest.raises(EngineFailure, match="motion engine"):
        list(engine.generate(text, lambda _: None))
    wrong = Job(
        mode=Mode.IMAGE,
        prompt="",
        camera_plan=CameraPlan(),
        width=WIDTH,
        height=HEIGHT,
        frame_count=24,
        first_frame=np.zeros((10, 10, 3), np.uint8),
    )
    with pytest.raises(EngineFailure, match="expected"):
        list(engine.generate(wrong, lambda _: None))
    engine.close()


@pytest.mark.parametrize("name", ["coffee", "rocket", "chelsea"])
def test_real_photos_begin_on_the_picture_and_look_no_further_than_its_extension(
    name: str,
) -> None:
    picture = with_ring(cv2.resize(photo(name), (WIDTH, HEIGHT), interpolation=cv2.INTER_AREA))
    for prompt in ("[Pan right, Pedestal down]", "[Zoom out], [Shake]", "[Truck right]"):
        frames = render(picture, prompt, frames=72)
        assert np.array_equal(frames[0], picture)
        for index, frame in enumerate(frames):
            assert ring_inside(frame, extension_depth(WIDTH)) == 0, f"{prompt} frame {index}"
