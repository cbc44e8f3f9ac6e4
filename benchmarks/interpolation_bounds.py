"""How far two-frame interpolation can go on the test clip at an 8-frame gap: bounds found
with the true in-between frames, beside conch's own score on the same pairs.

Issue 15 asks 32.0 dB at gap 8 of ``benchmarks/interpolation.py``. Where can it come from?

- **conch**: the motion engine as it is (flow estimated from the two frames alone).
- **chained flow**: conch's transition with its flow replaced by DIS flow chained through
  the seven true frames between, one frame apart, where DIS is most accurate. This is about
  the best flow between the two frames any estimator could give. Everything else stays
  conch's: constant speed along the flow, softening, blend.
- **flow at t**: each source warped by the flow from the true frame at ``t`` to it and the
  two blended by time. This is the true position of everything at ``t``, which two frames
  cannot give where motion is not constant-speed.

The first gap says about the most a better flow estimator could add; the second what knowing
each object's path (not just its ends) adds. Compare figures on the same pairs only (the
stride picks them). Run: ``.venv/bin/python benchmarks/interpolation_bounds.py [--stride N]``.
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Iterator, Sequence

import cv2
import numpy as np

from _common import (
    frame_pairs,
    load_line,
    motion_job,
    print_table,
    read_clip,
    repeated_frames,
)
from conch.engines.motion.engine import transition_frames
from conch.engines.motion.flow import Flow, FlowField, bidirectional_flow
from conch.engines.motion.grids import pixel_points
from conch.engines.motion.morph import Transition, related
from conch.media.quality import psnr

GAP = 8

Image = np.ndarray


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stride", type=int, default=4, help="step between pairs (1: all)")
    args = parser.parse_args()
    frames = read_clip()
    pairs = frame_pairs(len(frames), repeated_frames(frames), GAP, args.stride)
    scores: dict[str, list[float]] = {"conch": [], "chained flow": [], "flow at t": []}
    for a, b in pairs:
        first, last, truth = frames[a], frames[b], list(frames[a + 1 : b])
        transition = related(first, last)
        if not isinstance(transition, Transition):
            continue  # a pair the camera motion alone explains has no flow to bound
        chained = _with_chained_flow(transition, list(frames[a : b + 1]))
        for name, estimates in (
            ("conch", _between(transition)),
            ("chained flow", _between(chained)),
            ("flow at t", _flow_at_t(first, last, truth)),
        ):
            scores[name] += [psnr(e, t) for e, t in zip(estimates, truth, strict=True)]
        print(f"  done: frames {a}-{b}", flush=True)
    _report(scores, len(scores["conch"]) // (GAP - 1))


def _between(transition: Transition) -> list[Image]:
    """The in-between frames the engine draws for ``transition`` with no camera command."""
    job = motion_job(transition.first, transition.last, GAP + 1)
    return list(transition_frames(transition, job))[1:-1]


def _with_chained_flow(transition: Transition, clip: Sequence[Image]) -> Transition:
    """``transition`` redone with flow chained through every frame of ``clip`` (first to
    last), carried into the transition's frame of reference: the last frame with the
    camera motion undone, at the working size."""
    size = transition.working.size
    grays = [_gray(frame, size) for frame in clip]
    hops = [bidirectional_flow(a, b) for a, b in itertools.pairwise(grays)]
    forward = _chain([hop.forward for hop in hops])
    backward = _chain([hop.backward for hop in reversed(hops)])
    direct = bidirectional_flow(grays[0], grays[-1])  # its spread softens as conch does
    flow = FlowField(
        forward=_forward_to_aligned(forward, transition.camera),
        backward=_backward_to_aligned(backward, transition.camera),
        forward_spread=direct.forward_spread,
        backward_spread=direct.backward_spread,
    )
    return Transition(transition.first, transition.last, transition.camera, flow)


def _gray(frame: Image, size: tuple[int, int]) -> Image:
    small = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)


def _chain(hops: Sequence[Flow]) -> Flow:
    """One flow that follows each of ``hops`` in turn."""
    total = hops[0]
    for hop in hops[1:]:
        total = total + _read(hop, _landing(total))
    return total


def _points(flow: Flow) -> np.ndarray:
    xs, ys = pixel_points(flow.shape[1], flow.shape[0])
    return np.dstack([xs, ys]).astype(np.float32)


def _landing(flow: Flow) -> np.ndarray:
    """Where each pixel lands after ``flow``."""
    landing: np.ndarray = _points(flow) + flow
    return landing


def _read(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    return cv2.remap(image, points, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _forward_to_aligned(forward: Flow, camera: np.ndarray) -> Flow:
    """First-frame flow into the last frame, as flow into the last with the camera undone
    (the aligned last frame's pixel ``x`` is the last frame's ``camera @ x``)."""
    into_aligned = cv2.perspectiveTransform(_landing(forward), np.linalg.inv(camera))
    flow: Flow = into_aligned - _points(forward)
    return flow


def _backward_to_aligned(backward: Flow, camera: np.ndarray) -> Flow:
    """Last-frame flow into the first frame, read from the aligned last frame's pixels."""
    in_last = cv2.perspectiveTransform(_points(backward), camera)
    flow: Flow = in_last + _read(backward, in_last) - _points(backward)
    return flow


def _flow_at_t(first: Image, last: Image, truth: Sequence[Image]) -> Iterator[Image]:
    """Each true in-between frame redrawn from the two sources by the flow from it to each."""
    height, width = first.shape[:2]
    size = (width // 2, height // 2)
    sources = [(first, _gray(first, size)), (last, _gray(last, size))]
    for index, true in enumerate(truth, start=1):
        t = index / GAP
        at_t = _gray(true, size)
        warped = [_warp(source, bidirectional_flow(at_t, gray).forward) for source, gray in sources]
        yield cv2.addWeighted(warped[0], 1.0 - t, warped[1], t, 0.0)


def _warp(source: Image, flow: Flow) -> Image:
    """``source`` read along ``flow`` (found at a smaller size) at its own size."""
    height, width = source.shape[:2]
    scale = np.float32(width / flow.shape[1])
    full = cv2.resize(flow, (width, height), interpolation=cv2.INTER_LINEAR) * scale
    return _read(source, _landing(full))


def _report(scores: dict[str, list[float]], pairs: int) -> None:
    """The table: each method's mean over the ``pairs`` pairs scored."""
    conch = float(np.mean(scores["conch"]))
    rows = [
        (name, f"{np.mean(values):.2f}", f"{np.mean(values) - conch:+.2f}")
        for name, values in scores.items()
    ]
    print_table(
        f"Clip, gap {GAP}, {pairs} pairs: PSNR dB of the in-between frames ({load_line()})",
        ("method", "PSNR dB", "vs conch"),
        rows,
    )


if __name__ == "__main__":
    main()
