"""Cancelling and deleting tasks, and the owner's files, against real SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from conch.domain.errors import InvalidParams, NotFound
from conch.domain.ids import new_id
from conch.domain.task import CANCELLED_REASON, Task, TaskStatus
from conch.store.db import open_database
from conch.store.keys import KeyStore
from conch.store.tables import deliveries
from conch.store.tasks import NewFile, TaskStore
from support.tasks import text_spec


@pytest.fixture
def store(database_url: str) -> TaskStore:
    return TaskStore(open_database(database_url))


@pytest.fixture
def owner(store: TaskStore) -> int:
    return KeyStore(store.engine).create("owner")[0].id


def add_task(store: TaskStore, owner: int, callback_url: str | None = None) -> Task:
    spec = text_spec(callback_url=callback_url)
    return store.create(task_id=new_id(), owner_id=owner, dialect="minimax", spec=spec, inputs={})


def succeeded(store: TaskStore, owner: int) -> tuple[Task, int]:
    task = add_task(store, owner)
    claim = store.claim("r1", 10, task_id=task.id)
    assert claim is not None
    record = store.succeed(claim, NewFile(f"outputs/{task.id}.1.mp4", 10, 910, 512, 2))
    assert record is not None
    return store.get(owner, task.id), record.id


def test_a_queued_task_cancelled_is_never_claimed(store: TaskStore, owner: int) -> None:
    task = add_task(store, owner, callback_url="https://example.com/hook")
    cancelled = store.cancel(owner, task.uuid)
    assert cancelled.status is TaskStatus.CANCELLED and cancelled.finished_at is not None
    assert cancelled.failure_reason == CANCELLED_REASON
    assert store.claim("r1", 10) is None
    with store.engine.begin() as conn:  # its receiver is told, as of a failure
        events = conn.execute(select(deliveries.c.event)).scalars().all()
    assert events == ["failed"]


def test_a_running_task_is_taken_from_its_runner(store: TaskStore, owner: int) -> None:
    task = add_task(store, owner)
    claim = store.claim("r1", 10)
    assert claim is not None and store.start_processing(claim)
    assert store.holds(claim.task_id, claim.fence)
    store.cancel(owner, task.task_id)
    assert not store.holds(claim.task_id, claim.fence)
    # Every later write of the runner fails: it stops, and the task stays cancelled.
    assert not store.set_progress(claim, 0.5)
    assert store.succeed(claim, NewFile("outputs/late.mp4", 1, 2, 2)) is None
    assert store.retry_or_fail(claim, "internal", "boom", max_attempts=3) is None
    assert store.get(owner, task.id).status is TaskStatus.CANCELLED


def test_cancelling_an_ended_task_says_how_it_ended(store: TaskStore, owner: int) -> None:
    done, _ = succeeded(store, owner)
    with pytest.raises(InvalidParams, match="already ended: it succeeded"):
        store.cancel(owner, done.task_id)
    failed = add_task(store, owner)
    claim = store.claim("r1", 10, task_id=failed.id)
    assert claim is not None and store.fail(claim, "invalid_params", "the image is gone")
    with pytest.raises(InvalidParams, match=r"it failed \(the image is gone\)"):
        store.cancel(owner, failed.task_id)
    store.cancel(owner, (twice := add_task(store, owner)).task_id)
    with pytest.raises(InvalidParams, match="it was cancelled"):
        store.cancel(owner, twice.task_id)
    stranger = KeyStore(store.engine).create("stranger")[0].id
    with pytest.raises(NotFound):
        store.cancel(stranger, add_task(store, owner).task_id)


def test_a_deleted_task_is_found_by_no_caller(store: TaskStore, owner: int) -> None:
    done, file_id = succeeded(store, owner)
    running = add_task(store, owner)
    assert store.claim("r1", 10, task_id=running.id) is not None
    kept = add_task(store, owner)
    ended, removed = store.delete(owner, done.task_id)
    assert ended.status is TaskStatus.SUCCESS
    assert [(record.id, record.audio_channels) for record in removed] == [(file_id, 2)]
    cancelled, nothing = store.delete(owner, running.uuid)
    assert (cancelled.status, nothing) == (TaskStatus.CANCELLED, [])
    for gone in (done, running):
        with pytest.raises(NotFound):
            store.find(owner, gone.task_id)
        with pytest.raises(NotFound):
            store.delete(owner, gone.task_id)
    with pytest.raises(NotFound):
        store.file(owner, file_id)
    assert store.file_by_id(file_id) is None  # its signed links stop working
    assert [task.id for task in store.latest(owner, limit=10)] == [kept.id]
    assert [task.id for task in store.list(owner)[0]] == [kept.id]
    assert [task.id for task in store.paged(owner, limit=10)] == [kept.id]


def test_paging_both_ways(store: TaskStore, owner: int) -> None:
    made = [add_task(store, owner).id for _ in range(5)]
    newest = [task.id for task in store.paged(owner, limit=2)]
    assert newest == sorted(made, reverse=True)[:2]
    older = [task.id for task in store.paged(owner, limit=10, after=newest[-1])]
    assert older == sorted(made, reverse=True)[2:]
    oldest = [task.id for task in store.paged(owner, limit=3, ascending=True)]
    later = [task.id for task in store.paged(owner, limit=3, after=oldest[-1], ascending=True)]
    assert oldest + later == sorted(made)


def test_files_are_listed_newest_first_and_deleted_by_their_owner(
    store: TaskStore, owner: int
) -> None:
    first, first_file = succeeded(store, owner)
    second, second_file = succeeded(store, owner)
    assert [record.id for record in store.files(owner, limit=10)] == [second_file, first_file]
    stranger = KeyStore(store.engine).create("stranger")[0].id
    with pytest.raises(NotFound):
        store.delete_file(stranger, first_file)
    assert store.delete_file(owner, first_file).task_id == first.id
    assert [record.id for record in store.files(owner, limit=10)] == [second_file]
    with pytest.raises(NotFound):
        store.delete_file(owner, first_file)
    # The task keeps saying it succeeded; its video is gone.
    assert store.get(owner, first.id).status is TaskStatus.SUCCESS
    assert store.file_by_id(first_file) is None and second.output is not None
