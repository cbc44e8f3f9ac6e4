"""A picture extended past its edges: seamless, no streaks, nearer the truth than a border."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from conch.engines.motion.extension import extended, margin_for
from conch.media.quality import psnr
from support.photos import photo

MARGIN = 24


def _inner(name: str) -> tuple[np.ndarray, np.ndarray]:
    """A photo's centre (the picture) and the photo around it (the truth past its edges)."""
    whole = cv2.resize(photo(name), (368, 240), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(whole[MARGIN:-MARGIN, MARGIN:-MARGIN]), whole


def test_the_picture_itself_is_kept_bit_for_bit() -> None:
    picture, _ = _inner("astronaut")
    canvas = extended(picture, MARGIN)
    assert canvas.shape == (picture.shape[0] + 2 * MARGIN, picture.shape[1] + 2 * MARGIN, 3)
    assert np.array_equal(canvas[MARGIN:-MARGIN, MARGIN:-MARGIN], picture)
    assert extended(picture, 0) is picture
    assert margin_for(0.0) == 0 and margin_for(10.2) == 13


@pytest.mark.parametrize("name", ["astronaut", "coffee", "chelsea", "rocket"])
def test_the_edge_has_no_seam(name: str) -> None:
    # Across the picture's edge the step is like any step between neighbouring columns.
    picture, _ = _inner(name)
    canvas = extended(picture, MARGIN).astype(float)
    m = MARGIN
    across = np.abs(canvas[m:-m, m - 1] - canvas[m:-m, m]).mean()
    inside = np.abs(canvas[m:-m, m + 1 : m + 6] - canvas[m:-m, m : m + 5]).mean()
    assert across < 1.5 * inside


@pytest.mark.parametrize("name", ["astronaut", "coffee", "chelsea", "rocket"])
def test_the_extension_has_no_streaks(name: str) -> None:
    # Repeated edge pixels would leave no change across the band (streaks along it only).
    picture, _ = _inner(name)
    band = extended(picture, MARGIN).astype(float)[MARGIN:-MARGIN, : MARGIN // 2]
    along = np.abs(np.diff(band, axis=0)).mean()
    across = np.abs(np.diff(band, axis=1)).mean()
    assert across > 0.2 * along


@pytest.mark.parametrize("name", ["astronaut", "coffee", "chelsea", "rocket"])
def test_the_extension_is_nearer_the_true_surroundings_than_a_flat_border(name: str) -> None:
    picture, whole = _inner(name)
    canvas = extended(picture, MARGIN)
    flat = cv2.copyMakeBorder(
        picture, *(MARGIN,) * 4, cv2.BORDER_CONSTANT, value=picture.mean(axis=(0, 1)).tolist()
    )
    band = np.ones(whole.shape[:2], bool)
    band[MARGIN:-MARGIN, MARGIN:-MARGIN] = False
    assert psnr(canvas[band], whole[band]) > psnr(flat[band], whole[band]) + 1
