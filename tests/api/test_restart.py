"""kill -9 of the whole server while tasks are queued and running, then a restart: every
accepted task finishes, and none is run to completion twice."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import func, select

from conch.domain.task import TaskStatus
from conch.store.tables import files as files_table
from support.files_http import FileServer
from support.live import SERVER_ENV, LiveConch, owner_id, task_store, wait_for_task

TASKS = 5


def test_kill_9_and_restart_finishes_every_task_exactly_once(
    tmp_path: Path, files: FileServer
) -> None:
    env = {**SERVER_ENV, "CONCH_WORKERS": "2", "CONCH_LEASE_SECONDS": "2"}
    server = LiveConch(tmp_path / "data", env)
    key = server.create_key()
    # 512P from one frame: the cheapest render, for what this test is about is the restart
    body = {
        "model": "MiniMax-Hailuo-02",
        "first_frame_image": files.base_url + "/clip/first.jpg",
        "prompt": "[Truck left] a meadow",
        "resolution": "512P",
    }
    with server, server.client(key) as client:
        ids = [
            client.post("/v1/video_generation", json=body).json()["task_id"] for _ in range(TASKS)
        ]
        assert all(i.isdigit() for i in ids)
        statuses = _wait_until_some_task_runs(server.data_dir, key)
        server.kill9()
    assert TaskStatus.QUEUED.value in statuses, statuses  # killed with work still queued

    with server, server.client(key) as client:
        for task_id in ids:
            done = wait_for_task(client, task_id, timeout=240)
            assert done["status"] == "Success", (done, server.log())
        _wait_until_no_staging_files(server.data_dir)  # the killed renders' leftovers

    store = task_store(server.data_dir)
    tasks, total = store.list(owner_id(server.data_dir, key))
    assert total == TASKS
    with store.engine.begin() as conn:
        per_task = conn.execute(
            select(files_table.c.task_id, func.count()).group_by(files_table.c.task_id)
        ).all()
    assert sorted(count for _, count in per_task) == [1] * TASKS
    outputs = list((server.data_dir / "media" / "outputs").glob("*.mp4"))
    assert len(outputs) == TASKS, outputs  # no second render was published
    assert any(task.attempts > 1 for task in tasks)  # some task was running at the kill


def _wait_until_some_task_runs(data_dir: Path, key: str, timeout: float = 60.0) -> list[str]:
    store = task_store(data_dir)
    owner = owner_id(data_dir, key)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        statuses = [task.status.value for task in store.list(owner)[0]]
        if TaskStatus.PROCESSING.value in statuses:
            time.sleep(0.3)  # let the render get properly under way
            return statuses
        time.sleep(0.05)
    raise AssertionError("no task started processing")


def _wait_until_no_staging_files(data_dir: Path, timeout: float = 10.0) -> None:
    staging = data_dir / "media" / "staging"
    deadline = time.monotonic() + timeout
    while any(staging.iterdir()):
        assert time.monotonic() < deadline, list(staging.iterdir())
        time.sleep(0.2)
