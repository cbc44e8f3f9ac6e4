"""The one place a task runs, driven directly: progress, a stolen lease, a stop."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest

from conch.config import Settings
from conch.domain.request import GenerationRequest
from conch.domain.task import Task, TaskStatus
from conch.runner.execute import Runner, execute
from conch.runner.worker import open_runner, sweep
from conch.services import Services
from conch.store.tasks import Claim, TaskStore
from conch.submission import submit
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


def test_a_runner_that_lost_its_lease_writes_nothing(services: Services, runner: Runner) -> None:
    task = accept(services)
    stale = claim(runner)
    result: list[TaskStatus | None] = []
    render = threading.Thread(target=lambda: result.append(execute(stale, runner)))
    render.start()
    while services.tasks.get(task.owner_id, task.id).status is not TaskStatus.PROCESSING:
        time.sleep(0.01)
    # Another runner's sweeper finds the lease expired (its clock is ahead) and re-claims.
    ahead = TaskStore(services.db, clock=lambda: time.time() + 3600)
    assert ahead.sweep(max_attempts=3) == 1
    past_backoff = TaskStore(services.db, clock=lambda: time.time() + 7200)
    thief = past_backoff.claim("thief", lease_seconds=3600)
    assert thief is not None and thief.fence == stale.fence + 1
    render.join()
    assert result == [None]
    now = services.tasks.get(task.owner_id, task.id)
    assert (now.status, now.output) == (TaskStatus.PREPARING, None)  # still the thief's
    assert not any((services.settings.media_dir / "outputs").iterdir())
    assert not any((services.settings.media_dir / "staging").iterdir())


def test_stopping_releases_the_task(services: Services, runner: Runner) -> None:
    task = accept(services)
    held = claim(runner)
    threading.Timer(0.5, runner.stop.set).start()
    assert execute(held, runner) is None
    released = services.tasks.get(task.owner_id, task.id)
    assert (released.status, released.attempts, released.progress) == (TaskStatus.QUEUED, 0, 0.0)


def test_the_sweep_removes_videos_no_record_points_to(services: Services, runner: Runner) -> None:
    task = accept(services, resolution="768P")
    assert execute(claim(runner), runner) is TaskStatus.SUCCESS
    recorded = services.tasks.get(task.owner_id, task.id)
    assert recorded.output is not None
    kept = services.media.path(
        services.tasks.file(task.owner_id, recorded.output.file_id).storage_key
    )
    # A runner that died between publishing and recording left this behind.
    orphan = services.media.path(services.media.output_key(task.id, 99))
    orphan.write_bytes(b"not recorded")
    sweep(runner)
    assert kept.exists() and not orphan.exists()
