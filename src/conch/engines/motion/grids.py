"""Pixel grids at several sizes of one frame, and homographies applied to whole grids.

The flow is estimated on a working grid and each frame's sampling maps are built on a
coarser map grid; both must agree with the full frame on where pixel centres are, which is
the convention ``cv2.resize`` follows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from conch.engines.motion.geometry import Homography


@dataclass(frozen=True)
class PixelGrid:
    """A ``width`` x ``height`` grid laid over a full frame of ``full_width`` x ``full_height``."""

    width: int
    height: int
    full_width: int
    full_height: int

    @classmethod
    def for_frame(cls, width: int, height: int, side: int) -> PixelGrid:
        """A grid whose long side is at most ``side``, over a ``width`` x ``height`` frame."""
        scale = min(1.0, side / max(width, height))
        return cls(max(8, round(width * scale)), max(8, round(height * scale)), width, height)

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height

    @property
    def full_size(self) -> tuple[int, int]:
        return self.full_width, self.full_height

    @property
    def factors(self) -> tuple[float, float]:
        return self.width / self.full_width, self.height / self.full_height

    def to_grid(self) -> Homography:
        """Full-frame pixel coordinates to this grid's (pixel centres kept aligned)."""
        sx, sy = self.factors
        return np.array([[sx, 0, 0.5 * sx - 0.5], [0, sy, 0.5 * sy - 0.5], [0, 0, 1.0]])

    def to_full(self) -> Homography:
        """This grid's coordinates to the full frame's."""
        return np.linalg.inv(self.to_grid())

    def points(self) -> tuple[np.ndarray, np.ndarray]:
        """The x and y coordinates of every pixel centre, as float32 arrays."""
        return pixel_points(self.width, self.height)


def pixel_points(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """x and y of every pixel centre of a ``width`` x ``height`` image (float32)."""
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    return xs, ys


def apply_to_points(h: Homography, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Homography ``h`` applied to the points with coordinates ``x``, ``y``.

    The result keeps the points' precision: float32 maps stay float32 (as ``cv2.remap``
    takes them), float64 points stay float64.
    """
    m = h.astype(np.result_type(x, y, np.float32))
    w = m[2, 0] * x + m[2, 1] * y + m[2, 2]
    return (m[0, 0] * x + m[0, 1] * y + m[0, 2]) / w, (m[1, 0] * x + m[1, 1] * y + m[1, 2]) / w
