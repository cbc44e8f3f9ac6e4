"""What each of the 15 camera commands does to the camera, per second of its segment.

Rates are moderate on purpose: a photograph holds only what its frame shows, and a move
that looks past an edge must be paid for with a little extension of the picture and then a
zoom (see :mod:`.framing`). docs/motion.md lists what each move does to a 6 s image clip.
"""

from __future__ import annotations

import math

from conch.domain.camera import CameraMove
from conch.engines.motion.geometry import CameraPose

TRUCK_RATE = 0.032
"""Truck: scene distances per second (a 6 s truck carries the centre ~10 % of the width)."""

PEDESTAL_RATE = 0.025
"""Pedestal: scene distances per second (a 6 s pedestal carries the centre ~15 % of the
height; the frame is shorter than wide, so the same distance costs more zoom)."""

DOLLY_RATE = 0.035
"""Push in: scene distances per second (a 6 s push in enlarges ~1.2x)."""

PAN_RATE = math.radians(1.5)
"""Pan: radians per second (a 6 s pan carries the centre ~9 % of the width)."""

TILT_RATE = math.radians(1.2)
"""Tilt: radians per second (a 6 s tilt carries the centre ~15 % of the height)."""

ZOOM_RATE = 0.035
"""Zoom in: natural log of the focal-length factor per second (6 s: ~1.23x)."""

PULL_OUT_RATE = 0.015
"""Pull out: scene distances per second. A move out must look past every edge of a still,
so it goes only as far as the picture's extension reaches (framing.STILL_REACH) in 6 s:
about 1.07x at the centre, without any zoom to hide an edge."""

ZOOM_OUT_RATE = 0.0158
"""Zoom out: natural log of the focal-length factor per second; 6 s: ~1.1x, the extension's
reach on the left and right edges."""

GENTLE_DOLLY_RATE = 0.02
"""The slow push in of an image with no camera command, and the advance of a tracking shot."""

TRACKING_AIM = 0.6
"""A tracking shot turns this fraction of the way toward its subject."""

LONGEST_MOVE = 6.0
"""Seconds after which a segment's move stops growing (a 10 s push in is no deeper)."""

_RATES: dict[CameraMove, CameraPose] = {
    CameraMove.TRUCK_LEFT: CameraPose(x=-TRUCK_RATE),
    CameraMove.TRUCK_RIGHT: CameraPose(x=TRUCK_RATE),
    CameraMove.PEDESTAL_UP: CameraPose(y=-PEDESTAL_RATE),
    CameraMove.PEDESTAL_DOWN: CameraPose(y=PEDESTAL_RATE),
    CameraMove.PUSH_IN: CameraPose(z=DOLLY_RATE),
    CameraMove.PULL_OUT: CameraPose(z=-PULL_OUT_RATE),
    CameraMove.PAN_LEFT: CameraPose(yaw=-PAN_RATE),
    CameraMove.PAN_RIGHT: CameraPose(yaw=PAN_RATE),
    CameraMove.TILT_UP: CameraPose(pitch=TILT_RATE),
    CameraMove.TILT_DOWN: CameraPose(pitch=-TILT_RATE),
    CameraMove.ZOOM_IN: CameraPose(log_zoom=ZOOM_RATE),
    CameraMove.ZOOM_OUT: CameraPose(log_zoom=-ZOOM_OUT_RATE),
    CameraMove.TRACKING: CameraPose(z=GENTLE_DOLLY_RATE),
}
"""Displacement per second; shake and static have none (shake is jitter, see :mod:`.shake`)."""


def move_displacement(move: CameraMove, seconds: float) -> CameraPose:
    """How far ``move`` carries the camera over a segment of ``seconds``.

    A tracking shot's turn toward its subject is not a rate: see :func:`tracking_turn`.
    """
    return _RATES.get(move, CameraPose()).scaled(min(seconds, LONGEST_MOVE))


def tracking_turn(aim: CameraPose, turned: CameraPose) -> CameraPose:
    """The turn a tracking shot makes toward its subject, added once to the plan.

    ``aim`` is the turn that would centre the subject and ``turned`` where the camera already
    points (earlier pans and tilts): the shot turns to :data:`TRACKING_AIM` of the aim, net of
    what is already turned.
    """
    target = aim.scaled(TRACKING_AIM)
    return CameraPose(yaw=target.yaw - turned.yaw, pitch=target.pitch - turned.pitch)


def gentle_push(seconds: float) -> CameraPose:
    """The slow push in that animates an image given no camera command."""
    return CameraPose(z=GENTLE_DOLLY_RATE * min(seconds, LONGEST_MOVE))
