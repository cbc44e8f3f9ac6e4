"""Softening a source where its motion is uncertain (conch.engines.motion.blend.blur_where):
a wide blur is made at half size, and it matches the full-size blur on a real frame."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from conch.engines.motion.blend import SOFTEN_SIGMA, blur_where
from conch.media.quality import psnr
from support.photos import clip_frame, photo


@pytest.fixture(scope="module")
def frame() -> np.ndarray:
    """A 1280 x 720 frame of the test clip."""
    return clip_frame(40)


def test_a_fully_uncertain_frame_matches_a_full_size_blur(frame: np.ndarray) -> None:
    softened = blur_where(frame, np.full(frame.shape[:2], 100.0, np.float32))
    full_size = cv2.GaussianBlur(frame, (0, 0), SOFTEN_SIGMA)
    assert psnr(softened, full_size) >= 40.0
    assert psnr(softened, frame) < 30.0  # and it is a blur


def test_certain_motion_leaves_the_frame_as_it_is(frame: np.ndarray) -> None:
    kept = blur_where(frame, np.zeros(frame.shape[:2], np.float32))
    assert np.array_equal(kept, frame)


def test_a_small_frame_is_blurred_at_its_own_size() -> None:
    small = cv2.resize(photo("astronaut"), (160, 90), interpolation=cv2.INTER_AREA)
    softened = blur_where(small, np.full(small.shape[:2], 100.0, np.float32))
    expected = cv2.GaussianBlur(small, (0, 0), SOFTEN_SIGMA * 160 / 1280)
    assert np.array_equal(softened, expected)
