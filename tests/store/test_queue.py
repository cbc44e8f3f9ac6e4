"""Queue positions follow the order runners claim in, across owners, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from conch.domain.ids import new_id
from conch.domain.task import Task
from conch.store.db import open_database
from conch.store.keys import KeyStore
from conch.store.queue import queue_positions
from conch.store.tasks import TaskStore
from support.tasks import text_spec


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(database_url: str) -> TaskStore:
    return TaskStore(open_database(database_url), clock=Clock())


def add_task(store: TaskStore, owner: int) -> Task:
    return store.create(
        task_id=new_id(),
        owner_id=owner,
        dialect="minimax",
        spec=text_spec(),
        inputs={},
    )


def test_places_count_every_owners_queued_tasks_in_claim_order(store: TaskStore) -> None:
    keys = KeyStore(store.engine)
    me, other = keys.create("me")[0].id, keys.create("other")[0].id
    # The same clock reading for all: ties fall to the id, as claims break them.
    line = [add_task(store, owner) for owner in (me, other, me, other, me)]
    ids = [task.id for task in line]
    assert queue_positions(store.engine, ids) == {task_id: n for n, task_id in enumerate(ids, 1)}
    claim = store.claim("runner", 30.0)
    assert claim is not None and claim.task_id == line[0].id
    assert queue_positions(store.engine, ids) == {
        task_id: n for n, task_id in enumerate(ids[1:], 1)
    }


def test_tasks_not_in_the_queue_have_no_place(store: TaskStore) -> None:
    assert queue_positions(store.engine, []) == {}
    assert queue_positions(store.engine, [new_id()]) == {}
