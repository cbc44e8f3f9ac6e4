"""First and last frame: the in-between frames of a real transition.

The global camera motion between the frames is a homography (:mod:`.alignment`). If it
explains the pair (a still seen by a moving camera: nothing in it moves of its own), a frame
at time ``t`` is each frame warped whole along a constant-speed path of that motion and the
two blended by nearness in time, each drawn only where it sees the frame
(:class:`CameraTransition`): two warps and a blend a frame, about what the encoder costs.

What the camera motion leaves unexplained is dense flow both ways (:mod:`.flow`,
:class:`Transition`): each frame then also follows its flow (the camera part along the
homography path, the rest linearly), weighted by whether it can see the point at all
(content entering past a frame's edge comes from the other frame alone). Each source is
softened where the flow estimates disagree, more so as the frame moves away from it in
time; and a pair whose motion explains little of their difference gets a dissolve instead
of a smear. Motion is estimated once per pair at a working size; per frame, sampling maps
are built at that size and upsampled, so the full-size work is two remaps and a blend.

Two frames that share no geometry at all are not a transition of this kind (:func:`related`
says so; :mod:`.whip` draws those).
"""

from __future__ import annotations

import math
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
from conch.engines.motion.framing import UNSEEN_EDGE, Sources
from conch.engines.motion.geometry import Homography, corners, normalized
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


def related(first: np.ndarray, last: np.ndarray) -> CameraTransition | None:
    """The transition between two frames: along the camera motion alone if it explains them
    (a still seen by a moving camera), with the residual flow if not, or None if they share
    no geometry (two pictures of different things, see :func:`~.alignment.shares_geometry`)."""
    height, width = first.shape[:2]
    size = PixelGrid.for_frame(width, height, WORKING_SIDE).size
    gray0, gray1 = (_without_edges(_small_gray(frame, size)) for frame in (first, last))
    found = match(gray0, gray1)
    if not shares_geometry(found, gray0, gray1):
        return None
    start = np.eye(3) if found.homography is None else found.homography
    camera = refined(gray0, gray1, start)
    if _explained(gray0, _aligned(gray1, camera), camera):
        return CameraTransition(first, last, camera)
    return Transition(first, last, camera)


UNEXPLAINED = 32.0
"""Mean grey-level difference over any 9 x 9 working pixels, after the camera motion is
undone, from which the pair has motion of its own (something in it moved). Known camera
moves over photos stay under 25 (resampling at sharp edges); frames of the test clip one
frame apart reach 54."""


def _explained(first: np.ndarray, aligned: np.ndarray, camera: Homography) -> bool:
    """True if undoing the camera motion leaves no local difference between the frames."""
    inner = cv2.erode(
        (_shared(camera, first.shape[1::-1]) >= 1.0).astype(np.uint8), np.ones((9, 9), np.uint8)
    )
    if not inner.any():
        return False
    local = cv2.blur(cv2.absdiff(first, aligned).astype(np.float32), (9, 9))
    return float(local[inner > 0].max()) < UNEXPLAINED


def _aligned(last: np.ndarray, camera: Homography) -> np.ndarray:
    """Gray ``last`` with the camera motion undone: in the first frame's place."""
    height, width = last.shape[:2]
    return cv2.warpPerspective(
        last,
        camera,
        (width, height),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REPLICATE,
    )


class CameraTransition:
    """A first and a last frame related by a camera motion alone; :meth:`frame` draws any
    instant between, each source warped whole along the motion.

    ``camera`` is the global camera motion at the working size (first-frame points to
    last-frame points); it is estimated if not given.
    """

    def __init__(
        self, first: np.ndarray, last: np.ndarray, camera: Homography | None = None
    ) -> None:
        height, width = first.shape[:2]
        self.first, self.last = first, last
        self.working = PixelGrid.for_frame(width, height, WORKING_SIDE)
        map_side = min(MAP_SIDE, round(MAP_SHARE * max(self.working.size)))
        self.map_grid = PixelGrid.for_frame(width, height, map_side)
        if camera is None:
            size = self.working.size
            gray0, gray1 = (_without_edges(_small_gray(f, size)) for f in (first, last))
            camera = global_homography(gray0, gray1)
        self.camera = camera
        self.camera_path = HomographyPath(self.camera)
        # Sources mirrored past their edges once: sampling them then needs no costly border
        # mode (OpenCV's mirroring border doubles a warp's time).
        self._pad = math.ceil(UNSEEN_EDGE * max(width, height)) + 2
        self._padded = (_mirrored(first, self._pad), _mirrored(last, self._pad))
        # Each source but for its outermost pixels, which the other source draws where it can.
        self._skip = max(1, round(EDGE_SKIP / self.working.factors[0]))
        k = self._skip
        self._inner = tuple(np.ascontiguousarray(f[k:-k, k:-k]) for f in (first, last))
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
        to_motion = self._to_motion(view, camera_time)
        grid, full = self.working.to_grid(), self.working.to_full()
        to_first, to_last = full @ to_motion @ grid, full @ self.camera @ to_motion @ grid
        first_whole, last_whole = (self._covers(m) for m in (to_first, to_last))
        # Each source where it sees the frame, the other (or a mirror) where it does not.
        whole_last = self._whole(1, to_last) if last_whole or not first_whole else None
        first = self._whole(0, to_first) if first_whole else self._laid(0, to_first, whole_last)
        last = whole_last if whole_last is not None and last_whole else None
        if last is None:
            last = self._laid(1, to_last, first)
        return cv2.addWeighted(first, 1.0 - t, last, t, 0.0)

    def _covers(self, to_source: Homography) -> bool:
        """True if a source seen through ``to_source`` (frame pixels to its pixels) fills
        the frame: its edges, if in view at all, lie on the frame's own."""
        height, width = self.first.shape[:2]
        seen = cv2.perspectiveTransform(corners(width, height)[None], to_source)[0]
        slack = 1e-3
        inside_x = (seen[:, 0] >= -slack) & (seen[:, 0] <= width - 1 + slack)
        inside_y = (seen[:, 1] >= -slack) & (seen[:, 1] <= height - 1 + slack)
        return bool((inside_x & inside_y).all())

    def _whole(self, index: int, to_source: Homography) -> np.ndarray:
        """Source ``index`` read through ``to_source``, mirrored past its edges."""
        return _warped(self._padded[index], _shift(self._pad) @ to_source, self.first.shape)

    def _laid(self, index: int, to_source: Homography, under: np.ndarray | None) -> np.ndarray:
        """Source ``index`` read through ``to_source`` where it sees the frame (its outermost
        pixels aside), laid over a copy of ``under``."""
        assert under is not None  # a source that does not fill the frame needs an under-layer
        out = under.copy()
        _warped(self._inner[index], _shift(-self._skip) @ to_source, out.shape, out)
        return out

    def _to_motion(self, view: Homography, camera_time: float) -> Homography:
        """Working pixels of the frame to where they are along the camera motion, in the
        first frame's working pixels."""
        s = self.working
        return np.linalg.inv(self.camera_path.at(camera_time)) @ s.to_grid() @ view @ s.to_full()

    def _weight(self, t: float, in_first: _Points, in_last: _Points) -> np.ndarray | float:
        """The first source's weight: a map the size of the map grid (:attr:`map_grid`, whose
        points ``in_first`` and ``in_last`` place in each source), or a number where it is
        the same everywhere (both sources see the whole frame well), which blends faster."""
        size = self.working.size
        seen0, seen1 = _seen(in_first, size), _seen(in_last, size)
        if seen0.min() >= 1.0 and seen1.min() >= 1.0:
            return 1.0 - t
        # Where neither source sees the point (a sliver the framing allows), time decides.
        w0, w1 = (1.0 - t) * (seen0 + 1e-6), t * (seen1 + 1e-6)
        return w0 / (w0 + w1)


class Transition(CameraTransition):
    """A first and a last frame whose difference the camera motion does not explain: each
    source also follows the residual dense flow (scenes that move, parallax).

    ``flow``, if given, is that residual motion instead of an estimate of it: at the working
    size, from the first frame to the last with the camera motion undone, and back (the
    interpolation bounds benchmark passes flow found with the true in-between frames).
    """

    def __init__(
        self,
        first: np.ndarray,
        last: np.ndarray,
        camera: Homography | None = None,
        flow: FlowField | None = None,
    ) -> None:
        super().__init__(first, last, camera)
        size = self.working.size
        gray0, gray1 = (_without_edges(_small_gray(frame, size)) for frame in (first, last))
        aligned = _aligned(gray1, self.camera)
        if flow is None:
            flow = bidirectional_flow(gray0, aligned)
        self.trust = trust(gray0, gray1, aligned, flow.forward)
        # Past the last frame's edge the aligned frame is a stretched edge: no motion there
        # means anything, and what only the first frame saw moves with the camera alone.
        self.flow = flow.scaled(self.trust).faded(_shared(self.camera, size))
        first_soft, last_soft = self._softened(self.flow)
        pad = self._pad
        self._first_mix = Softening(self._padded[0], _mirrored(first_soft, pad))
        self._last_mix = Softening(self._padded[1], _mirrored(last_soft, pad))

    def frame(self, t: float, view: Homography, camera_time: float) -> np.ndarray:
        """The frame at time ``t`` seen through sampling map ``view`` (full-frame pixels)."""
        map0, map1, weight = self._sampling(t, view, camera_time)
        # A source softens as the frame moves away from it, fully by mid-clip.
        source0 = self._first_mix.at(2 * t)
        source1 = self._last_mix.at(2 * (1 - t))
        return blend(_picture(source0, map0), _picture(source1, map1), weight, 1.0 - t)

    def _sampling(
        self, t: float, view: Homography, camera_time: float
    ) -> tuple[_Points, _Points, np.ndarray | float]:
        """Full-size sampling maps into each source, and the first source's weight."""
        at_t = cv2.perspectiveTransform(self._map_points, self._to_motion(view, camera_time))
        # Follow each source's flow back from time t (its position at t is known, its
        # position in the source is what the flow must be inverted for).
        in_first = _follow_back(self.flow.forward, t, at_t)
        in_aligned = _follow_back(self.flow.backward, 1.0 - t, at_t)
        in_last = cv2.perspectiveTransform(in_aligned, self.camera)
        weight = self._weight(t, in_first, in_last)
        return self._upsample_map(in_first), self._upsample_map(in_last), weight

    def _upsample_map(self, points: _Points) -> _Points:
        """Map-grid sample positions (working pixels) as a full-size map into a padded source.

        Bilinear upsampling reproduces the smooth parts of a map exactly; only the outermost
        full-size pixel row and column, beyond the last map-grid pixel centre, are clamped
        (a fraction of a pixel, and never on the pinned first and last frames).
        """
        full = cv2.perspectiveTransform(points, _shift(self._pad) @ self.working.to_full())
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


def _mirrored(image: np.ndarray, pad: int) -> np.ndarray:
    """``image`` with ``pad`` pixels mirrored past every edge. A sliver of an in-between
    frame that neither source saw (:data:`~.framing.UNSEEN_EDGE`) is read from there, which
    continues the texture where repeating the edge pixel would draw streaks."""
    return cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REFLECT_101)


def _shift(pad: int) -> Homography:
    """Pixel coordinates of a frame to those of the frame padded by ``pad``."""
    return np.array([[1.0, 0.0, pad], [0.0, 1.0, pad], [0.0, 0.0, 1.0]])


AFFINE_TOLERANCE = 0.02
"""Pixels by which a sampling map may differ from its affine part for that to be used
instead: an affine warp costs about half a perspective one (a zoom or a slide is affine)."""


def _warped(
    source: np.ndarray,
    sampling: Homography,
    shape: tuple[int, ...],
    onto: np.ndarray | None = None,
) -> np.ndarray:
    """``source`` read through the homography ``sampling`` into a frame of ``shape``: past
    its edges its edge pixel, or, given ``onto``, drawn over that frame where it sees."""
    size = (shape[1], shape[0])
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    border = cv2.BORDER_REPLICATE if onto is None else cv2.BORDER_TRANSPARENT
    sampling = normalized(sampling)
    quad = corners(*size)
    exact = cv2.perspectiveTransform(quad[None], sampling)[0]
    affine = quad @ sampling[:2, :2].T + sampling[:2, 2]
    if np.abs(exact - affine).max() <= AFFINE_TOLERANCE:
        return cv2.warpAffine(source, sampling[:2], size, onto, flags, border)
    return cv2.warpPerspective(source, sampling, size, onto, flags, border)


def _picture(padded: np.ndarray, points: _Points) -> np.ndarray:
    """A padded source read at ``points`` (padded pixels), bilinearly."""
    return cv2.remap(padded, points, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


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
