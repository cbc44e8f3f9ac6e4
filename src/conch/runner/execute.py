"""The one place a task runs: inputs -> engine -> encoder -> storage -> fenced finish.

Whoever claims a task (the embedded pool, a Celery worker) hands the claim to
:func:`execute`. What the caller did wrong ends the task ``fail`` at once; anything else
is conch's fault and is retried up to ``max_attempts``; a lost lease means another runner
owns the task now, so this one walks away without writing anything.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from conch import metrics
from conch.config import Settings
from conch.domain.catalog import frame_count, video_size
from conch.domain.errors import ConchError, ErrorCode, Internal
from conch.domain.request import ImageRole
from conch.domain.task import Task, TaskStatus
from conch.engines.base import Engine, EngineFailure, Frame, Job, soundtrack_of
from conch.engines.registry import DIFFUSION, load_engine
from conch.engines.relay import ClaimGone, RelayEngine
from conch.engines.relay.upstreams import RELAY
from conch.logs import task_context
from conch.media.images import decode_rgb, fit_frame
from conch.media.storage import MediaStore, output_key
from conch.media.video import DEFAULT_PRESET, encode_mp4
from conch.runner.lease import (
    HOLD_CHECK_INTERVAL,
    MONOTONIC,
    Clock,
    LeaseKeeper,
    LeaseLost,
    LeaseTerms,
    Stopping,
    StopSignal,
)
from conch.store.relay_calls import RelayCallStore
from conch.store.tasks import Claim, NewFile, TaskStore

log = logging.getLogger(__name__)

PROGRESS_INTERVAL = 0.5
"""Seconds between progress writes: often enough to watch, rare enough not to load the db."""


@dataclass
class Runner:
    """What a runner process holds: its stores and the engines it has loaded."""

    settings: Settings
    store: TaskStore
    media: MediaStore
    name: str
    stop: StopSignal = field(default_factory=threading.Event)
    exit_when_stuck: bool = False
    engines: dict[str, Engine] = field(default_factory=dict)
    clock: Clock = MONOTONIC
    """The clock its lease keepers read and wait on (a test passes one it moves itself)."""
    relay: RelayEngine | None = None
    _relay_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def lease_terms(self) -> LeaseTerms:
        settings = self.settings
        return LeaseTerms(settings.lease_seconds, settings.stall_seconds, self.exit_when_stuck)

    def engine_for(self, model: str) -> Engine:
        """The engine serving ``model``, loaded on first use and kept.

        One diffusion model at a time: its weights fill a GPU, so loading another preset
        first closes the one loaded before (switching presets reloads weights).
        """
        route = self.settings.route(model)
        key = route.model_dump_json()
        if key not in self.engines:
            if route.engine == DIFFUSION:
                self._close_engines(DIFFUSION)
            self.engines[key] = load_engine(route, self.settings)
        return self.engines[key]

    def relay_engine(self) -> RelayEngine:
        """The relay engine, made on first use; shared by the threads that run relays."""
        with self._relay_lock:
            if self.relay is None:
                calls = RelayCallStore(self.store.engine)
                self.relay = RelayEngine(self.settings, calls, self.media)
            return self.relay

    def _close_engines(self, name: str) -> None:
        for key, engine in list(self.engines.items()):
            if engine.name == name:
                engine.close()
                del self.engines[key]

    def close(self) -> None:
        for engine in self.engines.values():
            engine.close()
        self.engines.clear()
        if self.relay is not None:
            self.relay.close()
            self.relay = None


def execute(claim: Claim, runner: Runner) -> TaskStatus | None:
    """Run a claimed task to its end; its final status, or None if it was taken away.

    Its log lines carry the task's id and its submit's trace id; its time goes to the render
    (or relay) seconds metric, by outcome."""
    started = time.monotonic()
    outcome: TaskStatus | None = None
    engine = runner.settings.route(claim.task.model).engine
    with task_context(claim.task_id, claim.task.trace_id):
        try:
            outcome = _execute(claim, runner)
            return outcome
        finally:
            elapsed = time.monotonic() - started
            ended = outcome or "stopped"
            metrics.observe_run(engine, claim.task.model, ended, elapsed)
            log.info("task %s: %s after %.1f s on %s", claim.task_id, ended, elapsed, engine)


def _execute(claim: Claim, runner: Runner) -> TaskStatus | None:
    store, settings = runner.store, runner.settings
    staging = runner.media.staging_path(claim.task_id, claim.fence)
    try:
        with LeaseKeeper(
            store, claim, runner.lease_terms, runner.stop, clock=runner.clock
        ) as lease:
            if runner.settings.route(claim.task.model).engine == RELAY:
                return _relay(claim, runner, lease, staging)
            return _render(claim, runner, lease, staging)
    except (LeaseLost, Stopping, ClaimGone) as stopped:
        log.info("task %s stopped: %s", claim.task_id, stopped)
        if isinstance(stopped, Stopping):
            store.release(claim)
        return None
    except Internal as failed:  # conch's own trouble (a full disk): tried again later
        log.warning("task %s: %s", claim.task_id, failed.message())
        return store.retry_or_fail(
            claim, ErrorCode.INTERNAL.value, failed.message(), max_attempts=settings.max_attempts
        )
    except ConchError as refused:
        log.info("task %s failed: %s", claim.task_id, refused.message())
        return TaskStatus.FAIL if store.fail(claim, refused.code.value, refused.message()) else None
    except Exception as error:
        log.exception("task %s: internal error", claim.task_id)
        message = f"internal error while rendering: {type(error).__name__}: {error}"[:500]
        return store.retry_or_fail(
            claim, ErrorCode.INTERNAL.value, message, max_attempts=settings.max_attempts
        )
    finally:
        staging.unlink(missing_ok=True)


def _render(claim: Claim, runner: Runner, lease: LeaseKeeper, staging: Path) -> TaskStatus:
    task, store = claim.task, runner.store
    spec = task.spec
    job = build_job(task, runner.media)
    engine = runner.engine_for(spec.model)
    if not store.start_processing(claim):
        raise LeaseLost(f"task {task.id} was taken before it started")
    progress = _ProgressReporter(store, claim, lease)
    footage = engine.generate(job, progress)
    info = encode_mp4(
        _checked(footage, job, lease),
        staging,
        job.width,
        job.height,
        produce_id=task.task_id,
        fps=job.fps,
        watermark=spec.aigc_watermark,
        preset=runner.settings.encoder_preset or DEFAULT_PRESET,
        sound=lambda: soundtrack_of(footage),
    )
    lease.check()
    seconds = -(-info.frames // info.fps)  # a started second counts
    _publish(claim, runner, staging, info.width, info.height, info.audio_channels, seconds)
    return TaskStatus.SUCCESS


def _publish(
    claim: Claim,
    runner: Runner,
    staging: Path,
    width: int,
    height: int,
    audio_channels: int,
    seconds: int,
) -> None:
    """Publish the finished video under the claim's key and record the task's success."""
    key = output_key(claim.task_id, claim.fence)
    size = runner.media.publish(staging, key)
    record = None
    try:
        new = NewFile(key, size, width, height, audio_channels, seconds)
        record = runner.store.succeed(claim, new)
    finally:
        if record is None:  # not recorded: the winner (or a retry) publishes its own
            runner.media.delete(key)
    if record is None:
        raise LeaseLost(f"task {claim.task_id} was taken before it finished")


def _relay(claim: Claim, runner: Runner, lease: LeaseKeeper, staging: Path) -> TaskStatus:
    """An upstream makes the video (engines/relay); it is published like a render."""
    engine = runner.relay_engine()
    try:
        relayed = engine.relay(claim.task, claim.fence, _RelayHooks(runner, claim, lease), staging)
    except (LeaseLost, ClaimGone):
        _cancel_upstream_if_cancelled(runner, engine, claim.task_id)
        raise
    lease.check()
    header = relayed.header
    fps = round(header.fps) or 1
    seconds = -(-header.frames // fps)
    _publish(claim, runner, staging, header.width, header.height, header.audio_channels, seconds)
    engine.succeeded(relayed)
    return TaskStatus.SUCCESS


def _cancel_upstream_if_cancelled(runner: Runner, engine: RelayEngine, task_id: int) -> None:
    """A relayed task taken from its runner because it was cancelled is cancelled upstream
    too (engines/relay/cancel.py); one taken by another runner is left to it."""
    try:
        if runner.store.by_id(task_id).status is TaskStatus.CANCELLED:
            engine.cancelled(task_id)
    except Exception:  # the sweep sends the cancel instead
        log.exception("task %s: cancelling it upstream failed", task_id)


RELAY_HOLD_CHECK = 4 * HOLD_CHECK_INTERVAL
"""Seconds between a waiting relay's looks at its claim: hundreds of relays wait at once,
and each look is a query."""


class _RelayHooks:
    """What a relayed task is lent: waits that stop when the claim goes, and progress."""

    def __init__(self, runner: Runner, claim: Claim, lease: LeaseKeeper) -> None:
        self.runner, self.claim, self.lease = runner, claim, lease
        self.reporter = _ProgressReporter(runner.store, claim, lease)
        self.started = False

    def pause(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while True:
            self.lease.check()
            left = end - time.monotonic()
            if left <= 0:
                return
            self.runner.stop.wait(min(left, RELAY_HOLD_CHECK))

    def processing(self) -> None:
        if not self.started:
            self.started = True
            if not self.runner.store.start_processing(self.claim):
                raise LeaseLost(f"task {self.claim.task_id} was taken while relayed")

    def progress(self, fraction: float) -> None:
        self.reporter(fraction)


def build_job(task: Task, media: MediaStore) -> Job:
    """The engine's job: decoded input frames fitted to the output size."""
    spec = task.spec
    sizes = {role: (image.width, image.height) for role, image in task.inputs.items()}
    first_size, last_size = sizes.get(ImageRole.FIRST_FRAME), sizes.get(ImageRole.LAST_FRAME)
    width, height = video_size(spec.mode, spec.resolution, first_size, last_size, spec.ratio)
    images = {role: decode_rgb(media.read(image.key)) for role, image in task.inputs.items()}
    first = images.get(ImageRole.FIRST_FRAME)
    last = images.get(ImageRole.LAST_FRAME)
    fitted_first = fit_frame(first, width, height) if first is not None else None
    fitted_last = fit_frame(last, width, height) if last is not None else None
    return Job(
        mode=spec.mode,
        prompt=spec.prompt_text,
        camera_plan=spec.camera_plan,
        width=width,
        height=height,
        frame_count=frame_count(spec.duration),
        first_frame=fitted_first,
        last_frame=fitted_last,
        subject_image=images.get(ImageRole.SUBJECT),
        prompt_optimizer=spec.prompt_optimizer,
        seed=task.id & 0xFFFFFFFF,
    )


def _checked(frames: Iterator[Frame], job: Job, lease: LeaseKeeper) -> Iterator[np.ndarray]:
    """The engine's frames, checked against the job, stopping when the lease is gone."""
    count = 0
    for frame in frames:
        lease.check()
        count += 1
        if count > job.frame_count:
            raise EngineFailure(f"engine yielded more than {job.frame_count} frames")
        yield frame
    if count != job.frame_count:
        raise EngineFailure(f"engine yielded {count} frames, the job needs {job.frame_count}")


class _ProgressReporter:
    """The engine's progress callback: throttled writes, and the place a job is stopped."""

    def __init__(self, store: TaskStore, claim: Claim, lease: LeaseKeeper) -> None:
        self.store, self.claim, self.lease = store, claim, lease
        self.last_write = 0.0

    def __call__(self, fraction: float) -> None:
        self.lease.check()
        now = time.monotonic()
        if now - self.last_write >= PROGRESS_INTERVAL:
            self.last_write = now
            if not self.store.set_progress(self.claim, fraction):
                raise LeaseLost(f"task {self.claim.task_id} lost while reporting progress")
