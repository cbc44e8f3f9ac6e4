"""Dense optical flow both ways between two frames, with how sure we are of it.

Six DIS estimates are averaged. Four match small patches (6 pixels): three that stop a
pyramid level short of full detail (at the working size, at three quarters and at half of
it) and one at full detail. Two match large patches, a level short of full detail (16
pixels at the working size, 12 at three quarters), which hold on where small ones lose
fast or plain parts. Where they disagree, the spread says the motion is uncertain, and the
morph softens the picture there rather than draw a sharp edge in the wrong place. On the
test clip the average of five 8-pixel estimates beat any one of them by 0.3 dB; this mix
adds 0.07 dB (every pair at gap 8: 31.52 -> 31.59 dB) at about the same cost. A mix of
seven, whose large-patch member at three quarters size works at full detail and with one
more small-patch member there, scored 31.61 dB for about twice the flow time. Variational
refinement cost four times the time and lost 0.03 dB, so it is off.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from conch.engines.motion.grids import pixel_points

Flow = np.ndarray
"""A (height, width, 2) float32 field of displacements in pixels."""


@dataclass(frozen=True)
class _Estimator:
    scale: float
    finest_scale: int
    refinement_iterations: int
    patch_size: int = 6
    patch_stride: int = 3

    def create(self) -> cv2.DISOpticalFlow:
        dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)  # type: ignore[attr-defined]  # absent from cv2's stubs
        dis.setFinestScale(self.finest_scale)
        dis.setPatchSize(self.patch_size)
        dis.setPatchStride(self.patch_stride)
        dis.setGradientDescentIterations(12)
        dis.setVariationalRefinementIterations(self.refinement_iterations)
        return dis


ESTIMATORS = (
    _Estimator(1.0, 1, 0),
    _Estimator(0.75, 1, 0),
    _Estimator(0.5, 1, 0),
    _Estimator(1.0, 0, 0),
    _Estimator(1.0, 1, 0, patch_size=16, patch_stride=8),
    _Estimator(0.75, 1, 0, patch_size=12, patch_stride=6),
)
"""The flow hypotheses that are averaged."""


@dataclass(frozen=True)
class FlowField:
    """Motion from one frame to the other and back, with per-pixel spread (pixels)."""

    forward: Flow
    backward: Flow
    forward_spread: np.ndarray
    backward_spread: np.ndarray

    def scaled(self, factor: float) -> FlowField:
        """This motion, ``factor`` times as far (0 leaves a plain dissolve)."""
        if factor == 1.0:
            return self
        k = np.float32(factor)
        return FlowField(
            self.forward * k, self.backward * k, self.forward_spread * k, self.backward_spread * k
        )

    def faded(self, weight: np.ndarray) -> FlowField:
        """This motion where ``weight`` (0..1 per pixel) is 1, and none where it is 0."""
        w = weight.astype(np.float32)
        return FlowField(
            self.forward * w[..., None],
            self.backward * w[..., None],
            self.forward_spread * w,
            self.backward_spread * w,
        )


UNRELATED_SHARE = 0.85
"""Share of the frames' difference left after warping at which flow is no better than none."""

RELATED_SHARE = 0.65
"""Share at or below which the flow is trusted fully."""

SMALL_DIFFERENCE = 8.0
"""Mean grey-level difference below which two frames are alike enough to trust any flow."""


def trust(first: np.ndarray, last: np.ndarray, aligned: np.ndarray, forward: Flow) -> float:
    """How far to trust the motion from gray image ``first`` to ``last``, 0..1.

    ``aligned`` is ``last`` with the camera motion undone and ``forward`` the flow from
    ``first`` to it: together they are the whole motion.

    Flow between unrelated pictures (a first and a last frame of different scenes) still
    finds "matches", and warping along them smears both pictures; if the motion explains
    little of the difference between the frames, a dissolve is the honest transition.
    """
    before = float(cv2.absdiff(first, last).mean())
    if before < SMALL_DIFFERENCE:
        return 1.0
    height, width = first.shape[:2]
    xs, ys = pixel_points(width, height)
    warped = cv2.remap(
        aligned,
        xs + forward[..., 0],
        ys + forward[..., 1],
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    share = float(cv2.absdiff(first, warped).mean()) / before
    span = UNRELATED_SHARE - RELATED_SHARE
    return float(np.clip((UNRELATED_SHARE - share) / span, 0.0, 1.0))


def bidirectional_flow(first: np.ndarray, last: np.ndarray) -> FlowField:
    """Flow between two gray uint8 images of the same size, both ways."""
    forward = [_estimate(e, first, last) for e in ESTIMATORS]
    backward = [_estimate(e, last, first) for e in ESTIMATORS]
    forward_mean, backward_mean = _mean(forward), _mean(backward)
    return FlowField(
        forward=forward_mean,
        backward=backward_mean,
        forward_spread=_spread(forward, forward_mean),
        backward_spread=_spread(backward, backward_mean),
    )


def _estimate(estimator: _Estimator, first: np.ndarray, last: np.ndarray) -> Flow:
    height, width = first.shape[:2]
    if estimator.scale == 1.0:
        return _calc(estimator, first, last)
    size = (max(8, round(width * estimator.scale)), max(8, round(height * estimator.scale)))
    small = [cv2.resize(image, size, interpolation=cv2.INTER_AREA) for image in (first, last)]
    flow = _calc(estimator, small[0], small[1])
    factors = np.array([width / size[0], height / size[1]], dtype=np.float32)
    return cv2.resize(flow, (width, height), interpolation=cv2.INTER_LINEAR) * factors


def _calc(estimator: _Estimator, first: np.ndarray, last: np.ndarray) -> Flow:
    # cv2's stubs omit the flow=None form that asks OpenCV to allocate the result.
    return estimator.create().calc(first, last, None)  # type: ignore[call-overload]


def _mean(flows: list[Flow]) -> Flow:
    total = flows[0].copy()
    for flow in flows[1:]:
        total += flow
    return total / np.float32(len(flows))


def _spread(flows: list[Flow], mean: Flow) -> np.ndarray:
    """Root-mean-square distance of the estimates from their ``mean``, per pixel."""
    squares = np.zeros(mean.shape[:2], np.float32)
    for flow in flows:
        difference = flow - mean
        squares += np.einsum("ijk,ijk->ij", difference, difference)
    return np.sqrt(squares / np.float32(len(flows)))
