"""Interpolation quality against ground truth: conch's motion engine, a crossfade, minterpolate.

Two kinds of truth:

- real footage: pairs of frames ``gap`` apart in the test clip (8 and 24 frames), the true
  frames between them as the answer; pairs never straddle a repeated frame;
- known camera moves over photographs from ``skimage.data``: a virtual camera pans, trucks,
  rises, zooms or pushes in over the photo, so every in-between view is computable exactly.

For each case it prints PSNR and SSIM (luma) for each method and frames per second; the
photo cases also run conch with the command that names their move in the prompt (a zoom
lens and a dolly cannot be told apart from two frames of a flat picture: only the command
says which law the scale follows).
Run: ``.venv/bin/python benchmarks/interpolation.py [--stride N] [--quick] [--no-minterpolate]``.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from _common import (
    Interpolator,
    Score,
    crossfade,
    frame_pairs,
    load_line,
    minterpolate,
    motion_job,
    photo,
    print_table,
    read_clip,
    repeated_frames,
    score,
)
from conch.engines.motion import MotionEngine

CLIP_GAPS = (8, 24)
PHOTO_GAP = 24
PHOTOS = ("astronaut", "coffee", "rocket")
CROP = 0.7
"""Share of the photo a virtual camera's frame covers; the rest is room to move."""

_engine = MotionEngine()


def conch(first: np.ndarray, last: np.ndarray, gap: int, prompt: str = "") -> list[np.ndarray]:
    """conch's motion engine in first+last mode, through its public interface."""
    job = motion_job(first, last, gap + 1, prompt)
    frames = list(_engine.generate(job, lambda _: None))
    return frames[1:-1]


def named(command: str) -> Interpolator:
    """conch with ``command`` in the prompt: the move the frames show, named."""
    return lambda first, last, gap: conch(first, last, gap, command)


METHODS: dict[str, Interpolator] = {
    "conch": conch,
    "crossfade": crossfade,
    "minterpolate": minterpolate,
}

Triple = tuple[np.ndarray, np.ndarray, list[np.ndarray]]


def clip_cases(stride: int) -> Iterator[tuple[str, int, list[Triple], str]]:
    frames = read_clip()
    repeats = repeated_frames(frames)
    for gap in CLIP_GAPS:
        pairs = frame_pairs(len(frames), repeats, gap, stride if gap < 24 else 1)
        triples = [(frames[a], frames[b], list(frames[a + 1 : b])) for a, b in pairs]
        yield f"clip, gap {gap} ({len(pairs)} pairs)", gap, triples, ""


@dataclass(frozen=True)
class Frame:
    """A virtual camera's frame over a photo: its size, focal length and centre."""

    size: tuple[int, int]

    @property
    def centre(self) -> tuple[float, float]:
        return (self.size[0] - 1) / 2, (self.size[1] - 1) / 2

    @property
    def focal(self) -> float:
        return 0.5 * max(self.size) / math.tan(math.radians(30))


# A camera move: clip time t in [0, 1] -> sampling map from the frame to the photo.
Move = Callable[[float, Frame], np.ndarray]


def _shift(dx: float, dy: float) -> np.ndarray:
    return np.array([[1.0, 0.0, dx], [0.0, 1.0, dy], [0.0, 0.0, 1.0]])


def _zoom_about(centre: tuple[float, float], scale: float) -> np.ndarray:
    cx, cy = centre
    return _shift(cx, cy) @ np.diag([1 / scale, 1 / scale, 1.0]) @ _shift(-cx, -cy)


def _pan(t: float, frame: Frame) -> np.ndarray:
    angle = math.radians(5.0) * t
    (cx, cy), focal = frame.centre, frame.focal
    k = np.array([[focal, 0, cx], [0, focal, cy], [0, 0, 1.0]])
    turn = np.array(
        [[math.cos(angle), 0, math.sin(angle)], [0, 1, 0], [-math.sin(angle), 0, math.cos(angle)]]
    )
    return k @ turn @ np.linalg.inv(k)


def _truck(t: float, frame: Frame) -> np.ndarray:
    return _shift(0.1 * frame.size[0] * t, 0.0)


def _pedestal(t: float, frame: Frame) -> np.ndarray:
    return _shift(0.0, -0.1 * frame.size[1] * t)


def _zoom(t: float, frame: Frame) -> np.ndarray:
    # A zoom lens at constant speed: the focal length grows linearly to 1.3x.
    return _zoom_about(frame.centre, 1.0 + 0.3 * t)


def _push_in(t: float, frame: Frame) -> np.ndarray:
    # A dolly at constant speed toward a wall: magnification 1 / (1 - travel), 1.3x at the end.
    travel = (1 - 1 / 1.3) * t
    return _zoom_about(frame.centre, 1.0 / (1.0 - travel))


MOVES: dict[str, tuple[Move, str]] = {
    "pan": (_pan, "[右摇]"),
    "truck": (_truck, "[右移]"),
    "pedestal": (_pedestal, "[上升]"),
    "zoom": (_zoom, "[变焦推近]"),
    "push in": (_push_in, "[推进]"),
}
"""Each move, and the command that names it (MiniMax's Chinese spelling)."""


def photo_cases() -> Iterator[tuple[str, int, list[Triple], str]]:
    """Each known camera move over the photos, with the command that names it."""
    for name, (move, command) in MOVES.items():
        triples = [_photo_triple(photo(name), move) for name in PHOTOS]
        yield f"photos, {name} ({len(PHOTOS)} photos)", PHOTO_GAP, triples, command


def _photo_triple(photo: np.ndarray, move: Move) -> Triple:
    height, width = photo.shape[:2]
    size = (round(width * CROP / 2) * 2, round(height * CROP / 2) * 2)
    frame = Frame(size)
    offset = _shift((width - size[0]) / 2, (height - size[1]) / 2)
    views = []
    for k in range(PHOTO_GAP + 1):
        sampling = offset @ move(k / PHOTO_GAP, frame)
        views.append(
            cv2.warpPerspective(
                photo,
                sampling,
                size,
                flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
                borderMode=cv2.BORDER_REFLECT,
            )
        )
    return views[0], views[-1], views[1:-1]


def _rows(case: str, scores: dict[str, Score]) -> list[list[object]]:
    best_peer = max(s for name, s in _means(scores).items() if not name.startswith("conch"))
    rows: list[list[object]] = []
    for name, result in scores.items():
        mark = ""
        if name == "conch":
            mark = "above peers" if float(np.mean(result.psnr)) > best_peer else "BELOW A PEER"
            if "minterpolate" in scores:
                mark += f", {result.fps / scores['minterpolate'].fps:.1f}x minterpolate fps"
        rows.append(
            [
                case,
                name,
                f"{np.mean(result.psnr):.2f}",
                f"{np.mean(result.ssim):.4f}",
                f"{result.fps:.1f}",
                mark,
            ]
        )
    return rows


def _means(scores: dict[str, Score]) -> dict[str, float]:
    return {name: float(np.mean(s.psnr)) for name, s in scores.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stride", type=int, default=1, help="step between 8-frame pairs")
    parser.add_argument("--quick", action="store_true", help="photos only, no minterpolate")
    parser.add_argument(
        "--no-minterpolate", action="store_true", help="leave out ffmpeg's minterpolate"
    )
    args = parser.parse_args()
    methods = dict(METHODS)
    if args.quick or args.no_minterpolate:
        methods.pop("minterpolate")
    cases = list(photo_cases()) if args.quick else [*clip_cases(args.stride), *photo_cases()]
    rows: list[list[object]] = []
    speeds: dict[str, list[float]] = {name: [0.0, 0.0] for name in methods}
    gap8 = Score([], [])
    for case, gap, triples, command in cases:
        with_named = {**methods, f"conch, {command}": named(command)} if command else methods
        scores = {name: score(method, triples, gap) for name, method in with_named.items()}
        rows += _rows(case, scores)
        if case.startswith("clip, gap 8 "):
            gap8 = scores["conch"]
        for name, result in scores.items():
            if name in speeds:
                speeds[name][0] += result.frames
                speeds[name][1] += result.seconds
        print(f"  done: {case}", flush=True)
    print_table(
        f"Interpolation against ground truth ({load_line()})",
        ["case", "method", "PSNR dB", "SSIM", "fps", "conch vs peers"],
        rows,
    )
    overall = {name: frames / seconds for name, (frames, seconds) in speeds.items()}
    print(
        "\nframes per second over all cases: "
        + ", ".join(f"{name} {fps:.1f}" for name, fps in overall.items())
    )
    if "minterpolate" in overall:
        print(f"conch / minterpolate speed: {overall['conch'] / overall['minterpolate']:.1f}x")
    if gap8.psnr:
        _print_gap8_targets(gap8)


GAP8_FLOOR, GAP8_TARGET, GAP8_FPS = 31.51, 32.0, 20.0
"""Issue 15's no-regression figures for the clip at an 8-frame gap."""


def _print_gap8_targets(result: Score) -> None:
    value = float(np.mean(result.psnr))
    print(
        f"clip gap 8: conch {value:.2f} dB at {result.fps:.1f} frames/s; "
        f"no drop below {GAP8_FLOOR}: {'met' if value >= GAP8_FLOOR else 'NOT MET'}; "
        f"target {GAP8_TARGET} dB at >= {GAP8_FPS:.0f} frames/s: "
        f"{'met' if value >= GAP8_TARGET and result.fps >= GAP8_FPS else 'NOT MET'}"
    )


if __name__ == "__main__":
    main()
