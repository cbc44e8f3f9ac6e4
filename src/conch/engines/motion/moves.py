"""What each of the 15 camera commands does to the camera, per second of its segment.

Rates are gentle on purpose: a photograph holds only what its frame shows, and every move
that looks past an edge must be paid for with an overscan (see :mod:`.framing`).
"""

from __future__ import annotations

import math

from conch.domain.camera import CameraMove
from conch.engines.motion.geometry import CameraPose

TRANSLATION_RATE = 0.025
"""Truck and pedestal: scene distances per second (about 2% of the width on screen)."""

DOLLY_RATE = 0.035
"""Push in and pull out: scene distances per second (a 6 s push in enlarges ~1.2x)."""

TURN_RATE = math.radians(1.2)
"""Pan and tilt: radians per second."""

ZOOM_RATE = 0.035
"""Zoom: natural log of the focal-length factor per second (6 s: ~1.23x)."""

GENTLE_DOLLY_RATE = 0.02
"""The slow push in of an image with no camera command, and the advance of a tracking shot."""

TRACKING_AIM = 0.6
"""A tracking shot turns this fraction of the way toward its subject."""

LONGEST_MOVE = 6.0
"""Seconds after which a segment's move stops growing (a 10 s push in is no deeper)."""

_RATES: dict[CameraMove, CameraPose] = {
    CameraMove.TRUCK_LEFT: CameraPose(x=-TRANSLATION_RATE),
    CameraMove.TRUCK_RIGHT: CameraPose(x=TRANSLATION_RATE),
    CameraMove.PEDESTAL_UP: CameraPose(y=-TRANSLATION_RATE),
    CameraMove.PEDESTAL_DOWN: CameraPose(y=TRANSLATION_RATE),
    CameraMove.PUSH_IN: CameraPose(z=DOLLY_RATE),
    CameraMove.PULL_OUT: CameraPose(z=-DOLLY_RATE),
    CameraMove.PAN_LEFT: CameraPose(yaw=-TURN_RATE),
    CameraMove.PAN_RIGHT: CameraPose(yaw=TURN_RATE),
    CameraMove.TILT_UP: CameraPose(pitch=TURN_RATE),
    CameraMove.TILT_DOWN: CameraPose(pitch=-TURN_RATE),
    CameraMove.ZOOM_IN: CameraPose(log_zoom=ZOOM_RATE),
    CameraMove.ZOOM_OUT: CameraPose(log_zoom=-ZOOM_RATE),
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
