"""Synthetic pictures with known features, and helpers to render and measure them."""

from __future__ import annotations

import math
from collections.abc import Callable

import cv2
import numpy as np

from conch.domain.camera import parse_prompt
from conch.domain.catalog import Mode
from conch.engines.base import Job
from conch.engines.motion import MotionEngine
from conch.engines.motion.framing import STILL_REACH

WIDTH, HEIGHT = 320, 180
FRAMES = 144  # 6 s at 24 fps: moves at their real size

RED = (230, 20, 20)
BLUE = (20, 20, 230)
GREEN = (20, 200, 20)
CENTRE = (WIDTH // 2, HEIGHT // 2)
TOP = (WIDTH // 2, HEIGHT // 2 - 50)
BOTTOM = (WIDTH // 2, HEIGHT // 2 + 50)


def backdrop(seed: int = 0) -> np.ndarray:
    """A smooth, mid-grey textured picture: nothing in it is dark or strongly coloured."""
    rng = np.random.default_rng(seed)
    noise = rng.uniform(0, 255, (HEIGHT // 6, WIDTH // 6, 3)).astype(np.float32)
    smooth = cv2.resize(noise, (WIDTH, HEIGHT), interpolation=cv2.INTER_CUBIC)
    return np.clip(90 + 0.3 * smooth, 80, 180).astype(np.uint8)


def with_markers(
    picture: np.ndarray, markers: dict[tuple[int, int], tuple[int, int, int]], half: int = 6
) -> np.ndarray:
    """``picture`` with a coloured square centred on each point."""
    out = picture.copy()
    for (x, y), colour in markers.items():
        out[y - half : y + half, x - half : x + half] = colour
    return out


def marked_scene() -> np.ndarray:
    """A backdrop with red at the centre, blue above it and green below it."""
    return with_markers(backdrop(), {CENTRE: RED, TOP: BLUE, BOTTOM: GREEN})


RING = (255, 0, 255)
"""A colour no test picture holds, painted around a picture's edge to see where edges go."""


def with_ring(picture: np.ndarray, width: int = 2) -> np.ndarray:
    """``picture`` with its outer ``width`` pixels painted :data:`RING`."""
    out = picture.copy()
    out[:width], out[-width:], out[:, :width], out[:, -width:] = RING, RING, RING, RING
    return out


def ring_inside(frame: np.ndarray, depth: int = 3) -> int:
    """Pixels of :data:`RING` colour ``depth`` or more pixels inside the frame's edges.

    A source's edge seen where it belongs stays within its outer pixels; replicated past
    the edge (a view looking beyond the source) it is smeared inward.
    """
    return int(_mask(frame[depth:-depth, depth:-depth], RING, tolerance=40).sum())


def extension_depth(width: int) -> int:
    """How deep a still's painted edge may come into its frames: the extension a view may look
    into (enlarged by a zoom of up to 1.3x), the 2-pixel ring, and a pixel of blur."""
    return math.ceil(STILL_REACH * width * 1.3) + 2 + 1


def centroid(frame: np.ndarray, colour: tuple[int, int, int]) -> tuple[float, float]:
    """Where the square of ``colour`` is, and how big (the area) via :func:`area`."""
    ys, xs = np.nonzero(_mask(frame, colour))
    assert xs.size, f"no {colour} marker in the frame"
    return float(xs.mean()), float(ys.mean())


def area(frame: np.ndarray, colour: tuple[int, int, int]) -> int:
    """Pixels of the marker of ``colour``."""
    return int(_mask(frame, colour).sum())


def _mask(frame: np.ndarray, colour: tuple[int, int, int], tolerance: int = 60) -> np.ndarray:
    distance = np.abs(frame.astype(np.int16) - np.array(colour, np.int16)).max(axis=2)
    return distance < tolerance


def render(
    picture: np.ndarray | None,
    prompt: str = "",
    *,
    last: np.ndarray | None = None,
    frames: int = FRAMES,
    mode: Mode | None = None,
    progress: Callable[[float], None] | None = None,
) -> list[np.ndarray]:
    """Every frame the motion engine renders for ``picture`` with the camera in ``prompt``."""
    source = picture if picture is not None else last
    assert source is not None
    height, width = source.shape[:2]
    job = Job(
        mode=mode or (Mode.IMAGE if last is None else Mode.FIRST_LAST),
        prompt=prompt,
        camera_plan=parse_prompt(prompt).plan,
        width=width,
        height=height,
        frame_count=frames,
        first_frame=picture,
        last_frame=last,
        seed=7,
    )
    return list(MotionEngine().generate(job, progress or (lambda _: None)))
