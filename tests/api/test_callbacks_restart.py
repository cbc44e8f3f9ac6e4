"""kill -9 of the whole server while pushes are being retried and a task is rendering, then
a restart: every push still arrives, each task's in order."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from conch.domain.task import TaskStatus
from conch.store.outbox import Outbox
from conch.store.pushes import DeliveryState
from support.live import SERVER_ENV, LiveConch, owner_id, task_store, wait_for_task
from support.photos import data_url, encode, photo
from support.receiver import Receiver, Switchable, receiving

ENV = {
    **SERVER_ENV,
    "CONCH_WORKERS": "1",
    "CONCH_LEASE_SECONDS": "2",
    "CONCH_CALLBACK_RETRY_BASE": "0.2",
    "CONCH_CALLBACK_RETRY_MAX_DELAY": "0.5",
    "CONCH_CALLBACK_RETRY_WINDOW": "300",
    "CONCH_CALLBACK_TIMEOUT": "1",
}


def render(resolution: str, callback_url: str) -> dict[str, Any]:
    return {
        "model": "MiniMax-Hailuo-02",
        "first_frame_image": data_url(encode(photo("rocket"))),
        "resolution": resolution,
        "prompt": "a rocket on the pad [Pull out]",
        "callback_url": callback_url,
    }


def test_kill_9_in_the_middle_of_deliveries_loses_no_push(tmp_path: Path) -> None:
    receiver_down = Switchable(503)
    with receiving() as receiver:
        url = receiver.route("/hook", receiver_down)
        server = LiveConch(tmp_path / "data", ENV)
        key = server.create_key()
        with server, server.client(key) as client:
            first = client.post("/v1/video_generation", json=render("512P", url)).json()
            second = client.post("/v1/video_generation", json=render("768P", url)).json()
            ids = [first["task_id"], second["task_id"]]
            _wait_for_retries_and_a_render(server.data_dir, key, receiver)
            server.kill9()
        pending = _pending_pushes(server.data_dir, key)
        assert len(pending) >= 2, pending  # the first task's two, at least, wait in the outbox

        receiver_down.push_status = 200
        with server, server.client(key) as client:
            for task_id in ids:
                assert wait_for_task(client, task_id, timeout=120)["status"] == "Success"
            receiver.wait_for_pushes("/hook", 1)
            _wait_until_accepted(receiver, ids)
            for task_id in ids:
                deliveries = client.get(f"/v1/tasks/{task_id}/deliveries").json()["deliveries"]
                assert [d["state"] for d in deliveries] == ["delivered", "delivered"], deliveries

    for task_id in ids:
        # Every attempt, refused or accepted, before and after the kill: never out of order.
        tried = [p.json["status"] for p in receiver.pushes("/hook") if p.json["task_id"] == task_id]
        assert tried == sorted(tried, key=["processing", "success"].index), tried
        accepted = [
            p.json["status"] for p in receiver.accepted("/hook") if p.json["task_id"] == task_id
        ]
        assert accepted[0] == "processing" and "success" in accepted, accepted


def _wait_for_retries_and_a_render(data_dir: Path, key: str, receiver: Receiver) -> None:
    """Until the first task is done, its push has been refused twice, the second renders."""
    store = task_store(data_dir)
    owner = owner_id(data_dir, key)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        statuses = sorted(task.status for task in store.list(owner)[0])
        rendering = statuses == sorted([TaskStatus.SUCCESS, TaskStatus.PROCESSING])
        if rendering and len(receiver.pushes("/hook")) >= 2:
            return
        time.sleep(0.05)
    raise AssertionError(
        f"never reached the moment to kill: {statuses}, {receiver.pushes('/hook')}"
    )


def _pending_pushes(data_dir: Path, key: str) -> list[tuple[str, str]]:
    store = task_store(data_dir)
    outbox = Outbox(store.engine)
    tasks, _ = store.list(owner_id(data_dir, key))
    return [
        (task.task_id, history.delivery.event.value)
        for task in tasks
        for history in outbox.history(task.id)
        if history.delivery.state is DeliveryState.PENDING
    ]


def _wait_until_accepted(receiver: Receiver, task_ids: list[str], timeout: float = 60) -> None:
    wanted = {(task_id, event) for task_id in task_ids for event in ("processing", "success")}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = {(p.json["task_id"], p.json["status"]) for p in receiver.accepted("/hook")}
        if wanted <= got:
            return
        time.sleep(0.1)
    raise AssertionError(f"missing pushes: {wanted - got}")
