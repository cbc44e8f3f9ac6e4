"""Sizes and frame counts: what to ask a model for, and how its frames map onto the output.

A model renders only legal shapes: sides that are multiples of its grid (16 or 32 pixels)
and ``step * k + base`` frames (``8k+1`` for LTX and LTX-2, ``4k+1`` for Wan, ``17k+5`` for
MiniMax-H3). The engine asks for the legal shape nearest the output's size and aspect
(within the model's native area), then resizes each frame to the output size and retimes
the clip to the output's frame count.

The resize between output size and render size is a plain stretch in both directions, not
a crop: rounding each side to the grid changes the aspect by at most a few percent, and a
stretch is its own inverse, so the given first and last frames (put back exactly) line up
with the rendered frames next to them. A crop would make the picture jump at frame 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from conch.engines.base import Frame


@dataclass(frozen=True)
class Grid:
    """The shapes a loaded pipeline accepts: sides in ``multiple`` pixels, frames
    ``frame_step * k + frame_base``."""

    multiple: int
    frame_step: int
    frame_base: int = 1


def legal_size(width: int, height: int, multiple: int, max_area: int) -> tuple[int, int]:
    """The (width, height) on the grid nearest ``width`` x ``height``, within ``max_area``.

    The aspect is kept; a frame larger than ``max_area`` is scaled down to it first.
    """
    scale = min(1.0, math.sqrt(max_area / (width * height)))
    return _on_grid(width * scale, multiple), _on_grid(height * scale, multiple)


def _on_grid(side: float, multiple: int) -> int:
    return max(multiple, round(side / multiple) * multiple)


def legal_frame_count(
    frame_count: int,
    fps: int,
    native_fps: int,
    frame_step: int,
    max_frames: int,
    *,
    frame_base: int = 1,
    min_frames: int = 1,
) -> int:
    """Frames to render so the clip spans the output's ``frame_count`` frames at ``fps``.

    The span is rendered at the model's native rate in the legal count nearest it (a tie
    goes up), so the clip's motion, and its sound, play within half a step of their own
    speed once retimed; the count stays within the model's ``min_frames`` and
    ``max_frames``, and the retimer makes up the difference.
    """
    wanted = (frame_count - 1) * native_fps / fps + 1
    steps = math.floor((wanted - frame_base) / frame_step + 0.5 + 1e-9)
    least = max(0, math.ceil((min_frames - frame_base) / frame_step))
    most = max(least, (max_frames - frame_base) // frame_step)
    return min(max(steps, least), most) * frame_step + frame_base


def resize(frame: Frame, width: int, height: int) -> Frame:
    """``frame`` stretched to ``width`` x ``height`` (area-averaged down, bicubic up)."""
    if frame.shape[1] == width and frame.shape[0] == height:
        return frame
    shrinking = width * height < frame.shape[0] * frame.shape[1]
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC
    return np.ascontiguousarray(cv2.resize(frame, (width, height), interpolation=interpolation))
