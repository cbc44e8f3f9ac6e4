"""The one place a task runs, driven directly: progress, a stolen lease, a stop.

What happens mid-render (a stop, a stolen lease) is made to happen by the render itself,
after a given frame, so it lands mid-render however fast or slow the machine is.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from conch import cancellation
from conch.config import Settings
from conch.domain.errors import NotFound
from conch.domain.request import GenerationRequest
from conch.domain.task import Task, TaskStatus
from conch.engines.base import Engine, Frame, Job, ProgressFn
from conch.media.storage import output_key
from conch.runner.execute import Runner, execute
from conch.runner.lease import HOLD_CHECK_INTERVAL
from conch.runner.worker import open_runner, sweep
from conch.services import Services
from conch.store.tasks import Claim, TaskStore
from conch.submission import submit
from support.clock import ManualClock
from support.photos import data_url, encode, photo


@pytest.fixture
def services(tmp_path: Path) -> Services:
    return Services.open(Settings(data_dir=tmp_path, lease_seconds=1.5))


@pytest.fixture
def runner(services: Services) -> Runner:
    return open_runner(services.settings, "test-runner")


def accept(services: Services, resolution: str = "1080P") -> Task:
    owner, _ = services.keys.create("owner")
    request = GenerationRequest(
        "MiniMax-Hailuo-02",
        prompt="[Pan right] a rocket",
        first_frame_image=data_url(encode(photo("rocket"))),
        last_frame_image=data_url(encode(photo("coffee"))),
        resolution=resolution,
    )
    return asyncio.run(submit(services, owner, request, dialect="minimax"))


def claim(runner: Runner) -> Claim:
    found = runner.store.claim(runner.name, runner.settings.lease_seconds)
    assert found is not None
    return found


class Interrupted:
    """The runner's real engine, calling ``interruption`` from inside the render once it has
    handed out ``after`` frames; ``frames`` counts the frames it handed out."""

    name: ClassVar[str] = "interrupted"

    def __init__(self, inner: Engine, after: int, interruption: Callable[[], None]) -> None:
        self.inner, self.after, self.interruption = inner, after, interruption
        self.frames = 0

    def generate(self, job: Job, progress: ProgressFn) -> Iterator[Frame]:
        for frame in self.inner.generate(job, progress):
            self.frames += 1
            yield frame
            if self.frames == self.after:
                self.interruption()

    def close(self) -> None:
        self.inner.close()


def interrupt(
    runner: Runner, monkeypatch: pytest.MonkeyPatch, after: int, interruption: Callable[[], None]
) -> Interrupted:
    """Have ``runner`` render with its real engine, interrupted after ``after`` frames."""
    engine = Interrupted(runner.engine_for("MiniMax-Hailuo-02"), after, interruption)
    monkeypatch.setattr(runner, "engine_for", lambda _model: engine)
    return engine


def watch(store: TaskStore, task: Task, seen: list[float], done: threading.Event) -> None:
    while not done.is_set():
        seen.append(store.get(task.owner_id, task.id).progress)
        time.sleep(0.02)


def test_progress_reaches_the_task_while_it_renders(services: Services, runner: Runner) -> None:
    task = accept(services)
    seen: list[float] = []
    done = threading.Event()
    watcher = threading.Thread(target=watch, args=(services.tasks, task, seen, done))
    watcher.start()
    try:
        assert execute(claim(runner), runner) is TaskStatus.SUCCESS
    finally:
        done.set()
        watcher.join()
    assert any(0 < fraction < 1 for fraction in seen), seen
    assert seen == sorted(seen)  # progress only goes forward
    finished = services.tasks.get(task.owner_id, task.id)
    assert finished.progress == 1.0 and finished.output is not None


def test_a_runner_that_lost_its_lease_writes_nothing(
    services: Services, runner: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = accept(services)
    stale = claim(runner)
    seen: list[TaskStatus] = []
    swept: list[int] = []
    thieves: list[Claim | None] = []

    def steal() -> None:  # runs inside the render: nothing here may raise into it
        seen.append(services.tasks.get(task.owner_id, task.id).status)
        # Another runner's sweeper finds the lease expired (its clock is ahead) and re-claims.
        ahead = TaskStore(services.db, clock=lambda: time.time() + 3600)
        swept.append(ahead.sweep(max_attempts=3))
        past_backoff = TaskStore(services.db, clock=lambda: time.time() + 7200)
        thieves.append(past_backoff.claim("thief", lease_seconds=3600))

    interrupt(runner, monkeypatch, after=3, interruption=steal)
    assert execute(stale, runner) is None
    assert (seen, swept) == ([TaskStatus.PROCESSING], [1])  # stolen mid-render
    [thief] = thieves
    assert thief is not None and thief.fence == stale.fence + 1
    now = services.tasks.get(task.owner_id, task.id)
    assert (now.status, now.output) == (TaskStatus.PREPARING, None)  # still the thief's
    assert not any((services.settings.media_dir / "outputs").iterdir())
    assert not any((services.settings.media_dir / "staging").iterdir())


def test_stopping_releases_the_task(
    services: Services, runner: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = accept(services)
    held = claim(runner)
    engine = interrupt(runner, monkeypatch, after=3, interruption=runner.stop.set)
    assert execute(held, runner) is None
    assert engine.frames == 3  # the render stopped at its next check, not at its end
    released = services.tasks.get(task.owner_id, task.id)
    assert (released.status, released.attempts, released.progress) == (TaskStatus.QUEUED, 0, 0.0)


def test_the_sweep_removes_videos_no_record_points_to(services: Services, runner: Runner) -> None:
    task = accept(services, resolution="768P")
    assert execute(claim(runner), runner) is TaskStatus.SUCCESS
    recorded = services.tasks.get(task.owner_id, task.id)
    assert recorded.output is not None
    kept = services.tasks.file(task.owner_id, recorded.output.file_id)
    # A runner that died between publishing and recording left this behind.
    orphan = output_key(task.id, 99)
    services.media.write(orphan, b"not recorded")
    sweep(runner)
    assert services.media.stat(kept.storage_key).size == kept.bytes
    with pytest.raises(NotFound):
        services.media.stat(orphan)


def test_a_cancelled_render_stops_at_its_next_check(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A lease far longer than the test: only the check for the claim can stop the render.
    clock = ManualClock()
    settings = services.settings.model_copy(update={"lease_seconds": 600.0})
    runner = open_runner(settings, "test-runner")
    runner.clock = clock
    task = accept(services)
    held = claim(runner)

    def cancel_it() -> None:  # the owner cancels mid-render; half a second passes
        cancellation.cancel(services, task.owner_id, task.task_id)
        clock.advance(HOLD_CHECK_INTERVAL)

    engine = interrupt(runner, monkeypatch, after=3, interruption=cancel_it)
    assert execute(held, runner) is None
    assert engine.frames == 3  # it stopped at the next frame, not at its last (144)
    cancelled = services.tasks.get(task.owner_id, task.id)
    assert (cancelled.status, cancelled.output) == (TaskStatus.CANCELLED, None)
    assert not services.media.staging_path(task.id, held.fence).exists()
    for key in [output_key(task.id, held.fence), *(image.key for image in task.inputs.values())]:
        with pytest.raises(NotFound):
            services.media.stat(key)
