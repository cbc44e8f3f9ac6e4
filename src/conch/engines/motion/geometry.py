"""Camera geometry: a pinhole camera looking at a tilted scene plane.

A still photograph has no depth, so moves that translate the camera (truck, pedestal, push
in) assume the scene is a plane one unit in front of the camera, tilted so that its lower
part is nearer, as the ground in most photographs is. Translations then show parallax (near
parts move more) while rotations (pan, tilt) and focal-length changes (zoom) do not, which
is what tells a truck from a pan and a push in from a zoom.

Every homography here is a *sampling map*: it takes an output pixel to the source pixel it
shows (the convention of ``cv2.remap`` and ``WARP_INVERSE_MAP``), with pixel centres at
integer coordinates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

Homography = np.ndarray
"""A 3x3 float64 matrix acting on homogeneous pixel coordinates."""

FIELD_OF_VIEW = math.radians(60)
"""Horizontal field of view across the longer side of the frame."""

GROUND_TILT = math.radians(30)
"""How far the scene plane leans back: its lower part is nearer the camera."""


@dataclass(frozen=True)
class CameraPose:
    """Where the camera is relative to where it started.

    ``x``, ``y``, ``z``: position in units of the scene's distance (x right, y down, z forward);
    ``yaw`` (positive looks right), ``pitch`` (positive looks up), ``roll``: radians;
    ``log_zoom``: natural log of the focal-length factor.
    """

    x: float = 0.0
    y: float = 0.0
    z: float = 0.0
    yaw: float = 0.0
    pitch: float = 0.0
    roll: float = 0.0
    log_zoom: float = 0.0

    def __add__(self, other: CameraPose) -> CameraPose:
        return CameraPose(*(a + b for a, b in zip(self.values(), other.values(), strict=True)))

    def __sub__(self, other: CameraPose) -> CameraPose:
        return self + other.scaled(-1.0)

    def scaled(self, factor: float) -> CameraPose:
        """This displacement, ``factor`` times over."""
        return CameraPose(*(v * factor for v in self.values()))

    def values(self) -> tuple[float, ...]:
        """The seven numbers in field order (x, y, z, yaw, pitch, roll, log_zoom)."""
        return tuple(getattr(self, f.name) for f in fields(self))


STILL = CameraPose()
"""The pose that has not moved."""


@dataclass(frozen=True)
class Lens:
    """The intrinsics of a frame of ``width`` x ``height`` pixels."""

    width: int
    height: int

    @property
    def focal(self) -> float:
        """The focal length in pixels: :data:`FIELD_OF_VIEW` across the longer side."""
        return 0.5 * max(self.width, self.height) / math.tan(FIELD_OF_VIEW / 2)

    @property
    def centre(self) -> tuple[float, float]:
        """The principal point: the frame's centre, in pixel-centre coordinates."""
        return (self.width - 1) / 2, (self.height - 1) / 2

    def matrix(self, zoom: float = 1.0) -> np.ndarray:
        """The camera matrix K, its focal length multiplied by ``zoom``."""
        cx, cy = self.centre
        f = self.focal * zoom
        return np.array([[f, 0.0, cx], [0.0, f, cy], [0.0, 0.0, 1.0]])


def _rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """Camera-to-world rotation for a camera turned by ``yaw``, ``pitch`` and ``roll``."""
    cy, sy = math.cos(yaw), math.sin(yaw)
    cp, sp = math.cos(pitch), math.sin(pitch)
    cr, sr = math.cos(roll), math.sin(roll)
    turn = np.array([[cy, 0.0, sy], [0.0, 1.0, 0.0], [-sy, 0.0, cy]])
    # Positive pitch looks up, i.e. toward negative y in image coordinates.
    nod = np.array([[1.0, 0.0, 0.0], [0.0, cp, -sp], [0.0, sp, cp]])
    lean = np.array([[cr, -sr, 0.0], [sr, cr, 0.0], [0.0, 0.0, 1.0]])
    return turn @ nod @ lean


_PLANE_NORMAL = np.array([0.0, math.sin(GROUND_TILT), math.cos(GROUND_TILT)])


def pose_homography(pose: CameraPose, lens: Lens) -> Homography:
    """The sampling map from the moved camera's pixels to the original camera's pixels."""
    centre = np.array([pose.x, pose.y, pose.z])
    # The plane n.X = 1 seen from the new centre: rays from it hit the plane where the
    # original camera sees them, which is the plane-induced homography.
    gap = 1.0 - float(_PLANE_NORMAL @ centre)
    parallax = np.eye(3) + np.outer(centre, _PLANE_NORMAL) / gap
    moved = lens.matrix(math.exp(pose.log_zoom))
    h = lens.matrix() @ parallax @ _rotation(pose.yaw, pose.pitch, pose.roll)
    return normalized(h @ np.linalg.inv(moved))


def normalized(h: Homography) -> Homography:
    """``h`` scaled so that its bottom-right entry is 1."""
    return h / h[2, 2]


def scale_about(anchor: tuple[float, float], factor: float | np.ndarray) -> np.ndarray:
    """The sampling map of a zoom by ``factor`` that keeps output pixel ``anchor`` fixed.

    A number gives one 3x3 map; an array of factors gives a stack of maps, one per factor.
    """
    inv = 1.0 / np.asarray(factor, dtype=float)
    maps = np.zeros((*inv.shape, 3, 3))
    maps[..., 0, 0] = maps[..., 1, 1] = inv
    maps[..., 0, 2] = anchor[0] * (1 - inv)
    maps[..., 1, 2] = anchor[1] * (1 - inv)
    maps[..., 2, 2] = 1.0
    return maps


def corners(width: int, height: int) -> np.ndarray:
    """The centres of the four corner pixels of a frame, as a (4, 2) array."""
    w, h = width - 1.0, height - 1.0
    return np.array([[0.0, 0.0], [w, 0.0], [w, h], [0.0, h]])


def is_identity(h: Homography, tolerance: float = 1e-9) -> bool:
    """True if ``h`` samples every pixel from itself."""
    return bool(np.abs(normalized(h) - np.eye(3)).max() <= tolerance)
