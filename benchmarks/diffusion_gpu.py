"""Seconds per video and peak GPU memory of the diffusion engine, per preset and mode.

Renders a 6 s 768P video (1366x768, 144 frames at 24 fps) in every mode each preset
offers, through the real engine (``DiffusionEngine``), with the given frames fitted to the
output as the runner fits them, and prints one row per run: preset, mode, the shape the
model renders (width x height x frames, and "x2" when LTX's upsampler doubles it), seconds,
and peak memory on the engine's GPU (``torch.cuda.max_memory_allocated``). Loading time
is reported once per preset. On a machine without a CUDA GPU it says so and exits 0.

Which presets: every ``--route PRESET=WEIGHTS_DIR`` given, else every diffusion route in
the configuration (``conch.toml`` / ``CONCH_MODELS``), else every preset whose weights are
in the local model cache. Options (dtype, offload, ...) come from the configured route or
from ``--option key=value``.

    .venv/bin/python benchmarks/diffusion_gpu.py --route ltx-video=/models/LTX-Video-0.9.7-distilled
    .venv/bin/python benchmarks/diffusion_gpu.py --resolution 1080P --option cpu_offload=true
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from _common import photo
from conch.config import ModelRoute, Settings
from conch.domain.camera import parse_prompt
from conch.domain.catalog import FPS, Mode, Resolution, output_size
from conch.engines.base import Job
from conch.engines.diffusion.presets import PRESETS, validate_route
from conch.media.images import fit_frame

PROMPT = "A lighthouse on a rocky coast at dusk, waves breaking below [Push in], then [Pan left]"


def main() -> int:
    args = _arguments()
    if not _has_gpu():
        print("diffusion_gpu: no CUDA GPU on this machine (or torch is not installed); skipping.")
        return 0
    routes = list(_routes(args))
    if not routes:
        print("diffusion_gpu: no diffusion weights configured or cached; nothing to measure.")
        return 0
    resolution = Resolution.parse(args.resolution)
    print(f"{resolution}, {args.duration} s videos")
    print(f"{'preset':<18} {'mode':<18} {'render shape':<18} {'seconds':>8} {'peak GiB':>9}")
    for route in routes:
        _bench_route(route, resolution, args.duration, args.runs)
    return 0


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--route", action="append", default=[], metavar="PRESET=WEIGHTS_DIR")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--resolution", default="768P")
    parser.add_argument("--duration", type=int, default=6)
    parser.add_argument("--runs", type=int, default=1, help="renders per preset and mode")
    return parser.parse_args()


def _has_gpu() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def _routes(args: argparse.Namespace) -> Iterator[ModelRoute]:
    """The routes to measure, each once, with the command line's options on top."""
    extra = dict(_option(text) for text in args.option)
    if args.route:
        candidates = [_named_route(text) for text in args.route]
    else:
        configured = [r for r in Settings().models.values() if r.engine == "diffusion"]
        candidates = configured or [ModelRoute(engine="diffusion", preset=p) for p in PRESETS]
    seen: set[str] = set()
    for route in candidates:
        route = route.model_copy(update={"options": {**route.options, **extra}})
        key = route.model_dump_json()
        if key in seen:
            continue
        seen.add(key)
        try:
            validate_route(route)
        except ValueError as refused:
            print(f"skipping: {refused}")
            continue
        yield route


def _named_route(text: str) -> ModelRoute:
    preset, _, weights = text.partition("=")
    return ModelRoute(engine="diffusion", preset=preset, weights=Path(weights) if weights else None)


def _option(text: str) -> tuple[str, Any]:
    key, _, raw = text.partition("=")
    try:
        return key, json.loads(raw)
    except json.JSONDecodeError:
        return key, raw


def _bench_route(route: ModelRoute, resolution: Resolution, duration: int, runs: int) -> None:
    import torch

    from conch.engines.diffusion import DiffusionEngine

    started = time.perf_counter()
    engine = DiffusionEngine(route, Settings())
    name = engine.preset.name
    print(f"{name:<18} {'(load)':<18} {'':<18} {time.perf_counter() - started:8.1f}")
    device = engine.renderer.device
    on_gpu = device.type == "cuda"
    try:
        for mode in sorted(engine.preset.modes):
            for run in range(runs):
                job = _job(mode, resolution, duration, seed=run)
                plan = engine.plan(job)
                shape = f"{plan.width}x{plan.height}x{plan.frame_count}"
                shape += " x2" if plan.upscale > 1 else ""
                if on_gpu:
                    torch.cuda.reset_peak_memory_stats(device)
                started = time.perf_counter()
                count = sum(1 for _ in engine.generate(job, lambda _: None))
                seconds = time.perf_counter() - started
                peak = f"{torch.cuda.max_memory_allocated(device) / 2**30:9.2f}" if on_gpu else ""
                assert count == job.frame_count
                print(f"{name:<18} {mode:<18} {shape:<18} {seconds:8.1f} {peak:>9}")
    finally:
        engine.close()


def _job(mode: Mode, resolution: Resolution, duration: int, seed: int) -> Job:
    width, height = output_size(resolution, 16, 9)
    parsed = parse_prompt(PROMPT)
    first = last = subject = None
    if mode in (Mode.IMAGE, Mode.FIRST_LAST):
        first = fit_frame(photo("astronaut"), width, height)
    if mode is Mode.FIRST_LAST:
        last = fit_frame(photo("coffee"), width, height)
    if mode is Mode.SUBJECT:
        subject = photo("astronaut")
    return Job(
        mode=mode,
        prompt=parsed.text,
        camera_plan=parsed.plan,
        width=width,
        height=height,
        frame_count=duration * FPS,
        first_frame=first,
        last_frame=last,
        subject_image=subject,
        seed=seed,
    )


if __name__ == "__main__":
    sys.exit(main())
