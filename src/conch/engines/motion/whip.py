"""Two pictures of different things: a whip pan from the first into the second.

With no geometry between the frames, a dissolve is a double exposure (halfway, one face
sits inside the other picture). Instead the camera leans in on the first picture, whips
across to the second laid beside it, and settles back on it. The pictures meet at a seam
that enters the frame only while the camera moves fast, hidden by motion blur; each pixel
comes from one picture, but for that blurred seam.

The direction is the prompt's first sideways or up-down command (a truck or pan left
whips left, a pedestal or tilt up whips up), rightward with none.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from conch.domain.camera import CameraMove, CameraPlan
from conch.engines.motion.easing import clip_time
from conch.engines.motion.geometry import Homography

STEEPNESS = 24.0
"""How sharply the whip accelerates: the travel follows tanh(STEEPNESS (t - 1/2))."""

LEAN = 1.2
"""How far the camera leans in (zoom) at the whip's height: the room it gives keeps the seam
out of the frame until the camera is already fast."""

SHUTTER = 0.5
"""Share of a frame's interval the virtual shutter is open (a 180-degree shutter)."""

LEAST_BLUR = 2
"""Pixels of travel during the open shutter from which a frame is blurred along the move."""


@dataclass(frozen=True)
class Direction:
    """Where the camera whips: the second picture lies this way from the first."""

    dx: int
    dy: int


RIGHT, LEFT, UP, DOWN = Direction(1, 0), Direction(-1, 0), Direction(0, -1), Direction(0, 1)

_DIRECTIONS = {
    CameraMove.TRUCK_RIGHT: RIGHT,
    CameraMove.PAN_RIGHT: RIGHT,
    CameraMove.TRUCK_LEFT: LEFT,
    CameraMove.PAN_LEFT: LEFT,
    CameraMove.PEDESTAL_UP: UP,
    CameraMove.TILT_UP: UP,
    CameraMove.PEDESTAL_DOWN: DOWN,
    CameraMove.TILT_DOWN: DOWN,
}


def direction_of(plan: CameraPlan) -> Direction:
    """The first sideways or up-down move in ``plan``, or rightward."""
    for segment in plan.segments:
        for move in sorted(segment.moves):
            if move in _DIRECTIONS:
                return _DIRECTIONS[move]
    return RIGHT


def travel(t: float) -> float:
    """Share of the way from the first picture to the second at clip time ``t``: 0 at 0,
    1 at 1, slow at both ends and fastest in the middle."""
    return 0.5 + 0.5 * math.tanh(STEEPNESS * (t - 0.5)) / math.tanh(STEEPNESS / 2)


def lean(t: float) -> float:
    """The zoom at clip time ``t``: 1 at both ends, :data:`LEAN` in the middle."""
    return 1.0 + (LEAN - 1.0) * math.sin(math.pi * t) ** 2


class Whip:
    """Renders the whip from ``first`` to ``last`` (two pictures of one size)."""

    def __init__(self, first: np.ndarray, last: np.ndarray, direction: Direction) -> None:
        self.first, self.last, self.direction = first, last, direction
        self.height, self.width = first.shape[:2]
        # The second picture beside the first, where the camera goes.
        pair = (first, last) if direction.dx + direction.dy > 0 else (last, first)
        self.canvas = np.ascontiguousarray(np.concatenate(pair, axis=1 if direction.dx else 0))
        self.start = 0 if direction.dx + direction.dy > 0 else 1

    def frames(self, count: int) -> Iterator[np.ndarray]:
        """Every frame: the first and last are the two pictures themselves."""
        step = 1.0 / max(1, count - 1)
        for index in range(count):
            if index in (0, count - 1):
                yield self.first if index == 0 else self.last
                continue
            yield self.frame(clip_time(index, count), step)

    def frame(self, t: float, step: float) -> np.ndarray:
        """The frame at time ``t``, blurred by the travel while a shutter of a frame ``step``
        long is open (a box along the move: the lean's zoom is slight beside it)."""
        frame = self._render(self.view(t))
        streak = self._streak(t, step)
        if streak < LEAST_BLUR:
            return frame
        kernel = (streak, 1) if self.direction.dx else (1, streak)
        return cv2.blur(frame, kernel, borderType=cv2.BORDER_REFLECT_101)

    def view(self, t: float) -> Homography:
        """The sampling map from the frame to the canvas at time ``t``."""
        offset = (self.start + (1 - 2 * self.start) * travel(t)) * np.array(
            [self.width * abs(self.direction.dx), self.height * abs(self.direction.dy)]
        )
        cx, cy = (self.width - 1) / 2, (self.height - 1) / 2
        z = 1.0 / lean(t)
        return np.array(
            [[z, 0.0, offset[0] + cx * (1 - z)], [0.0, z, offset[1] + cy * (1 - z)], [0, 0, 1.0]]
        )

    def _streak(self, t: float, step: float) -> int:
        """Pixels the picture travels on screen while the shutter is open around ``t``."""
        half = SHUTTER * step / 2
        start, end = max(0.0, t - half), min(1.0, t + half)
        side = max(self.width * abs(self.direction.dx), self.height * abs(self.direction.dy))
        return round(abs(travel(end) - travel(start)) * side * lean(t))

    def _render(self, view: Homography) -> np.ndarray:
        # The view is a zoom and a slide, and it stays on the canvas: an affine warp will do.
        return cv2.warpAffine(
            self.canvas,
            view[:2],
            (self.width, self.height),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_REPLICATE,
        )
