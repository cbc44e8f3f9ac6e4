"""A disk that fills up under a running server: reads go on, writes say storage is full,
nothing dies or floods the log, and everything resumes once there is space again.

The data dir lives on a small tmpfs the test mounts (as root; otherwise the test fails
under CI=true and is skipped loudly). The server runs no runner of its own: the test runs
the runner loop itself, on the same data dir, so that it can watch each wait the loop asks
for instead of sleeping through them.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conch.config import Settings
from conch.runner.worker import open_runner, run_until_stopped
from support.filesystems import fill, small_filesystem
from support.live import SERVER_ENV, LiveConch
from support.photos import data_url, encode, photo
from support.receiver import Receiver, Switchable, receiving

ENV = {
    **SERVER_ENV,
    "CONCH_WORKERS": "0",
    "CONCH_CALLBACK_RETRY_BASE": "0.2",
    "CONCH_CALLBACK_RETRY_MAX_DELAY": "0.5",
    "CONCH_CALLBACK_RETRY_WINDOW": "600",
    "CONCH_CALLBACK_TIMEOUT": "2",
}
DELIVERER_FAULT = "the deliverer failed; retrying with backoff"


class Waits(threading.Event):
    """A runner's stop signal that records each wait its loop asks for, without waiting,
    and is set once ``enough`` says the recorded waits are enough."""

    def __init__(self, enough: Callable[[list[float | None]], bool]) -> None:
        super().__init__()
        self.enough = enough
        self.asked: list[float | None] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.asked.append(timeout)
        if self.enough(self.asked) or len(self.asked) > 100:
            self.set()
        return self.is_set()


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    with small_filesystem(tmp_path / "disk", megabytes=24) as where:
        yield where


def body(callback_url: str | None = None) -> dict[str, Any]:
    request = {
        "model": "MiniMax-Hailuo-02",
        "first_frame_image": data_url(encode(photo("rocket"))),
        "resolution": "512P",
        "prompt": "a rocket on the pad [Push in]",
    }
    return {**request, "callback_url": callback_url} if callback_url else request


def run_runner(settings: Settings, enough: Callable[[list[float | None]], bool]) -> Waits:
    """The runner loop, in this process, until ``enough``; the waits it asked for."""
    waits = Waits(enough)
    runner = open_runner(settings, "test-runner", waits)
    try:
        run_until_stopped(runner)
    finally:
        runner.close()
        runner.store.engine.dispose()
    return waits


def until_idle(settings: Settings) -> Callable[[list[float | None]], bool]:
    """Enough once the loop waits for work: the queue is empty."""
    return lambda asked: asked[-1] == settings.poll_interval


def empty_the_wal(database: Path) -> None:
    """Checkpoint the database and truncate its WAL: from now on every write must grow the
    WAL, and so needs space, as once a WAL has been used up."""
    with contextlib.closing(sqlite3.connect(database, timeout=30)) as conn:
        while conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] != 0:
            time.sleep(0.05)  # a writer was busy: try again


def wait_for_log(server: LiveConch, pattern: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not re.search(pattern, server.log()):
        if time.monotonic() > deadline:
            raise AssertionError(f"no {pattern!r} in the log:\n{server.log()}")
        time.sleep(0.1)


def input_files(data_dir: Path) -> list[str]:
    inputs = data_dir / "media" / "inputs"
    return sorted(p.relative_to(inputs).as_posix() for p in inputs.rglob("*"))


def test_a_full_disk_keeps_reads_working_and_nothing_dies(disk: Path, tmp_path: Path) -> None:
    data = disk / "data"
    server = LiveConch(data, ENV)
    server.log_path = tmp_path / "server.log"  # off the small disk: the log must not fill
    settings = Settings(data_dir=data, lease_seconds=3)
    key = server.create_key()
    receiver_down = Switchable(503)
    with receiving() as receiver, server, server.client(key) as client:
        url = receiver.route("/hook", receiver_down)
        done = client.post("/v1/video_generation", json=body(url)).json()["task_id"]
        run_runner(settings, until_idle(settings))  # renders it; its pushes are refused
        receiver.wait_for_pushes("/hook", 2)
        queued = client.post("/v1/video_generation", json=body()).json()["task_id"]

        empty_the_wal(data / "conch.db")
        filler = fill(disk)
        full_since = time.monotonic()
        _reads_go_on(client, done, queued)
        _a_submit_says_storage_is_full(client, data)
        _the_runner_backs_off(settings)
        _the_deliverer_logs_its_fault_once(server, full_since)

        filler.unlink()
        receiver_down.push_status = 200
        _everything_resumes(server, client, receiver, settings, queued)


def _reads_go_on(client: httpx.Client, done: str, queued: str) -> None:
    finished = client.get("/v1/query/video_generation", params={"task_id": done}).json()
    assert finished["status"] == "Success", finished
    waiting = client.get("/v1/query/video_generation", params={"task_id": queued}).json()
    assert waiting["status"] == "Queueing", waiting
    retrieved = client.get("/v1/files/retrieve", params={"file_id": finished["file_id"]}).json()
    assert retrieved["base_resp"]["status_code"] == 0, retrieved
    video = httpx.get(retrieved["file"]["download_url"], timeout=30)
    assert video.status_code == 200 and len(video.content) == retrieved["file"]["bytes"]
    listed = client.get("/v1/tasks").json()
    assert {task["task_id"] for task in listed["tasks"]} >= {done, queued}, listed


def _a_submit_says_storage_is_full(client: httpx.Client, data: Path) -> None:
    before = input_files(data)
    refused = client.post("/v1/video_generation", json=body()).json()
    assert refused["base_resp"]["status_code"] == 1000, refused
    assert "storage is full" in refused["base_resp"]["status_msg"], refused
    assert input_files(data) == before  # no .partial file, no empty folder


def _the_runner_backs_off(settings: Settings) -> None:
    # Every claim of the queued task fails; the loop waits longer each time and never ends.
    waits = run_runner(settings, lambda asked: len(asked) == 5)
    assert waits.asked == [0.5, 1.0, 2.0, 4.0, 8.0]


def _the_deliverer_logs_its_fault_once(server: LiveConch, full_since: float) -> None:
    wait_for_log(server, re.escape(DELIVERER_FAULT))
    time.sleep(3.0)  # a dozen claims' worth at the old rate of one traceback each 0.25 s
    log = server.log()
    allowed = 1 + int((time.monotonic() - full_since) // 60)  # one line a minute
    errors = re.findall(r" conch\.delivery\.\S+ ERROR (.*)", log)
    assert errors[0] == DELIVERER_FAULT
    assert len(errors) <= allowed, errors


def _everything_resumes(
    server: LiveConch,
    client: httpx.Client,
    receiver: Receiver,
    settings: Settings,
    queued: str,
) -> None:
    run_runner(settings, until_idle(settings))
    finished = client.get("/v1/query/video_generation", params={"task_id": queued}).json()
    assert finished["status"] == "Success", finished
    accepted = client.post("/v1/video_generation", json=body()).json()
    assert accepted["base_resp"]["status_code"] == 0, accepted
    wait_for_log(server, "the deliverer works again")
    deadline = time.monotonic() + 60
    while not any(p.json["status"] == "success" for p in receiver.accepted("/hook")):
        assert time.monotonic() < deadline, receiver.pushes("/hook")
        time.sleep(0.1)
