"""Where a picture's subject is, for a tracking shot to follow.

Without a model, the best cheap guess is where the detail is: the centroid of edge
strength, pulled toward the centre (photographers frame subjects near it).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from conch.engines.motion.geometry import CameraPose, Lens

_WORKING_SIDE = 160
_CENTRE_PULL = 0.35


def subject_point(frame: np.ndarray) -> tuple[float, float]:
    """The likely subject of ``frame`` in its pixel coordinates."""
    height, width = frame.shape[:2]
    scale = _WORKING_SIDE / max(height, width)
    small = cv2.resize(
        frame,
        (max(2, round(width * scale)), max(2, round(height * scale))),
        interpolation=cv2.INTER_AREA,
    )
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32)
    strength = np.hypot(cv2.Sobel(gray, cv2.CV_32F, 1, 0), cv2.Sobel(gray, cv2.CV_32F, 0, 1))
    total = float(strength.sum())
    if total <= 0:
        return (width - 1) / 2, (height - 1) / 2
    ys, xs = np.indices(strength.shape)
    cx = float((xs * strength).sum() / total + 0.5) / scale - 0.5
    cy = float((ys * strength).sum() / total + 0.5) / scale - 0.5
    mid_x, mid_y = (width - 1) / 2, (height - 1) / 2
    return cx + _CENTRE_PULL * (mid_x - cx), cy + _CENTRE_PULL * (mid_y - cy)


def aim_at(point: tuple[float, float], lens: Lens) -> CameraPose:
    """The turn that would bring ``point`` to the centre of the frame."""
    cx, cy = lens.centre
    return CameraPose(
        yaw=math.atan2(point[0] - cx, lens.focal), pitch=math.atan2(cy - point[1], lens.focal)
    )
