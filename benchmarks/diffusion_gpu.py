"""Seconds per video, peak GPU memory and load time of the diffusion engine, per preset,
mode and size.

Renders a 6 s video (144 frames at 24 fps) in every mode each preset offers, through the
real engine (``DiffusionEngine``), with the given frames fitted to the output as the runner
fits them, and prints one row per run: preset, mode, size, the shape the model renders
(width x height x frames, and "x2" when LTX's upsampler doubles it), steps, seconds, and
peak memory on the engine's GPU (``torch.cuda.max_memory_allocated``). Load time is
printed once per preset. Subject reference renders as image to video does, so it is left
out. On a machine without a CUDA GPU it says so and exits 0.

Real weights (the default): every ``--route PRESET=WEIGHTS_DIR`` given, else every diffusion
route in the configuration (``conch.toml`` / ``CONCH_MODELS``), else every preset whose
weights are in the local model cache; options from the route or ``--option key=value``.

``--random-weights``: MiniMax-H3 and LTX-2 built at full size from their configs with
random weights (``conch.engines.diffusion.blueprints``): nothing is downloaded, for a GPU
machine without internet. A video from random weights is noise, but its speed and memory
are the real model's. Load time is then the time to build the models on the GPU and place
them. Each preset runs in the first setup (bf16; bf16 with the text encoder offloaded; fp8
transformer with it offloaded) whose weights and estimated activations fit the GPU, and the
sizes that fit; what is skipped is printed, with why. ``--steps`` denoising steps (2) are
run and the preset's own schedule is extrapolated from the time a step took; a time budget
(``--budget``, 7 minutes) skips what would run past it. ``--dry-run`` needs no GPU: it counts
parameters on the meta device and prints each setup's memory, what fits ``--gpu-gib``
(139), and the shape each mode renders, allocating nothing.

    .venv/bin/python benchmarks/diffusion_gpu.py --route ltx-video=/models/LTX-Video-0.9.7-distilled
    .venv/bin/python benchmarks/diffusion_gpu.py --random-weights
    .venv/bin/python benchmarks/diffusion_gpu.py --random-weights --dry-run --gpu-gib 80
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import photo
from conch.config import ModelRoute, Settings
from conch.domain.camera import parse_prompt
from conch.domain.catalog import FPS, Mode, Resolution, output_size
from conch.engines.base import Job
from conch.engines.diffusion.presets import PRESETS, validate_route
from conch.engines.diffusion.renderer import RenderRequest
from conch.media.images import fit_frame

PROMPT = "A lighthouse on a rocky coast at dusk, waves breaking below [Push in], then [Pan left]"
MODES = (Mode.TEXT, Mode.IMAGE, Mode.FIRST_LAST)
"""Subject reference renders as image to video: it is not measured apart."""

GIB = 2**30
ACTIVATION_PER_TOKEN = 128 * 2**10
"""Estimated peak activation bytes per transformer token (hidden states, attention's q, k,
v and output, the feed-forward's inner width, in bf16), to be corrected by measurement."""
ACTIVATION_FIXED = 8 * GIB
"""Estimated bytes beside the transformer's: VAE decoding in tiles, the CUDA context, the
allocator's slack."""
BUILD_SLACK = 4 * GIB
"""Room left free while every model is made on the GPU (it is faster than in CPU memory)."""


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if args.random_weights and args.dry_run:
        return _dry_run(args)
    if not _has_gpu():
        print("diffusion_gpu: no CUDA GPU on this machine (or torch is not installed); skipping.")
        return 0
    if args.random_weights:
        return _random_weights(args)
    return _real_weights(args)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--route", action="append", default=[], metavar="PRESET=WEIGHTS_DIR")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--resolution", action="append", default=[], help="768P unless given")
    parser.add_argument("--duration", type=int, default=6)
    parser.add_argument("--runs", type=int, default=1, help="renders per preset and mode")
    parser.add_argument("--random-weights", action="store_true", help="H3 and LTX-2, full size")
    parser.add_argument("--preset", action="append", default=[], help="with --random-weights")
    parser.add_argument("--steps", type=int, default=2, help="with --random-weights")
    parser.add_argument("--budget", type=float, default=420, help="seconds, --random-weights")
    parser.add_argument("--dry-run", action="store_true", help="with --random-weights: no GPU")
    parser.add_argument("--gpu-gib", type=float, default=None, help="GPU memory, for --dry-run")
    return parser.parse_args(argv)


def _has_gpu() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def _resolutions(args: argparse.Namespace) -> list[Resolution]:
    return [Resolution.parse(text) for text in args.resolution or ["768P"]]


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


def _shape(plan: RenderRequest) -> str:
    shape = f"{plan.width}x{plan.height}x{plan.frame_count}"
    return shape + (" x2" if plan.upscale > 1 else "")


# --- real weights ---------------------------------------------------------------------------


def _real_weights(args: argparse.Namespace) -> int:
    routes = list(_routes(args))
    if not routes:
        print("diffusion_gpu: no diffusion weights configured or cached; nothing to measure.")
        return 0
    print(f"{args.duration} s videos, real weights")
    header = ("preset", "mode", "size", "render shape", "seconds", "peak GiB")
    print("{:<18} {:<18} {:<6} {:<18} {:>8} {:>9}".format(*header))
    for route in routes:
        _bench_route(route, _resolutions(args), args)
    return 0


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


def _bench_route(
    route: ModelRoute, resolutions: list[Resolution], args: argparse.Namespace
) -> None:
    from conch.engines.diffusion import DiffusionEngine

    started = time.perf_counter()
    engine = DiffusionEngine(route, Settings())
    name = engine.preset.name
    print(f"{name:<18} {'(load)':<18} {'':<6} {'':<18} {time.perf_counter() - started:8.1f}")
    try:
        for mode in (m for m in MODES if m in engine.preset.modes):
            for resolution in resolutions:
                for run in range(args.runs):
                    job = _job(mode, resolution, args.duration, seed=run)
                    measured = _measure(engine, job)
                    print(
                        f"{name:<18} {mode:<18} {resolution:<6} {_shape(engine.plan(job)):<18} "
                        f"{measured.seconds:8.1f} {measured.peak_gib:9.2f}"
                    )
    finally:
        engine.close()


@dataclass(frozen=True)
class Measured:
    """One render: its seconds, the seconds a denoising step took, its peak GPU memory."""

    seconds: float
    step_seconds: float
    peak_gib: float


def _measure(engine: Any, job: Job) -> Measured:
    """Render ``job`` and measure it; a step's time is the mean between step reports."""
    import torch

    device = engine.renderer.device
    torch.cuda.reset_peak_memory_stats(device)
    steps: list[float] = []
    started = time.perf_counter()

    def progress(fraction: float) -> None:
        if fraction <= 0.95:
            steps.append(time.perf_counter())

    count = sum(1 for _ in engine.generate(job, progress))
    torch.cuda.synchronize(device)
    seconds = time.perf_counter() - started
    assert count == job.frame_count
    gaps = [b - a for a, b in itertools.pairwise(steps)] or [steps[0] - started]
    return Measured(seconds, sum(gaps) / len(gaps), torch.cuda.max_memory_allocated(device) / GIB)


# --- random weights at full size -------------------------------------------------------------

RANDOM_PRESETS = ("minimax-h3", "ltx-2")


def _tokens_h3(plan: RenderRequest) -> int:
    """Rows of MiniMax-H3's packed sequence: 5 latent frames per 17 frames (2 more), one row
    per 32x32 pixels, and two channels of 40 audio latents a second."""
    latent_frames = (plan.frame_count - 5) // 17 * 5 + 2
    return latent_frames * (plan.width // 32) * (plan.height // 32) + 2 * round(
        plan.frame_count * 40 / 24
    )


def _tokens_ltx2(plan: RenderRequest) -> int:
    """LTX-2's video tokens (one per 32x32 pixels of every 8 frames), twice for guidance."""
    latent_frames = (plan.frame_count - 1) // 8 + 1
    return 2 * latent_frames * (plan.width // 32) * (plan.height // 32)


TOKENS: dict[str, Callable[[RenderRequest], int]] = {
    "minimax-h3": _tokens_h3,
    "ltx-2": _tokens_ltx2,
}


def _activation_bytes(preset: str, plan: RenderRequest) -> int:
    return ACTIVATION_FIXED + TOKENS[preset](plan) * ACTIVATION_PER_TOKEN


@dataclass(frozen=True)
class Choice:
    """What runs of one preset on this GPU: a setup, and the sizes that fit with it."""

    setup: Any
    resident: int
    sizes: list[Resolution]
    build_on_gpu: bool
    """Whether every model fits the GPU at once in bf16 while being built (else an
    offloaded text encoder is made in CPU memory, which is slower)."""


def _choose(preset: str, capacity: int, plans: dict[Resolution, RenderRequest]) -> Choice | None:
    """The first setup whose weights and the smallest size's activations fit ``capacity``,
    with the sizes that fit; the others are printed as skipped, with why."""
    from conch.engines.diffusion.blueprints import SETUPS

    smallest = min(plans, key=lambda r: r.short_side)
    whole = SETUPS[0].resident_bytes(preset) + BUILD_SLACK
    for setup in SETUPS:
        resident = setup.resident_bytes(preset)
        need = resident + _activation_bytes(preset, plans[smallest])
        if need <= capacity:
            sizes = _sizes_that_fit(preset, resident, capacity, plans)
            return Choice(setup, resident, sizes, build_on_gpu=whole <= capacity)
        _skip(preset, f"setup '{setup.name}': needs {_gib(need)} of {_gib(capacity)}")
    return None


def _sizes_that_fit(
    preset: str, resident: int, capacity: int, plans: dict[Resolution, RenderRequest]
) -> list[Resolution]:
    sizes = []
    for size, plan in plans.items():
        need = resident + _activation_bytes(preset, plan)
        if need <= capacity:
            sizes.append(size)
        else:
            _skip(preset, f"{size}: needs {_gib(need)} of {_gib(capacity)}")
    return sizes


def _skip(preset: str, why: str) -> None:
    print(f"skipped {preset}: {why}")


def _gib(size: float) -> str:
    return f"{size / GIB:.1f} GiB"


def _plans(
    preset: str, pipeline: Any, resolutions: list[Resolution], duration: int
) -> dict[Resolution, RenderRequest]:
    """What a text job renders at each size, from the pipeline's grid."""
    engine = _planner(preset, pipeline)
    return {r: engine.plan(_job(Mode.TEXT, r, duration, seed=0)) for r in resolutions}


class _Planner:
    """A renderer that only plans: the grid of a pipeline built on the meta device."""

    upscale = 1

    def __init__(self, grid: Any) -> None:
        self.grid = grid

    def step_count(self, _request: RenderRequest) -> int:
        return 0

    def render(self, _request: RenderRequest, _progress: Any) -> Any:
        raise RuntimeError("a planner renders nothing")

    def close(self) -> None:
        """Nothing to free."""


def _planner(preset: str, pipeline: Any) -> Any:
    from conch.engines.diffusion import DiffusionEngine
    from conch.engines.diffusion.blueprints import BLUEPRINTS

    route = ModelRoute(engine="diffusion", preset=preset)
    return DiffusionEngine.over(route, _Planner(BLUEPRINTS[preset].grid(pipeline)))  # type: ignore[arg-type]


def _dry_run(args: argparse.Namespace) -> int:
    """The memory arithmetic and the choices, from parameter counts, allocating nothing."""
    import torch

    from conch.engines.diffusion.blueprints import SETUPS, build, parameter_counts

    capacity = int((args.gpu_gib or _gpu_gib() or 139) * GIB)
    print(f"dry run: full-size models on the meta device, for a GPU of {_gib(capacity)}")
    for preset in args.preset or RANDOM_PRESETS:
        counts = parameter_counts(preset)
        parts = ", ".join(f"{name} {count / 1e9:.2f}B" for name, count in counts.items())
        print(f"{preset}: {sum(counts.values()) / 1e9:.1f}B parameters ({parts})")
        for setup in SETUPS:
            print(f"  {setup.name}: {_gib(setup.resident_bytes(preset))} of weights on the GPU")
        plans = _plans(
            preset, build(preset, "meta", torch.bfloat16), _resolutions(args), args.duration
        )
        for resolution, plan in plans.items():
            print(
                f"  {resolution}: renders {_shape(plan)}, about "
                f"{_gib(_activation_bytes(preset, plan))} of activations"
            )
        choice = _choose(preset, capacity, plans)
        if choice is not None:
            print(f"  would run: {choice.setup.name}, at {', '.join(choice.sizes)}")
    return 0


def _gpu_gib() -> float | None:
    import torch

    if not torch.cuda.is_available():
        return None
    return float(torch.cuda.mem_get_info()[1] / GIB)


def _random_weights(args: argparse.Namespace) -> int:
    import torch

    from conch.engines.diffusion.blueprints import build

    deadline = time.perf_counter() + args.budget
    capacity = torch.cuda.mem_get_info()[1]
    print(f"{args.duration} s videos, full-size models with random weights, {args.steps} steps;")
    print(f"GPU: {torch.cuda.get_device_name()}, {_gib(capacity)}")
    print(
        f"{'preset':<11} {'mode':<17} {'size':<5} {'render shape':<15} {'steps':>5} "
        f"{'seconds':>8} {'s/step':>7} {'full':>8} {'peak GiB':>9}"
    )
    for preset in args.preset or RANDOM_PRESETS:
        plans = _plans(
            preset, build(preset, "meta", torch.bfloat16), _resolutions(args), args.duration
        )
        choice = _choose(preset, capacity, plans)
        if choice is None:
            continue
        if time.perf_counter() > deadline:
            _skip(preset, f"the time budget of {args.budget:.0f} s is spent")
            continue
        _bench_random(preset, choice, args, deadline)
    return 0


def _bench_random(preset: str, choice: Choice, args: argparse.Namespace, deadline: float) -> None:
    import torch

    from conch.engines.diffusion import DiffusionEngine
    from conch.engines.diffusion.blueprints import build, renderer_over
    from conch.engines.diffusion.runtime import release

    options = {**choice.setup.options, "steps": args.steps, "device": "cuda"}
    # An offloaded text encoder is made where it will live when the GPU cannot hold every
    # model at once; else on the GPU (far faster) and then moved.
    offloaded = options.get("text_encoder_offload") and not choice.build_on_gpu
    aside = {"text_encoder": "cpu"} if offloaded else {}
    started = time.perf_counter()
    renderer = renderer_over(preset, options, build(preset, "cuda", torch.bfloat16, **aside))
    engine = DiffusionEngine.over(
        ModelRoute(engine="diffusion", preset=preset, options=options), renderer
    )
    torch.cuda.synchronize()
    loaded = time.perf_counter() - started
    print(
        f"{preset}: {choice.setup.name}; built and placed in {loaded:.1f} s, "
        f"{_gib(choice.resident)} of weights"
    )
    try:
        _bench_modes(engine, choice, args, deadline)
    finally:
        engine.close()
        del renderer
        release()


def _bench_modes(engine: Any, choice: Choice, args: argparse.Namespace, deadline: float) -> None:
    preset = engine.preset
    last = 0.0
    for mode in MODES:
        for resolution in choice.sizes:
            if time.perf_counter() + last > deadline:
                _skip(preset.name, f"{mode} at {resolution}: would run past the time budget")
                continue
            job = _job(mode, resolution, args.duration, seed=0)
            measured = _measure(engine, job)
            last = measured.seconds
            full = measured.seconds + (_preset_steps(preset) - args.steps) * measured.step_seconds
            print(
                f"{preset.name:<11} {mode:<17} {resolution:<5} {_shape(engine.plan(job)):<15} "
                f"{args.steps:>5} {measured.seconds:8.1f} {measured.step_seconds:7.2f} "
                f"{full:8.1f} {measured.peak_gib:9.2f}"
            )
    print(f"  full: seconds extrapolated to the preset's {_preset_steps(preset)} steps")


def _preset_steps(preset: Any) -> int:
    schedule = preset.schedule
    return len(schedule) if isinstance(schedule, tuple) else int(schedule)


if __name__ == "__main__":
    sys.exit(main())
