"""Pixels beyond a picture's edges, for a camera that looks a little past them.

A still shows only what its frame holds. When an image-to-video move must begin on the whole
picture and still look past an edge (a pull out, a zoom out, the leading edge of a truck),
the picture is extended: mirrored about its outermost pixels, which continues its texture
without a seam, and blurred more and more with distance from the edge (the blur's sigma
grows with the distance), so that the mirror's symmetry melts into out-of-focus colour
instead of reading as a reflection, a streak or a border.
``benchmarks/camera.py`` measures this against replicated edges, a plain mirror and
inpainting on the true surroundings of real photos (see docs/motion.md).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

GROWTH = 1.0
"""Blur sigma per pixel of distance beyond the edge: detail fades as it leaves the picture."""

_SMALLEST_SIGMA = 1.0


def margin_for(reach: float) -> int:
    """Whole pixels of extension that hold a view reaching ``reach`` pixels past an edge
    (and the bilinear neighbour of its outermost sample)."""
    return math.ceil(reach) + 2 if reach > 0 else 0


def extended(picture: np.ndarray, margin: int) -> np.ndarray:
    """``picture`` with ``margin`` pixels added on every side (the picture itself unchanged)."""
    if margin <= 0:
        return picture
    mirrored = cv2.copyMakeBorder(picture, margin, margin, margin, margin, cv2.BORDER_REFLECT_101)
    height, width = picture.shape[:2]
    sigma = GROWTH * _distance(width, height, margin)
    out = mirrored.copy()
    levels = _sigmas(GROWTH * margin * math.sqrt(2))
    sharper = mirrored
    for low, high in zip((0.0, *levels), levels, strict=False):
        blurred = _blur(mirrored, high)
        weight = np.clip((sigma - low) / (high - low), 0.0, 1.0).astype(np.float32)
        band = (sigma > low) & (sigma <= high)
        # Between two levels of blur, the pixel mixes them by where its sigma lies.
        mix = cv2.blendLinear(sharper, blurred, 1.0 - weight, weight)
        out[band] = mix[band]
        sharper = blurred
    out[sigma > levels[-1]] = sharper[sigma > levels[-1]]
    out[margin : margin + height, margin : margin + width] = picture
    return out


def _sigmas(largest: float) -> tuple[float, ...]:
    """Blur levels doubling from :data:`_SMALLEST_SIGMA` until they pass ``largest``."""
    count = max(1, math.ceil(math.log2(max(largest, _SMALLEST_SIGMA) / _SMALLEST_SIGMA)) + 1)
    return tuple(_SMALLEST_SIGMA * 2.0**k for k in range(count))


def _blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """A Gaussian blur; a wide one is made on a reduced copy (same look, a fraction of the cost)."""
    factor = max(1, int(sigma // 4))
    if factor == 1:
        return cv2.GaussianBlur(image, (0, 0), sigma)
    height, width = image.shape[:2]
    small = (max(1, width // factor), max(1, height // factor))
    reduced = cv2.resize(image, small, interpolation=cv2.INTER_AREA)
    blurred = cv2.GaussianBlur(reduced, (0, 0), sigma / factor)
    return cv2.resize(blurred, (width, height), interpolation=cv2.INTER_LINEAR)


def _distance(width: int, height: int, margin: int) -> np.ndarray:
    """Each canvas pixel's distance beyond the picture (0 on it)."""
    xs = np.arange(width + 2 * margin, dtype=np.float32) - margin
    ys = np.arange(height + 2 * margin, dtype=np.float32) - margin
    beyond_x = np.maximum(-xs, xs - (width - 1)).clip(0)
    beyond_y = np.maximum(-ys, ys - (height - 1)).clip(0)
    return np.hypot(beyond_x[None, :], beyond_y[:, None])
