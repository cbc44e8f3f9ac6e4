"""The outbox on SQLite and PostgreSQL: pushes written with the status change, claimed in
order under a lease."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Connection, select

from conch.domain.events import PushEvent
from conch.domain.ids import new_id
from conch.domain.task import Task, TaskStatus
from conch.store.db import open_database
from conch.store.keys import KeyStore
from conch.store.outbox import Attempt, Outbox
from conch.store.pushes import DeliveryState
from conch.store.tables import deliveries
from conch.store.tasks import NewFile, TaskStore
from support.tasks import text_spec

URL = "https://hooks.example.com/conch"


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class World:
    tasks: TaskStore
    outbox: Outbox
    clock: Clock
    owner: int

    def submit(self, callback_url: str | None = URL, dialect: str = "minimax") -> Task:
        return self.tasks.create(
            task_id=new_id(),
            owner_id=self.owner,
            dialect=dialect,
            spec=text_spec(callback_url=callback_url),
            inputs={},
        )

    def run_to_success(self) -> None:
        claim = self.tasks.claim("runner", 30)
        assert claim is not None
        assert self.tasks.start_processing(claim)
        assert self.tasks.succeed(claim, NewFile("outputs/x.mp4", 1000, 1366, 768)) is not None

    def rows(self) -> list[Any]:
        with self.tasks.engine.begin() as conn:
            return list(conn.execute(select(deliveries).order_by(deliveries.c.id)).all())


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    engine = open_database(database_url)
    clock = Clock()
    owner = KeyStore(engine).create("owner")[0].id
    yield World(TaskStore(engine, clock=clock), Outbox(engine, clock=clock), clock, owner)
    engine.dispose()


def test_processing_then_success_are_written_once_each(world: World) -> None:
    task = world.submit()
    assert world.rows() == []  # queued: the submit's answer said so
    claim = world.tasks.claim("runner", 30)
    assert claim is not None and world.rows() == []  # preparing: nothing yet
    world.tasks.start_processing(claim)
    world.tasks.release(claim)  # a runner shutting down gives the task back...
    world.run_to_success()  # ...and another runs it again
    rows = world.rows()
    assert [(row.seq, row.event) for row in rows] == [(1, "processing"), (2, "success")]
    assert {row.task_id for row in rows} == {task.id} and rows[0].url == URL
    assert rows[0].webhook_id != rows[1].webhook_id
    assert all(row.webhook_id.startswith("msg_") for row in rows)
    processing, success = (Task.from_json(row.snapshot) for row in rows)
    assert processing.status is TaskStatus.PROCESSING and processing.output is None
    assert success.status is TaskStatus.SUCCESS and success.output is not None


def test_a_failure_pushes_failed(world: World) -> None:
    world.submit()
    claim = world.tasks.claim("runner", 30)
    assert claim is not None and world.tasks.fail(claim, "invalid_params", "bad input")
    [row] = world.rows()
    assert row.event == PushEvent.FAILED.value and row.seq == 1
    assert Task.from_json(row.snapshot).error_message == "bad input"


def test_a_task_without_a_callback_writes_nothing(world: World) -> None:
    world.submit(callback_url=None)
    world.run_to_success()
    assert world.rows() == []


def test_the_push_commits_and_rolls_back_with_the_status_change(world: World) -> None:
    world.submit()
    claim = world.tasks.claim("runner", 30)
    assert claim is not None

    def broken(_conn: Connection, _task: Task) -> None:
        raise RuntimeError("the transaction fails after the push was written")

    world.tasks.hooks.append(broken)
    with pytest.raises(RuntimeError):
        world.tasks.start_processing(claim)
    assert world.rows() == []
    assert world.tasks.get(world.owner, claim.task_id).status is TaskStatus.PREPARING


def test_the_snapshot_is_the_task_itself(world: World) -> None:
    world.submit()
    world.run_to_success()
    task = world.tasks.list(world.owner)[0][0]
    assert Task.from_json(task.to_json()) == task


def test_a_tasks_pushes_are_claimed_in_order(world: World) -> None:
    first = world.submit()
    world.run_to_success()
    second = world.submit()
    world.run_to_success()
    claims = world.outbox.claim("d", lease_seconds=10, limit=10)
    # One per task: each task's success waits for its processing push.
    assert sorted((c.delivery.task_id, c.delivery.event) for c in claims) == sorted(
        [(first.id, PushEvent.PROCESSING), (second.id, PushEvent.PROCESSING)]
    )
    assert world.outbox.claim("d", lease_seconds=10, limit=10) == []  # leased
    [done, _] = sorted(claims, key=lambda c: c.delivery.task_id != first.id)
    assert world.outbox.settle(done, DeliveryState.DELIVERED, "delivered: HTTP 200", attempt=_ok())
    [after] = world.outbox.claim("d", lease_seconds=10, limit=10)
    assert (after.delivery.task_id, after.delivery.event) == (first.id, PushEvent.SUCCESS)


def test_a_retry_waits_its_turn_and_keeps_the_order(world: World) -> None:
    world.submit()
    world.run_to_success()
    [claim] = world.outbox.claim("d", lease_seconds=10, limit=10)
    failed = Attempt(1, world.clock.now, 0.1, 503, None)
    later = world.clock.now + 5
    assert world.outbox.settle(
        claim, DeliveryState.PENDING, "HTTP 503", attempt=failed, next_attempt_at=later
    )
    assert world.outbox.claim("d", lease_seconds=10, limit=10) == []  # not due; success waits
    world.clock.now = later
    [again] = world.outbox.claim("d", lease_seconds=10, limit=10)
    assert again.delivery.event is PushEvent.PROCESSING and again.delivery.attempts == 1


def test_an_expired_lease_is_claimed_again_and_the_stale_claim_writes_nothing(
    world: World,
) -> None:
    world.submit()
    world.run_to_success()
    [stale] = world.outbox.claim("crashed", lease_seconds=10, limit=1)
    world.clock.now += 11
    [fresh] = world.outbox.claim("alive", lease_seconds=10, limit=1)
    assert fresh.delivery.id == stale.delivery.id and fresh.fence == stale.fence + 1
    assert not world.outbox.settle(stale, DeliveryState.DELIVERED, "late", attempt=_ok())
    assert not world.outbox.release(stale)
    assert world.outbox.settle(fresh, DeliveryState.DELIVERED, "delivered", attempt=_ok())
    [history, _] = world.outbox.history(fresh.delivery.task_id)
    assert history.delivery.state is DeliveryState.DELIVERED and len(history.attempts) == 1


def test_a_released_push_is_due_again_at_once(world: World) -> None:
    world.submit()
    world.run_to_success()
    [claim] = world.outbox.claim("stopping", lease_seconds=10, limit=1)
    assert world.outbox.release(claim)
    [again] = world.outbox.claim("next", lease_seconds=10, limit=1)
    assert again.delivery.id == claim.delivery.id


def test_gone_covers_pushes_of_tasks_submitted_before_the_410(world: World) -> None:
    before = world.submit()
    world.run_to_success()
    [claim] = world.outbox.claim("d", lease_seconds=10, limit=1)
    world.clock.now += 1
    gone = Attempt(1, world.clock.now, 0.1, 410, None)
    assert world.outbox.settle(claim, DeliveryState.GONE, "HTTP 410", attempt=gone)
    found = world.outbox.gone_since(world.owner, URL, before.created_at)
    assert found is not None and found.id == claim.delivery.id
    world.clock.now += 1  # a later submit shook hands again: the URL is subscribed anew
    assert world.outbox.gone_since(world.owner, URL, world.clock.now) is None
    assert world.outbox.gone_since(world.owner, URL + "/other", before.created_at) is None


def test_concurrent_deliverers_never_claim_the_same_push(world: World) -> None:
    for _ in range(12):
        world.submit()
        world.run_to_success()
    claimed: list[int] = []
    lock = threading.Lock()

    def deliverer(name: str) -> None:
        while batch := world.outbox.claim(name, lease_seconds=60, limit=1):
            with lock:
                claimed.extend(claim.delivery.id for claim in batch)

    threads = [threading.Thread(target=deliverer, args=(f"d{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(claimed) == len(set(claimed)) == 12  # every processing push, once


def test_pushes_past_their_window_expire_instead_of_being_claimed(world: World) -> None:
    old = world.submit()
    world.run_to_success()  # processing and success, both pending
    [leased] = world.outbox.claim("busy", lease_seconds=500, limit=1)  # in flight elsewhere
    world.clock.now += 100  # conch was down (or this deliverer stalled) past the window
    fresh = world.submit()
    world.run_to_success()
    claims = world.outbox.claim("d", lease_seconds=10, limit=10, give_up_after=50)
    assert [(c.delivery.task_id, c.delivery.event) for c in claims] == [
        (fresh.id, PushEvent.PROCESSING)
    ]
    processing, success = world.outbox.history(old.id)
    assert processing.delivery.state is DeliveryState.PENDING  # its lease holds: its
    # deliverer judges its attempt (RetryPolicy gives up once the window is over)
    assert success.delivery.state is DeliveryState.EXPIRED
    assert "not sent: still waiting 50 s after the status change" in (
        success.delivery.outcome or ""
    )
    assert success.attempts == [] and success.delivery.finished_at == world.clock.now
    world.clock.now += 500  # the lease ran out with nobody settling it
    assert world.outbox.claim("d", lease_seconds=10, limit=10, give_up_after=50) == []
    assert [h.delivery.state for h in world.outbox.history(old.id)] == [DeliveryState.EXPIRED] * 2
    assert not world.outbox.settle(leased, DeliveryState.DELIVERED, "late", attempt=_ok())


def test_task_references_find_the_task(world: World) -> None:
    task = world.submit()
    assert world.outbox.task_id_for(task.task_id) == task.id
    assert world.outbox.task_id_for(task.uuid) == task.id
    assert world.outbox.task_id_for("12345") is None


def _ok() -> Attempt:
    return Attempt(1, 0.0, 0.01, 200, None)
