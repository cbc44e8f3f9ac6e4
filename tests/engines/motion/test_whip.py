"""Two pictures of different things: a whip pan from one into the other, not a double exposure."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from conch.domain.camera import parse_prompt
from conch.engines.motion.alignment import match, shares_geometry
from conch.engines.motion.whip import DOWN, LEFT, RIGHT, UP, Whip, direction_of, travel
from conch.media.quality import psnr
from engines.motion.scene import render
from support.photos import clip_frame, photo

WIDTH, HEIGHT = 320, 180


def _fitted(picture: np.ndarray) -> np.ndarray:
    height, width = picture.shape[:2]
    crop = round(width * HEIGHT / WIDTH)
    top = (height - crop) // 2
    return cv2.resize(picture[top : top + crop], (WIDTH, HEIGHT), interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return _fitted(photo("astronaut"))


@pytest.fixture(scope="module")
def coffee() -> np.ndarray:
    return _fitted(photo("coffee"))


def _gray(picture: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(picture, cv2.COLOR_RGB2GRAY)


@pytest.mark.parametrize(("a", "b"), [("astronaut", "coffee"), ("rocket", "chelsea")])
def test_photos_of_different_things_share_no_geometry(a: str, b: str) -> None:
    first, last = _gray(_fitted(photo(a))), _gray(_fitted(photo(b)))
    found = match(first, last)
    assert found.homography is None and found.inliers < 20
    assert not shares_geometry(found, first, last)


def test_frames_of_one_shot_share_geometry() -> None:
    first, last = (_gray(cv2.resize(clip_frame(i), (WIDTH, HEIGHT))) for i in (10, 58))
    assert shares_geometry(match(first, last), first, last)
    assert shares_geometry(match(first, first), first, first)


def test_unrelated_photos_whip_from_one_into_the_other(
    astronaut: np.ndarray, coffee: np.ndarray
) -> None:
    frames = render(astronaut, "", last=coffee, frames=49)
    assert np.array_equal(frames[0], astronaut) and np.array_equal(frames[-1], coffee)
    middle = frames[24]
    fade = cv2.addWeighted(astronaut, 0.5, coffee, 0.5, 0)
    assert psnr(middle, fade) < 20, "not a double exposure"
    # Rightward: the first picture leaves on the left, the second arrives from the right.
    left, right = middle[:, : WIDTH // 4], middle[:, -WIDTH // 4 :]
    assert _nearest_colour(left, astronaut, coffee) == "first"
    assert _nearest_colour(right, astronaut, coffee) == "second"


def _nearest_colour(region: np.ndarray, first: np.ndarray, second: np.ndarray) -> str:
    """Which picture's mean colour ``region`` is nearer (the whip blurs detail away)."""
    mean = region.reshape(-1, 3).mean(axis=0)
    d0 = np.abs(mean - first.reshape(-1, 3).mean(axis=0)).sum()
    d1 = np.abs(mean - second.reshape(-1, 3).mean(axis=0)).sum()
    return "first" if d0 < d1 else "second"


def test_each_pixel_comes_from_one_picture_but_for_the_blurred_seam() -> None:
    # Pictures of a single value each: any value between them is a mix of both.
    dark, light = np.zeros((HEIGHT, WIDTH, 3), np.uint8), np.full((HEIGHT, WIDTH, 3), 200, np.uint8)
    whip = Whip(dark, light, RIGHT)
    for frame in whip.frames(145):
        mixed = (frame[..., 0] > 40) & (frame[..., 0] < 160)
        assert mixed.mean() < 0.2, "at most a band of blur around the seam"
    seam_frames = [f for f in whip.frames(145) if ((f[..., 0] > 40) & (f[..., 0] < 160)).any()]
    assert len(seam_frames) < 0.2 * 145, "the seam is in view only while the camera whips"


@pytest.mark.parametrize(
    ("prompt", "direction"),
    [
        ("", RIGHT),
        ("[Pan left]", LEFT),
        ("[左移]", LEFT),
        ("[Push in], [Tilt up]", UP),
        ("[Pedestal down]", DOWN),
    ],
)
def test_the_prompt_chooses_the_direction(prompt: str, direction: object) -> None:
    assert direction_of(parse_prompt(prompt).plan) == direction


def test_a_leftward_whip_brings_the_second_picture_from_the_left(
    astronaut: np.ndarray, coffee: np.ndarray
) -> None:
    middle = render(astronaut, "[Truck left]", last=coffee, frames=49)[24]
    assert _nearest_colour(middle[:, : WIDTH // 4], astronaut, coffee) == "second"


def test_the_travel_is_slow_at_the_ends_and_fast_in_the_middle() -> None:
    assert travel(0.0) == 0.0 and travel(1.0) == pytest.approx(1.0)
    assert travel(0.3) < 0.01 and travel(0.7) > 0.99
    assert travel(0.55) - travel(0.45) > 0.8
