"""Blending two warped frames, and softening a frame where its motion is uncertain."""

from __future__ import annotations

import cv2
import numpy as np

SOFTEN_PER_PIXEL = 0.1
"""How strongly flow disagreement (pixels of spread) softens a source frame."""

SOFTEN_SIGMA = 9.0
"""Blur, in pixels of a frame 1280 pixels across, of a fully softened source."""


def blend(
    first: np.ndarray, last: np.ndarray, weight: np.ndarray | float, usual: float
) -> np.ndarray:
    """``first`` and ``last`` mixed, ``first`` weighted by ``weight`` (a number or coarse map).

    Where a map differs from the ``usual`` weight is mostly a band along the frame's edges
    (what one frame sees past the other's edge), so the frame is blended with one number
    and only those bands pixel by pixel.
    """
    if isinstance(weight, float):
        return cv2.addWeighted(first, weight, last, 1.0 - weight, 0.0)
    height, width = first.shape[:2]
    full_weight = cv2.resize(weight, (width, height))
    out = cv2.addWeighted(first, usual, last, 1.0 - usual, 0.0)
    for rows, cols in edge_bands(np.abs(weight - usual) > 1e-3, width, height):
        band = full_weight[rows, cols]
        out[rows, cols] = cv2.blendLinear(
            np.ascontiguousarray(first[rows, cols]),
            np.ascontiguousarray(last[rows, cols]),
            band,
            1.0 - band,
        )
    return out


def edge_bands(unusual: np.ndarray, width: int, height: int) -> list[tuple[slice, slice]]:
    """Full-size bands along the four edges that together cover every ``unusual`` cell.

    Each unusual cell of the coarse map is charged to its nearest edge; a band is as deep
    as its deepest cell, plus a cell for the upsampling's reach.
    """
    rows, cols = np.nonzero(unusual)
    if rows.size == 0:
        return []
    grid_h, grid_w = unusual.shape
    depths = np.stack([rows, grid_h - 1 - rows, cols, grid_w - 1 - cols])
    nearest = depths.argmin(axis=0)
    reach = [
        int(depths[side][nearest == side].max()) + 2 if (nearest == side).any() else 0
        for side in range(4)
    ]
    top, bottom, left, right = (
        min(full, int(np.ceil(cells * full / grid)))
        for cells, full, grid in zip(
            reach, (height, height, width, width), (grid_h, grid_h, grid_w, grid_w), strict=True
        )
    )
    middle = slice(top, max(top, height - bottom))
    bands = [
        (slice(0, top), slice(0, width)),
        (slice(height - bottom, height), slice(0, width)),
        (middle, slice(0, left)),
        (middle, slice(width - right, width)),
    ]
    return [(r, c) for r, c in bands if r.stop > r.start and c.stop > c.start]


def blur_where(image: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """``image`` blurred in proportion to ``spread``, the uncertainty of its motion.

    A frame drawn from uncertain motion is wrong somewhere nearby; a blur there spreads the
    error instead of placing a sharp edge in the wrong place (less error, fewer artefacts).
    """
    amount = np.clip(spread * SOFTEN_PER_PIXEL, 0.0, 1.0).astype(np.float32)
    sigma = SOFTEN_SIGMA * max(image.shape[:2]) / 1280
    return cv2.blendLinear(image, _blurred(image, sigma), 1.0 - amount, amount)


HALF_SIZE_SIGMA = 2.0
"""The least blur, in half-size pixels, that is made at half size."""


def _blurred(image: np.ndarray, sigma: float) -> np.ndarray:
    """``image`` under a Gaussian blur of ``sigma`` pixels. A wide blur leaves no detail a
    half-size picture cannot hold, so it is made at half size and enlarged: a quarter of
    the work, and the same interpolation scores to the hundredth of a dB."""
    if sigma < 2 * HALF_SIZE_SIGMA:
        return cv2.GaussianBlur(image, (0, 0), sigma)
    height, width = image.shape[:2]
    half = cv2.resize(image, (width // 2, height // 2), interpolation=cv2.INTER_AREA)
    half = cv2.GaussianBlur(half, (0, 0), sigma / 2)
    return cv2.resize(half, (width, height), interpolation=cv2.INTER_LINEAR)


SOFTEN_LEVELS = 16
"""Steps between sharp and fully softened: a step is invisible, and each is mixed once."""


class Softening:
    """A source and its softened version, mixed by an amount that changes frame by frame.

    Amounts are rounded to :data:`SOFTEN_LEVELS` steps and the last mix is kept, so a clip
    mixes each step once instead of once a frame.
    """

    def __init__(self, sharp: np.ndarray, soft: np.ndarray) -> None:
        self.sharp, self.soft = sharp, soft
        self._level: int | None = None
        self._mix = sharp

    def at(self, amount: float) -> np.ndarray:
        """The source softened by ``amount`` in [0, 1] (the sharp or soft array itself at
        either end, not a copy)."""
        level = round(min(1.0, max(0.0, amount)) * SOFTEN_LEVELS)
        if level == 0:
            return self.sharp
        if level == SOFTEN_LEVELS:
            return self.soft
        if level != self._level:
            share = level / SOFTEN_LEVELS
            self._level = level
            self._mix = cv2.addWeighted(self.sharp, 1.0 - share, self.soft, share, 0.0)
        return self._mix
