"""Render speed and memory: every resolution x duration x mode, rendered and encoded.

Each case runs in a fresh process (so peak memory is that render's alone, interpreter and
libraries included): the motion engine's frames stream into the MP4 encoder exactly as a
runner does it. Inputs are real frames of the test clip, fitted to the output size. The
process renders the case :data:`RUNS` times: ``wall s`` and ``cpu s`` are the medians (a
running server's renders), ``first s`` the wall time of the process's first render.

A second table compares x264 presets on the 6 s 768P first+last render: wall time, file
size and the encoded video's PSNR against the engine's own frames, which is how the
encoder's default preset is chosen.

A third measures, side by side in one process, a 6 s 768P first+last render of a zoom pair
(skimage's astronaut and a 1.3x crop of it): the frames alone, the encoding of those same
frames alone, and rendering while encoding as a runner does (medians of :data:`RATIO_RUNS`).
Target (issue 15): render plus encode at most :data:`RATIO_TARGET` x the encode alone.
Run: ``.venv/bin/python benchmarks/render.py [--preset NAME] [--only 768P] [--ratio]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np
import skimage.data

from _common import load_line, print_table, read_frames
from conch.domain.camera import CameraPlan
from conch.domain.catalog import FPS, Mode, Resolution, frame_count, output_size
from conch.engines.base import Job
from conch.engines.motion import MotionEngine
from conch.media.quality import psnr
from conch.media.video import DEFAULT_PRESET, encode_mp4

FIRST, LAST = 10, 60
"""Clip frames used as the first and last frame (two seconds apart: real motion)."""

TARGETS = {("first+last", Resolution.R768, 6): 3.0, ("first+last", Resolution.R1080, 6): 6.0}
"""Wall-time targets from issue 3, in seconds."""

MEMORY_LIMIT_MB = 1500

RUNS = 3
"""Renders of each case in its process; the first pays one-off costs (page faults, caches)."""


@dataclass(frozen=True)
class Case:
    mode: str  # "image", "first+last" or "last only"
    resolution: Resolution
    seconds: int

    @property
    def size(self) -> tuple[int, int]:
        return output_size(self.resolution, 16, 9)


def cases() -> list[Case]:
    """Every combination some model in the catalog accepts."""
    image = [
        (Resolution.R512, (6, 10)),
        (Resolution.R720, (6,)),
        (Resolution.R768, (6, 10)),
        (Resolution.R1080, (6,)),
    ]
    both = [(Resolution.R768, (6, 10)), (Resolution.R1080, (6,))]
    found = [Case("image", r, d) for r, ds in image for d in ds]
    for mode in ("first+last", "last only"):
        found += [Case(mode, r, d) for r, ds in both for d in ds]
    return found


RATIO_RUNS = 4
RATIO_TARGET = 2.0
ZOOM = 1.3


def zoom_pair_job() -> Job:
    """The astronaut fitted to 768P as the first frame, a centred 1.3x crop of it as the last."""
    width, height = output_size(Resolution.R768, 16, 9)
    astronaut = skimage.data.astronaut()
    top = (astronaut.shape[0] - round(astronaut.shape[1] * 9 / 16)) // 2
    strip = astronaut[top : astronaut.shape[0] - top]
    first = cv2.resize(strip, (width, height), interpolation=cv2.INTER_CUBIC)
    crop = np.array(
        [
            [1 / ZOOM, 0.0, (width - width / ZOOM) / 2],
            [0.0, 1 / ZOOM, (height - height / ZOOM) / 2],
            [0.0, 0.0, 1.0],
        ]
    )
    flags = cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP
    last = cv2.warpPerspective(first, crop, (width, height), flags=flags)
    return Job(
        mode=Mode.FIRST_LAST,
        prompt="",
        camera_plan=CameraPlan(),
        width=width,
        height=height,
        frame_count=frame_count(6),
        first_frame=np.ascontiguousarray(first),
        last_frame=np.ascontiguousarray(last),
    )


def render_encode_ratio() -> list[list[object]]:
    """Frames alone, encoding alone and both together, interleaved run by run in this process
    (so that a change in the machine's load touches all three alike)."""
    job = zoom_pair_job()
    timings: dict[str, list[float]] = {
        "frames alone": [],
        "encode alone": [],
        "render + encode": [],
    }
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "out.mp4"
        for _ in range(RATIO_RUNS):
            start = time.perf_counter()
            frames = list(MotionEngine().generate(job, lambda _: None))
            timings["frames alone"].append(time.perf_counter() - start)
            start = time.perf_counter()
            encode_mp4(frames, path, job.width, job.height, produce_id="bench")
            timings["encode alone"].append(time.perf_counter() - start)
            start = time.perf_counter()
            stream = MotionEngine().generate(job, lambda _: None)
            encode_mp4(stream, path, job.width, job.height, produce_id="bench")
            timings["render + encode"].append(time.perf_counter() - start)
    medians = {name: statistics.median(values) for name, values in timings.items()}
    ratio = medians["render + encode"] / medians["encode alone"]
    rows: list[list[object]] = [
        [name, f"{medians[name]:.2f}", " ".join(f"{v:.2f}" for v in values), ""]
        for name, values in timings.items()
    ]
    verdict = "met" if ratio <= RATIO_TARGET else "NOT MET"
    rows.append(
        [
            "ratio",
            f"{ratio:.2f}",
            "render + encode / encode alone",
            f"<= {RATIO_TARGET:.0f}: {verdict}",
        ]
    )
    return rows


PRESETS = ("ultrafast", "superfast", "veryfast", "faster")
PRESET_CASE = Case("first+last", Resolution.R768, 6)


def _job(case: Case) -> Job:
    width, height = case.size
    first, last = (
        cv2.resize(frame, (width, height), interpolation=cv2.INTER_CUBIC)
        for frame in read_frames([FIRST, LAST])
    )
    return Job(
        mode=Mode.IMAGE if case.mode == "image" else Mode.FIRST_LAST,
        prompt="",
        camera_plan=CameraPlan(),
        width=width,
        height=height,
        frame_count=frame_count(case.seconds),
        first_frame=None if case.mode == "last only" else np.ascontiguousarray(first),
        last_frame=None if case.mode == "image" else np.ascontiguousarray(last),
    )


def render_one(case: Case, preset: str, *, quality: bool = False) -> dict[str, float]:
    """Render and encode ``case`` :data:`RUNS` times in this process: median wall and CPU
    time, the first render's wall time, peak memory and the file's size.

    With ``quality``, the video is then decoded and compared with the engine's frames
    (rendered again: the engine is deterministic), outside the timed part.
    """
    job = _job(case)
    walls, cpus = [], []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "out.mp4"
        for _ in range(RUNS):
            start, cpu_start = time.perf_counter(), time.process_time()
            info = encode_mp4(
                MotionEngine().generate(job, lambda _: None),
                path,
                job.width,
                job.height,
                produce_id="bench",
                fps=FPS,
                preset=preset,
            )
            walls.append(time.perf_counter() - start)
            cpus.append(time.process_time() - cpu_start)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        fidelity = _fidelity(job, path) if quality else float("nan")
    return {
        "wall": statistics.median(walls),
        "first": walls[0],
        "cpu": statistics.median(cpus),
        "frames": info.frames,
        "peak_mb": peak_mb,
        "bytes": info.bytes,
        "psnr": fidelity,
    }


def _fidelity(job: Job, path: Path) -> float:
    """Mean PSNR of the decoded video against the frames the engine rendered."""
    frames = MotionEngine().generate(job, lambda _: None)
    with av.open(str(path)) as container:
        decoded = (f.to_ndarray(format="rgb24") for f in container.decode(video=0))
        return float(np.mean([psnr(d, f) for d, f in zip(decoded, frames, strict=True)]))


def _row(case: Case, result: dict[str, float]) -> list[object]:
    width, height = case.size
    target = TARGETS.get((case.mode, case.resolution, case.seconds))
    verdict = []
    if target is not None:
        verdict.append(f"<= {target:.0f} s: {'ok' if result['wall'] <= target else 'MISSED'}")
    if result["peak_mb"] >= MEMORY_LIMIT_MB:
        verdict.append("MEMORY OVER")
    return [
        case.mode,
        case.resolution.value,
        f"{width}x{height}",
        case.seconds,
        int(result["frames"]),
        f"{result['wall']:.2f}",
        f"{result['first']:.2f}",
        f"{result['cpu']:.2f}",
        f"{result['frames'] / result['wall']:.0f}",
        f"{result['peak_mb']:.0f}",
        f"{result['bytes'] / 1e6:.1f}",
        "; ".join(verdict),
    ]


def _run(case: Case, preset: str, *, quality: bool = False) -> dict[str, float]:
    """:func:`render_one` in a fresh process."""
    spec = json.dumps([case.mode, case.resolution.value, case.seconds, quality])
    done = subprocess.run(
        [sys.executable, __file__, "--preset", preset, "--one", spec],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _preset_rows() -> list[list[object]]:
    rows: list[list[object]] = []
    for preset in PRESETS:
        result = _run(PRESET_CASE, preset, quality=True)
        rows.append(
            [
                preset,
                f"{result['wall']:.2f}",
                f"{result['cpu']:.2f}",
                f"{result['bytes'] / 1e6:.2f}",
                f"{result['psnr']:.2f}",
                "default" if preset == DEFAULT_PRESET else "",
            ]
        )
        print(f"  done: preset {preset}", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default=DEFAULT_PRESET, help="x264 preset")
    parser.add_argument("--only", help="a resolution tier, e.g. 768P")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # a case, run in this process
    parser.add_argument("--ratio", action="store_true", help="only render + encode vs encode")
    args = parser.parse_args()
    if args.ratio:
        _print_ratio()
        return
    if args.one:
        mode, tier, seconds, quality = json.loads(args.one)
        case = Case(mode, Resolution(tier), seconds)
        print(json.dumps(render_one(case, args.preset, quality=quality)))
        return
    rows = []
    for case in cases():
        if args.only and case.resolution.value != args.only.upper():
            continue
        rows.append(_row(case, _run(case, args.preset)))
        print(f"  done: {case.mode} {case.resolution.value} {case.seconds} s", flush=True)
    preset_rows = [] if args.only else _preset_rows()
    print_table(
        f"Render + encode, x264 preset {args.preset} ({load_line()})",
        [
            "mode",
            "tier",
            "size",
            "s",
            "frames",
            "wall s",
            "first s",
            "cpu s",
            "fps",
            "peak MB",
            "MB out",
            "target",
        ],
        rows,
    )
    if preset_rows:
        print_table(
            f"x264 presets, {PRESET_CASE.mode} {PRESET_CASE.resolution.value} "
            f"{PRESET_CASE.seconds} s ({load_line()})",
            ["preset", "wall s", "cpu s", "MB out", "PSNR vs engine frames", ""],
            preset_rows,
        )
    if not args.only:
        _print_ratio()


def _print_ratio() -> None:
    print_table(
        f"6 s 768P first+last, zoom pair, x264 preset {DEFAULT_PRESET}: seconds, median of "
        f"{RATIO_RUNS} ({load_line()})",
        ["", "median s", "runs", "target"],
        render_encode_ratio(),
    )


if __name__ == "__main__":
    main()
