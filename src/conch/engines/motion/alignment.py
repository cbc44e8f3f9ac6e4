"""The global camera motion between two frames, as a homography.

Features (ORB) matched across the frames and fitted with RANSAC find the motion most of
the picture shares, the camera's; a quick dense flow over the frames so aligned then
refines the fit with every pixel's evidence. A frame pair with too few agreeing matches
has no dominant motion, and the identity is the honest answer; such a pair shares no
geometry at all when its pictures also differ (two photos of different things).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from conch.engines.motion.geometry import Homography, normalized
from conch.engines.motion.matrix import matrix_exp, matrix_log

MIN_INLIERS = 40
MIN_INLIER_SHARE = 0.3
DIFFERENT = 8.0
"""Mean grey-level difference (0-255) from which two pictures without shared geometry are
taken for different scenes rather than one plain, featureless view."""
_FEATURES = 1000
_REPROJECTION = 2.0


def global_homography(first: np.ndarray, last: np.ndarray) -> Homography:
    """The map taking points of gray image ``first`` to where they are in ``last``."""
    return refined(first, last, matched_homography(first, last))


def matched_homography(first: np.ndarray, last: np.ndarray) -> Homography:
    """The homography that feature matches between the gray images agree on, or identity."""
    found = match(first, last).homography
    return np.eye(3) if found is None else found


@dataclass(frozen=True)
class Match:
    """What feature matching found between two pictures."""

    homography: Homography | None
    """The motion most matches agree on, or None if no plausible one has enough of them."""
    inliers: int
    matches: int


def match(first: np.ndarray, last: np.ndarray) -> Match:
    """ORB features of the gray images matched both ways and fitted with RANSAC."""
    orb = cv2.ORB_create(_FEATURES)  # type: ignore[attr-defined]  # absent from cv2's stubs
    kp0, des0 = orb.detectAndCompute(first, None)
    kp1, des1 = orb.detectAndCompute(last, None)
    if des0 is None or des1 is None or len(kp0) < MIN_INLIERS or len(kp1) < MIN_INLIERS:
        return Match(None, 0, 0)
    matches = cv2.BFMatcher(cv2.NORM_HAMMING, crossCheck=True).match(des0, des1)
    if len(matches) < MIN_INLIERS:
        return Match(None, 0, len(matches))
    src = np.array([kp0[m.queryIdx].pt for m in matches], dtype=np.float32)
    dst = np.array([kp1[m.trainIdx].pt for m in matches], dtype=np.float32)
    h, mask = cv2.findHomography(src, dst, cv2.RANSAC, _REPROJECTION)
    inliers = 0 if mask is None else int(mask.sum())
    agreed = h is not None and inliers >= MIN_INLIERS and inliers >= MIN_INLIER_SHARE * len(matches)
    if not agreed or not plausible(h, first.shape):
        return Match(None, inliers, len(matches))
    return Match(normalized(h), inliers, len(matches))


def shares_geometry(found: Match, first: np.ndarray, last: np.ndarray) -> bool:
    """False for two pictures of different things: no camera motion relates them (too few
    agreeing matches) and they differ (a mean grey-level step of :data:`DIFFERENT` or more).

    Measured in ``benchmarks/camera.py``: real pairs of the test clip up to 96 frames apart
    and known camera moves over photos keep hundreds of agreeing matches; pairs of different
    photos keep about ten, far under :data:`MIN_INLIERS`.
    """
    if found.homography is not None:
        return True
    return float(cv2.absdiff(first, last).mean()) < DIFFERENT


_GRID_STEP = 8


def refined(first: np.ndarray, last: np.ndarray, h: Homography) -> Homography:
    """``h`` refitted to a dense flow between ``first`` and ``last`` aligned by ``h``."""
    height, width = first.shape[:2]
    aligned = cv2.warpPerspective(
        last,
        h,
        (width, height),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REPLICATE,
    )
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)  # type: ignore[attr-defined]  # absent from cv2's stubs
    flow = dis.calc(first, aligned, None)
    ys, xs = np.mgrid[_GRID_STEP // 2 : height : _GRID_STEP, _GRID_STEP // 2 : width : _GRID_STEP]
    points = np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float32)
    moved = points + flow[ys.ravel(), xs.ravel()]
    targets = cv2.perspectiveTransform(moved[None], h)[0]
    # Past the last frame's edge the aligned frame is its edge stretched: no evidence there.
    seen = (
        (targets[:, 0] >= _GRID_STEP)
        & (targets[:, 0] <= width - 1 - _GRID_STEP)
        & (targets[:, 1] >= _GRID_STEP)
        & (targets[:, 1] <= height - 1 - _GRID_STEP)
    )
    points, targets = points[seen], targets[seen]
    if len(points) < MIN_INLIERS:
        return h
    fit, mask = cv2.findHomography(points, targets, cv2.RANSAC, _REPROJECTION)
    if fit is None or mask is None or mask.sum() < MIN_INLIER_SHARE * len(points):
        return h
    if not plausible(fit, first.shape):
        return h
    inliers = mask.ravel() > 0
    return simplest(normalized(fit), points[inliers], targets[inliers])


AFFINE_SLACK = 0.01
"""Working pixels of root-mean-square error an affine fit may add to the homography's and
still be preferred: a zoom or a slide is affine, and the homography's extra freedom then
fits only noise (a perspective tilt of a pixel or two across the frame)."""


def simplest(h: Homography, points: np.ndarray, targets: np.ndarray) -> Homography:
    """An affine map fitted to the matched ``points`` and ``targets`` if it explains them as
    well as the homography ``h`` does; ``h`` if not."""
    affine = cv2.estimateAffine2D(points, targets, method=cv2.LMEDS)[0]
    if affine is None:
        return h
    as_3x3 = np.vstack([affine, [0.0, 0.0, 1.0]])

    def rms(m: Homography) -> float:
        mapped = cv2.perspectiveTransform(points[None], m)[0]
        return float(np.sqrt(np.mean(np.sum((mapped - targets) ** 2, axis=1))))

    return as_3x3 if rms(as_3x3) <= rms(h) + AFFINE_SLACK else h


MAX_SCALE_CHANGE = 3.0
"""A camera motion that changes areas more than this between two frames is not believed."""


def plausible(h: Homography, shape: tuple[int, ...]) -> bool:
    """True if ``h`` could be a camera's motion over a frame of ``shape``.

    It must keep the frame in front of the camera, not mirror it, and change areas only
    so much; RANSAC on a bad match set can return any of those.
    """
    height, width = shape[:2]
    quad = np.array([[0, 0, 1], [width, 0, 1], [width, height, 1], [0, height, 1]], float)
    depth = quad @ normalized(h)[2]
    area_change = float(np.linalg.det(normalized(h)[:2, :2]))
    return bool((depth > 0.5).all() and 1 / MAX_SCALE_CHANGE < area_change < MAX_SCALE_CHANGE)


class HomographyPath:
    """Fractional powers of a homography: the motion ``h`` done at constant speed.

    A rotation's power turns at a steady rate, a translation's moves at a steady speed, and a
    zoom's scales geometrically, halfway between a zoom lens and a dolly.
    """

    def __init__(self, h: Homography) -> None:
        # Scale to unit determinant so that the logarithm is real for any proper motion.
        det = float(np.linalg.det(h))
        unit = h / np.cbrt(det) if det > 0 else np.eye(3)
        self._log = matrix_log(unit)

    def at(self, fraction: float) -> Homography:
        """``h`` to the power ``fraction`` (0 gives the identity, 1 gives ``h``)."""
        return normalized(matrix_exp(fraction * self._log))
