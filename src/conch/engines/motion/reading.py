"""First and last frame: a camera plan read against the motion the two frames already show.

The frames decide the path. Each command in the plan is checked against the camera motion
between the frames, along its own axis (sideways, up-down, in-out):

- it **agrees** when the frames move the camera that way: it adds no displacement and only
  shapes the move (a zoom moves like a zoom lens, a push in like a dolly, a tracking shot
  eases like a camera);
- it **contradicts** when the frames move the camera the other way: the frames win;
- it is **unshown** when the frames do not move along its axis at all (a move on identical
  frames, a shake): it plays as a detour that leaves the camera where the frames put it.

So the clip always starts and ends exactly on the two frames, and a prompt that names the
move its own frames show gets the same path as no command at all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

import numpy as np

from conch.domain.camera import CameraMove, CameraPlan, CameraSegment
from conch.engines.motion.easing import ease_in_out
from conch.engines.motion.geometry import Homography, Lens, corners, normalized

SHOWN = 0.02
"""Camera motion along an axis that the frames show: 2 % of the frame sideways or up-down,
or a 2 % change of scale. Below it, the frames show no move along that axis."""


class Verdict(Enum):
    """How one command reads against the frames."""

    AGREES = "agrees"
    CONTRADICTS = "contradicts"
    UNSHOWN = "unshown"


class Law(Enum):
    """How the scale changes along the frames' motion."""

    STEADY = "steady"
    """At a constant rate of scale (the neutral choice when nothing says which device moved)."""
    ZOOM = "zoom"
    """A zoom lens at constant speed: the focal length grows linearly."""
    DOLLY = "dolly"
    """A dolly at constant speed toward the scene: the distance shrinks linearly."""


_AXES: dict[CameraMove, tuple[str, int]] = {
    CameraMove.TRUCK_RIGHT: ("across", 1),
    CameraMove.PAN_RIGHT: ("across", 1),
    CameraMove.TRUCK_LEFT: ("across", -1),
    CameraMove.PAN_LEFT: ("across", -1),
    CameraMove.PEDESTAL_UP: ("up", 1),
    CameraMove.TILT_UP: ("up", 1),
    CameraMove.PEDESTAL_DOWN: ("up", -1),
    CameraMove.TILT_DOWN: ("up", -1),
    CameraMove.PUSH_IN: ("depth", 1),
    CameraMove.ZOOM_IN: ("depth", 1),
    CameraMove.PULL_OUT: ("depth", -1),
    CameraMove.ZOOM_OUT: ("depth", -1),
}
"""The axis each directional command moves the camera along, and its direction."""


@dataclass(frozen=True)
class FrameMotion:
    """The camera motion from the first frame to the last, per axis.

    ``across``: the camera's move to the right as a share of the frame's width (the picture
    slides left); ``up``: its move up as a share of the height (the picture slides down);
    ``depth``: the natural log of how much the picture is enlarged (positive moves in).
    """

    across: float = 0.0
    up: float = 0.0
    depth: float = 0.0

    @classmethod
    def of(cls, camera: Homography, lens: Lens) -> FrameMotion:
        """The motion of ``camera``, the map of first-frame pixels to last-frame pixels."""
        cx, cy = lens.centre
        moved = normalized(camera) @ np.array([cx, cy, 1.0])
        x, y = moved[0] / moved[2], moved[1] / moved[2]
        quad = corners(lens.width, lens.height)
        mapped = np.c_[quad, np.ones(4)] @ normalized(camera).T
        mapped = mapped[:, :2] / mapped[:, 2:]
        enlarged = _area(mapped) / _area(quad)
        return cls(
            across=-(x - cx) / lens.width,
            up=(y - cy) / lens.height,
            depth=0.5 * math.log(max(enlarged, 1e-9)),
        )

    @property
    def scale(self) -> float:
        """How much the picture is enlarged from the first frame to the last."""
        return math.exp(self.depth)

    def verdict(self, move: CameraMove) -> Verdict:
        """How ``move`` reads against this motion."""
        if move is CameraMove.TRACKING:
            return Verdict.AGREES  # a tracking shot follows whatever the frames show
        if move is CameraMove.STATIC:
            return Verdict.AGREES if self.is_still else Verdict.CONTRADICTS
        if move not in _AXES:
            return Verdict.UNSHOWN  # a shake: jitter that two frames cannot show
        axis, sign = _AXES[move]
        shown = getattr(self, axis)
        if abs(shown) < SHOWN:
            return Verdict.UNSHOWN
        return Verdict.AGREES if shown * sign > 0 else Verdict.CONTRADICTS

    @property
    def is_still(self) -> bool:
        """True if the frames show no camera move along any axis."""
        return max(abs(self.across), abs(self.up), abs(self.depth)) < SHOWN


def _area(quad: np.ndarray) -> float:
    x, y = quad[:, 0], quad[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))))


@dataclass(frozen=True)
class PlanReading:
    """What a camera plan does over two frames: a detour plan, and how the move is shaped."""

    detour: CameraPlan
    """The plan's unshown moves, segment by segment (a segment may be left empty)."""
    law: Law
    eased: bool
    scale: float
    """The frames' change of scale, which the law spreads over the clip."""

    def camera_time(self, t: float) -> float:
        """How far along the frames' camera motion the clip is at time ``t`` in [0, 1].

        The motion is a constant-rate path (:class:`~.alignment.HomographyPath`); a zoom or
        a dolly re-times it so that its scale follows the device that moves.
        """
        u = ease_in_out(t) if self.eased else t
        log_scale = math.log(self.scale)
        if self.law is Law.STEADY or abs(log_scale) < 1e-6:
            return u
        if self.law is Law.ZOOM:
            return math.log(1.0 + (self.scale - 1.0) * u) / log_scale
        return -math.log(1.0 + (1.0 / self.scale - 1.0) * u) / log_scale


def read_plan(plan: CameraPlan, motion: FrameMotion) -> PlanReading:
    """How ``plan`` plays over frames that show ``motion`` (see the module's rule)."""
    agreeing = {
        move
        for segment in plan.segments
        for move in segment.moves
        if motion.verdict(move) is Verdict.AGREES
    }
    detour = CameraPlan(
        tuple(
            CameraSegment(frozenset(m for m in s.moves if motion.verdict(m) is Verdict.UNSHOWN))
            for s in plan.segments
        )
    )
    return PlanReading(detour, _law(agreeing), CameraMove.TRACKING in agreeing, motion.scale)


def _law(agreeing: set[CameraMove]) -> Law:
    zoom = bool(agreeing & {CameraMove.ZOOM_IN, CameraMove.ZOOM_OUT})
    dolly = bool(agreeing & {CameraMove.PUSH_IN, CameraMove.PULL_OUT})
    if zoom == dolly:
        return Law.STEADY
    return Law.ZOOM if zoom else Law.DOLLY
