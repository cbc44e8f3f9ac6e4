"""First and last frame: the in-between frames of a real transition.

The global camera motion between the frames is a homography (:mod:`.alignment`); what it
leaves is dense flow both ways (:mod:`.flow`). A frame at time ``t`` is drawn by following
both frames along their motion to ``t`` (the camera part along a constant-speed homography
path, the rest linearly) and blending them, each weighted by its nearness in time and by
whether it can see the point at all (content entering past a frame's edge comes from the
other frame alone). Each source is softened where the flow estimates disagree, more so as
the frame moves away from it in time; and a pair whose motion explains little of their
difference (two unrelated pictures) gets a dissolve instead of a smear.

Motion is estimated once per pair at a working size; per frame, sampling maps are built at
that size and upsampled, so the full-size work is two remaps and a blend.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from conch.engines.motion.alignment import (
    HomographyPath,
    global_homography,
    match,
    refined,
    shares_geometry,
)
from conch.engines.motion.blend import Softening, blend, blur_where
from conch.engines.motion.flow import Flow, FlowField, bidirectional_flow, trust
from conch.engines.motion.framing import Sources
from conch.engines.motion.geometry import Homography
from conch.engines.motion.grids import PixelGrid, apply_to_points

WORKING_SIDE = 640
"""Long side, in pixels, at which motion is estimated."""

MAP_SIDE = 480
"""Long side, in pixels, of the grid on which each frame's sampling maps are built."""

MAP_SHARE = 0.75
"""The map grid is at most this share of the working grid (small frames have no other cap)."""

INVERSION_STEPS = 2
"""Fixed-point steps that turn a frame's flow into the flow back from time ``t``."""

SHARED_RAMP = 8.0
"""Working pixels over which the residual flow fades out toward what only one frame saw."""

FLOW_EDGE = 2
"""Working pixels along each edge that motion estimation does not look at."""

EDGE_SKIP = 1.5
"""Working pixels along a source's edge that it leaves to the other source where that one
sees the point. Outermost pixels are the least reliable (scalers, encoders and letterboxes
leave lines there), and blended in by time they would draw a line across the frame."""

EDGE_FADE = 2.0
"""Working pixels inside :data:`EDGE_SKIP` over which a source's weight grows to full."""

EDGE_ALONE = 1e-3
"""The weight of a sample in a source's edge band: small, yet it wins over a source that
does not see the point at all."""


_Points = np.ndarray
"""Positions as one (height, width, 2) float32 array of x and y: a sampling map as
``cv2.remap`` takes it, and points as ``cv2.perspectiveTransform`` moves them."""


def related(first: np.ndarray, last: np.ndarray) -> Transition | None:
    """The transition between two frames, or None if they share no geometry (two pictures
    of different things, see :func:`~.alignment.shares_geometry`)."""
    height, width = first.shape[:2]
    size = PixelGrid.for_frame(width, height, WORKING_SIDE).size
    gray0, gray1 = (_without_edges(_small_gray(frame, size)) for frame in (first, last))
    found = match(gray0, gray1)
    if not shares_geometry(found, gray0, gray1):
        return None
    start = np.eye(3) if found.homography is None else found.homography
    return Transition(first, last, refined(gray0, gray1, start))


class Transition:
    """A first and a last frame, analysed once; :meth:`frame` draws any instant between.

    ``camera`` is the global camera motion at the working size if already known.
    """

    def __init__(
        self, first: np.ndarray, last: np.ndarray, camera: Homography | None = None
    ) -> None:
        height, width = first.shape[:2]
        self.first, self.last = first, last
        self.working = PixelGrid.for_frame(width, height, WORKING_SIDE)
        map_side = min(MAP_SIDE, round(MAP_SHARE * max(self.working.size)))
        self.map_grid = PixelGrid.for_frame(width, height, map_side)
        size = self.working.size
        gray0, gray1 = (_without_edges(_small_gray(frame, size)) for frame in (first, last))
        self.camera = global_homography(gray0, gray1) if camera is None else camera
        self.camera_path = HomographyPath(self.camera)
        aligned = cv2.warpPerspective(
            gray1,
            self.camera,
            size,
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_REPLICATE,
        )
        flow = bidirectional_flow(gray0, aligned)
        self.trust = trust(gray0, gray1, aligned, flow.forward)
        # Past the last frame's edge the aligned frame is a stretched edge: no motion there
        # means anything, and what only the first frame saw moves with the camera alone.
        self.flow = flow.scaled(self.trust).faded(_shared(self.camera, size))
        first_soft, last_soft = self._softened(self.flow)
        self._first_mix = Softening(first, first_soft)
        self._last_mix = Softening(last, last_soft)
        # The map grid's pixel centres, in working coordinates.
        map_to_working = self.working.to_grid() @ self.map_grid.to_full()
        self._map_points = np.dstack(apply_to_points(map_to_working, *self.map_grid.points()))

    @property
    def full_camera(self) -> Homography:
        """The global camera motion in full-frame pixels: first-frame points to last-frame."""
        return self.working.to_full() @ self.camera @ self.working.to_grid()

    def sources(self, camera_times: Sequence[float]) -> Sources:
        """Where the first and last frame lie in frames this far along the camera motion.

        A frame at camera time ``s`` sees the first frame through the motion undone for
        ``s`` and the last through the rest of it (full-frame pixels, the flow aside).
        """
        to_full, to_grid = self.working.to_full(), self.working.to_grid()
        back = [np.linalg.inv(self.camera_path.at(s)) for s in camera_times]
        return Sources(
            to_first=np.stack([to_full @ b @ to_grid for b in back]),
            to_last=np.stack([to_full @ self.camera @ b @ to_grid for b in back]),
        )

    def frame(self, t: float, view: Homography, camera_time: float) -> np.ndarray:
        """The frame at time ``t`` seen through sampling map ``view`` (full-frame pixels).

        ``camera_time`` is how far along the global camera motion the frame is (``t`` for
        a natural transition, an eased ``t`` when the camera plan follows it).
        """
        map0, map1, weight = self._sampling(t, view, camera_time)
        # A source softens as the frame moves away from it, fully by mid-clip.
        source0 = self._first_mix.at(2 * t)
        source1 = self._last_mix.at(2 * (1 - t))
        return blend(_picture(source0, map0), _picture(source1, map1), weight, 1.0 - t)

    def _sampling(
        self, t: float, view: Homography, camera_time: float
    ) -> tuple[_Points, _Points, np.ndarray | float]:
        """Full-size sampling maps into each source, and the first source's weight.

        The weight is a map the size of the map grid (:attr:`map_grid`, on whose points the
        sampling is worked out), or a number where it is the same everywhere (both sources
        see the whole frame well), which blends much faster.
        """
        s = self.working
        working_view = s.to_grid() @ view @ s.to_full()
        to_motion = np.linalg.inv(self.camera_path.at(camera_time)) @ working_view
        at_t = cv2.perspectiveTransform(self._map_points, to_motion)
        # Follow each source's flow back from time t (its position at t is known, its
        # position in the source is what the flow must be inverted for).
        in_first = _follow_back(self.flow.forward, t, at_t)
        in_aligned = _follow_back(self.flow.backward, 1.0 - t, at_t)
        in_last = cv2.perspectiveTransform(in_aligned, self.camera)
        seen0, seen1 = _seen(in_first, s.size), _seen(in_last, s.size)
        map0, map1 = self._upsample_map(in_first), self._upsample_map(in_last)
        if seen0.min() >= 1.0 and seen1.min() >= 1.0:
            return map0, map1, 1.0 - t
        # Where neither source sees the point (a sliver the framing allows), time decides.
        w0, w1 = (1.0 - t) * (seen0 + 1e-6), t * (seen1 + 1e-6)
        return map0, map1, w0 / (w0 + w1)

    def _upsample_map(self, points: _Points) -> _Points:
        """Map-grid sample positions (working pixels) as a full-size map in full-frame pixels.

        Bilinear upsampling reproduces the smooth parts of a map exactly; only the outermost
        full-size pixel row and column, beyond the last map-grid pixel centre, are clamped
        (a fraction of a pixel, and never on the pinned first and last frames).
        """
        full = cv2.perspectiveTransform(points, self.working.to_full())
        if self.map_grid.size == self.map_grid.full_size:
            return full
        return cv2.resize(full, self.map_grid.full_size)

    def _softened(self, flow: FlowField) -> tuple[np.ndarray, np.ndarray]:
        """Each source blurred where its motion is uncertain (used as ``t`` moves away)."""
        height, width = self.first.shape[:2]
        factor = 1.0 / self.working.factors[0]
        spread0 = cv2.resize(flow.forward_spread, (width, height)) * factor
        spread1_aligned = cv2.resize(flow.backward_spread, (width, height)) * factor
        # The backward spread lives in the aligned last frame; carry it into the last frame.
        camera_full = self.working.to_full() @ self.camera @ self.working.to_grid()
        spread1 = cv2.warpPerspective(
            spread1_aligned, camera_full, (width, height), borderMode=cv2.BORDER_REPLICATE
        )
        return blur_where(self.first, spread0), blur_where(self.last, spread1)


def _small_gray(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return cv2.cvtColor(cv2.resize(frame, size, interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)


def _shared(camera: Homography, size: tuple[int, int]) -> np.ndarray:
    """1 where the last frame, carried back by ``camera``, sees a pixel of the first frame,
    falling to 0 over :data:`SHARED_RAMP` pixels toward where it does not (working grid)."""
    width, height = size
    seen = cv2.warpPerspective(
        np.ones((height, width), np.uint8),
        camera,
        size,
        flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
    depth = cv2.distanceTransform(seen, cv2.DIST_L2, 3)
    return np.clip(depth / SHARED_RAMP, 0.0, 1.0)


def _without_edges(gray: np.ndarray) -> np.ndarray:
    """``gray`` with its outer :data:`FLOW_EDGE` pixels replaced by the ones just inside.

    A thin line along a frame's edge (a letterbox, a scaler's dark row) stays put while the
    picture moves; matched, it drags the motion near the edge along with it.
    """
    b = FLOW_EDGE
    height, width = gray.shape[:2]
    if min(height, width) <= 4 * b:
        return gray
    return cv2.copyMakeBorder(gray[b:-b, b:-b], b, b, b, b, cv2.BORDER_REPLICATE)


def _sample(image: np.ndarray, points: _Points) -> np.ndarray:
    """``image`` (a flow field) read at ``points``, bilinearly; past its edges, its edge."""
    # One two-channel map and no second one.
    return cv2.remap(image, points, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _picture(image: np.ndarray, points: _Points) -> np.ndarray:
    """A frame read at ``points``, bilinearly; past its edges (a sliver neither frame saw,
    see :data:`~.framing.UNSEEN_EDGE`) mirrored, which continues its texture where
    repeating the edge pixel would draw streaks."""
    return cv2.remap(image, points, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)


def _follow_back(flow: Flow, fraction: float, points: _Points) -> _Points:
    """Source positions p with p + fraction * flow(p) = ``points``, by fixed-point steps."""
    found = cv2.scaleAdd(_sample(flow, points), -fraction, points)
    for _ in range(INVERSION_STEPS):
        found = cv2.scaleAdd(_sample(flow, found), -fraction, points)
    return found


def _seen(points: _Points, size: tuple[int, int]) -> np.ndarray:
    """How well a source of ``size`` sees ``points``: 1 well inside, :data:`EDGE_ALONE` in
    its edge band, 0 past its edge (half a pixel past still reads the edge pixel)."""
    x, y = points[..., 0], points[..., 1]
    width, height = size
    margin = np.minimum(np.minimum(x, width - 1 - x), np.minimum(y, height - 1 - y))
    fade = np.clip((margin - EDGE_SKIP) / EDGE_FADE, EDGE_ALONE, 1.0)
    return np.where(margin >= -0.5, fade, 0.0).astype(np.float32)
