"""Framing without black borders: which frame is pinned, and the overscan that pays for a move.

A frame can show only what its source holds. Every view of the clip is checked against the
source: where a move would look past an edge, the view is zoomed in about a fixed anchor
just enough to stay inside. A single picture is extended a little past its edges
(:mod:`.extension`), and its views may look :data:`STILL_REACH` into that before any zoom.
The zoom never shrinks back while the move continues (a breathing zoom would look like a
second move), it grows with the clip's easing rather than only when an edge comes near, and
it is 1 at the pinned frame, so that frame is exactly the source.

Which frame is pinned:

- ``START``: the clip begins on the source (an image animated forward, whatever the move);
- ``END``: the clip lands on the source (a clip that must end on a given last frame);
- ``BOTH``: a move between two fixed frames: the plan plays over the clip but its last
  :data:`RESIDUAL_EDGE`, then settles back over that share so that the clip still ends on
  its last frame.

Between a first and a last frame the sources are two pictures, and an in-between frame can
show only what one of them saw: on a diagonal camera motion a corner of the frame is in
neither. :class:`Sources` says where the two pictures lie in each frame, and the zoom is
also made deep enough for every view to be seen by one of them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum

import numpy as np

from conch.engines.motion.easing import clip_time, ease_in_out, settle
from conch.engines.motion.geometry import (
    CameraPose,
    Homography,
    Lens,
    corners,
    pose_homography,
    scale_about,
)
from conch.engines.motion.timeline import CameraPath

MAX_OVERSCAN = 3.0
"""No view is zoomed in further than this to hide an edge."""

RESIDUAL_EDGE = 0.3
"""A move between two fixed frames settles back over this last share of the clip."""

OUTLINE_POINTS = 32
"""Points checked along each edge of a view for being seen by a source (its corners too)."""

UNSEEN_EDGE = 0.005
"""Share of the long side: how deep a band along an in-between frame's edges may be that
neither the first nor the last frame saw (filled by mirroring their edges): 4 px at 800
wide, 6.8 at 768P, 9.6 at 1080P. A pan of a fifth of the field of view leaves such a sliver
3 px deep at 800 wide along the top and bottom edges (keystone); zooming to hide it moves
the whole picture off the true motion (0.7 %: the middle frame fell from 39 to 28 dB at
quarter size, ``benchmarks/camera.py``). On the test clip at an 8-frame gap 0.2 % and 1 %
score alike (31.37 dB at stride 4), while hiding every unseen pixel cost 1.4 dB."""

STILL_REACH = 0.05
"""Share of the long side that a view of a single picture may look past its edges, into
the picture extended (:mod:`.extension`): 68 px at 768P. See docs/motion.md for how it was
chosen against zooming in and against wider reaches."""

PIN_PREFERENCE = 1.15
"""How much less zoom another pin must need before the preferred pin is given up."""

ANCHOR_TOLERANCE = 1.02
"""An anchor further from the centre must need this much less zoom to be chosen."""

_ANCHOR_GRID = (0.0, 0.25, 0.5, 0.75, 1.0)


class Pin(Enum):
    """Which frames of the clip show the source exactly."""

    START = "start"
    END = "end"
    BOTH = "both"


@dataclass(frozen=True)
class Sources:
    """Where the first and last frame lie in each frame of a clip drawn from both.

    ``to_first[i]`` and ``to_last[i]`` are sampling maps from frame ``i``'s own coordinates
    (before its view is applied) to the first and last frame's pixels, following the camera
    motion between them: an (n, 3, 3) array each.
    """

    to_first: np.ndarray
    to_last: np.ndarray

    def __getitem__(self, index: slice) -> Sources:
        return Sources(self.to_first[index], self.to_last[index])


def still_reach(lens: Lens) -> float:
    """Pixels a view of a single picture of ``lens``'s size may look past its edges."""
    return STILL_REACH * max(lens.width, lens.height)


def relative_pose(path: CameraPath, t: float, pin: Pin) -> CameraPose:
    """The camera at ``t`` relative to the camera that took the source."""
    if pin is Pin.START:
        return path.pose(t)  # the path starts still
    if pin is Pin.END:
        return path.pose(t) - path.end()
    # Every segment plays in full before the settle; the settle only brings the camera back.
    return path.pose(t, span=1.0 - RESIDUAL_EDGE).scaled(settle(t, RESIDUAL_EDGE))


def raw_views(path: CameraPath, lens: Lens, count: int, pin: Pin) -> np.ndarray:
    """The uncorrected sampling map of each of ``count`` frames, as an (n, 3, 3) array."""
    return np.stack(
        [pose_homography(relative_pose(path, clip_time(i, count), pin), lens) for i in range(count)]
    )


def overscan(path: CameraPath, lens: Lens, pin: Pin, samples: int = 25) -> float:
    """The deepest zoom that pinning ``pin`` would need to hide every edge."""
    views = raw_views(path, lens, samples, pin)
    return float(needed_zoom(views, lens, best_anchor(views, lens)).max())


def choose_pin(path: CameraPath, lens: Lens, preferred: Pin, other: Pin) -> Pin:
    """``preferred``, unless pinning ``other`` hides the edges with clearly less zoom.

    A push in that must land on a given last frame would start wider than the picture; it
    comes and goes instead (``BOTH``), still ending on it.
    """
    if overscan(path, lens, other) * PIN_PREFERENCE < overscan(path, lens, preferred):
        return other
    return preferred


def framed_views(
    path: CameraPath,
    lens: Lens,
    count: int,
    pin: Pin,
    sources: Sources | None = None,
    reach: float = 0.0,
) -> list[Homography]:
    """The sampling map of every frame, zoomed just enough never to look more than ``reach``
    pixels past an edge (a still extended that far, see :mod:`.extension`).

    With ``sources`` (a clip drawn from a first and a last frame, pinned at both ends), each
    view is also zoomed until one of the two frames sees all of it.
    """
    if path.is_still and sources is None:
        return [np.eye(3)] * count
    views = raw_views(path, lens, count, pin)
    anchor = best_anchor(views, lens, sources, reach)
    zoom = _monotone(_paced(_least_zoom(views, lens, anchor, sources, reach), pin), pin)
    return list(views @ scale_about(anchor, zoom))


def best_anchor(
    views: np.ndarray, lens: Lens, sources: Sources | None = None, reach: float = 0.0
) -> tuple[float, float]:
    """The output point to zoom about that hides every edge with the least zoom.

    Near-ties go to the point nearest the centre, where a zoom reads as part of the camera
    move rather than as a drift toward a corner.
    """
    step = slice(None, None, max(1, len(views) // 48))
    sample, sample_sources = views[step], None if sources is None else sources[step]
    best, best_cost = lens.centre, float("inf")
    w, h = lens.width - 1, lens.height - 1
    candidates = sorted(
        ((fx * w, fy * h) for fx in _ANCHOR_GRID for fy in _ANCHOR_GRID),
        key=lambda p: (p[0] - w / 2) ** 2 + (p[1] - h / 2) ** 2,
    )
    for anchor in candidates:
        cost = float(_least_zoom(sample, lens, anchor, sample_sources, reach).max())
        if cost * ANCHOR_TOLERANCE < best_cost:
            best, best_cost = anchor, cost
        if best_cost == 1.0:
            break  # no zoom needed at all: nothing can do better
    return best


def _least_zoom(
    views: np.ndarray,
    lens: Lens,
    anchor: tuple[float, float],
    sources: Sources | None,
    reach: float = 0.0,
) -> np.ndarray:
    zoom = needed_zoom(views, lens, anchor, reach)
    if sources is None:
        return zoom
    cover = covering_zoom(views, lens, anchor, sources)
    # The ends show the two frames themselves: no zoom there, whatever rounding says.
    cover[0] = cover[-1] = 1.0
    return np.maximum(zoom, cover)


def needed_zoom(
    views: np.ndarray, lens: Lens, anchor: tuple[float, float], reach: float = 0.0
) -> np.ndarray:
    """For each view, the least zoom about ``anchor`` that keeps it within ``reach`` pixels
    of the source."""
    quad = _homogeneous(corners(lens.width, lens.height))

    def inside(zoom: np.ndarray) -> np.ndarray:
        seen = _project(views @ scale_about(anchor, zoom), quad)
        return np.all(_within(seen, lens, reach), axis=1)

    return _least(inside, len(views))


def covering_zoom(
    views: np.ndarray, lens: Lens, anchor: tuple[float, float], sources: Sources
) -> np.ndarray:
    """For each view, the least zoom about ``anchor`` at which the first or the last frame
    sees every point of it.

    The two frames overlap (they share the motion's fixed region), so their union has no
    holes and a view whose outline it holds is held whole; the outline, inset by
    :data:`UNSEEN_EDGE`, is checked at :data:`OUTLINE_POINTS` points an edge.
    """
    outline = _homogeneous(_outline(lens, UNSEEN_EDGE * max(lens.width, lens.height)))

    def covered(zoom: np.ndarray) -> np.ndarray:
        zoomed = views @ scale_about(anchor, zoom)
        by_first = _within(_project(sources.to_first @ zoomed, outline), lens)
        by_last = _within(_project(sources.to_last @ zoomed, outline), lens)
        return np.all(by_first | by_last, axis=1)

    return _least(covered, len(views))


BISECTION_STEPS = 20
"""Halvings of the zoom's range: 2e-6 of a zoom, a thousandth of a pixel at 1080P."""


def _least(fits: Callable[[np.ndarray], np.ndarray], count: int) -> np.ndarray:
    """For each of ``count`` views, the least zoom in [1, MAX_OVERSCAN] at which it ``fits``
    (always one that does: the search keeps the upper end)."""
    low, high = np.ones(count), np.full(count, MAX_OVERSCAN)
    fine_as_is = fits(low)
    for _ in range(BISECTION_STEPS):
        middle = (low + high) / 2
        ok = fits(middle)
        high = np.where(ok, middle, high)
        low = np.where(ok, low, middle)
    return np.where(fine_as_is, 1.0, high)


def _outline(lens: Lens, inset: float = 0.0) -> np.ndarray:
    """Points along the four edges of a frame, ``inset`` pixels in (corners included): (k, 2)."""
    quad = corners(lens.width, lens.height) + np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]]) * inset
    steps = np.linspace(0.0, 1.0, OUTLINE_POINTS, endpoint=False)[:, None]
    return np.concatenate(
        [a + steps * (b - a) for a, b in zip(quad, np.roll(quad, -1, axis=0), strict=True)]
    )


def _homogeneous(points: np.ndarray) -> np.ndarray:
    """(k, 2) points as a (3, k) array of homogeneous columns."""
    return np.vstack([points.T, np.ones(len(points))])


def _project(views: np.ndarray, points: np.ndarray) -> np.ndarray:
    """The source points that each view shows at homogeneous ``points``: (n, 2, k)."""
    mapped = views @ points
    depth = mapped[:, 2:3]
    # A point behind the camera can never be shown: push it far outside.
    safe = np.where(depth > 1e-9, depth, np.nan)
    return np.nan_to_num(mapped[:, :2] / safe, nan=1e9)


def _within(points: np.ndarray, lens: Lens, reach: float = 0.0) -> np.ndarray:
    """Which of the (n, 2, k) ``points`` lie on a frame (pixel centres, edges included) or
    within ``reach`` pixels of it: (n, k)."""
    slack = 1e-6 + reach
    x, y = points[:, 0], points[:, 1]
    return (
        (x >= -slack)
        & (x <= lens.width - 1 + slack)
        & (y >= -slack)
        & (y <= lens.height - 1 + slack)
    )


def _paced(zoom: np.ndarray, pin: Pin) -> np.ndarray:
    """``zoom``, raised so that it grows with the clip's eased progress from its pinned end.

    Zoomed only where an edge comes near, the zoom would start late and read as a second
    move; a pull out whose extension runs out would stop dead, its zoom cancelling it. Paced,
    the deepest zoom is spread over the clip the way the move itself eases.
    """
    if pin is Pin.BOTH or len(zoom) < 2:
        return zoom
    progress = np.array([ease_in_out(clip_time(i, len(zoom))) for i in range(len(zoom))])
    if pin is Pin.END:
        progress = progress[::-1]
    return np.maximum(zoom, float(zoom.max()) ** progress)


def _monotone(zoom: Sequence[float] | np.ndarray, pin: Pin) -> np.ndarray:
    """The least zoom curve at or above ``zoom`` that only grows away from the pin."""
    zoom = np.asarray(zoom, dtype=float)
    rising = np.maximum.accumulate(zoom)
    falling = np.maximum.accumulate(zoom[::-1])[::-1]
    if pin is Pin.START:
        return rising
    if pin is Pin.END:
        return falling
    return np.minimum(rising, falling)
