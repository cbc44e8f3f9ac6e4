"""TaskStore against real SQLite and PostgreSQL: claims, fences, leases, sweeps, files."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
from sqlalchemy import Connection, select

from conch.domain.errors import NotFound
from conch.domain.ids import new_id
from conch.domain.request import ImageRole
from conch.domain.task import StoredImage, Task, TaskStatus
from conch.store import tasks as task_table
from conch.store.db import open_database
from conch.store.keys import KeyStore
from conch.store.tables import files
from conch.store.tasks import NewFile, TaskStore
from support.tasks import text_spec


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(database_url: str, clock: Clock) -> TaskStore:
    return TaskStore(open_database(database_url), clock=clock)


@pytest.fixture
def owner(store: TaskStore) -> int:
    return KeyStore(store.engine).create("owner")[0].id


def add_task(store: TaskStore, owner: int) -> Task:
    return store.create(
        task_id=new_id(),
        owner_id=owner,
        dialect="minimax",
        spec=text_spec(),
        inputs={},
    )


def output(key: str = "outputs/x.mp4") -> NewFile:
    return NewFile(storage_key=key, bytes=1234, width=1366, height=768)


def test_created_task_is_queued_and_visible_only_to_its_owner(store: TaskStore, owner: int) -> None:
    task = add_task(store, owner)
    other = KeyStore(store.engine).create("other")[0].id
    assert task.status is TaskStatus.QUEUED
    assert task.task_id.isdigit() and int(task.task_id) < 2**53
    assert store.get(owner, task.id) == task
    assert store.find(owner, task.uuid) == task
    assert store.find(owner, task.task_id) == task
    with pytest.raises(NotFound, match=f"no task {task.id}"):
        store.get(other, task.id)
    with pytest.raises(NotFound):
        store.find(other, task.uuid)


def test_claims_oldest_first_with_a_new_fence_each_time(
    store: TaskStore, owner: int, clock: Clock
) -> None:
    first = add_task(store, owner)
    clock.advance(1)
    second = add_task(store, owner)
    claim = store.claim("r1", lease_seconds=10)
    assert claim is not None and claim.task_id == first.id
    assert claim.fence == 1 and claim.task.attempts == 1
    assert claim.task.status is TaskStatus.PREPARING
    assert store.claim("r2", 10).task_id == second.id  # type: ignore[union-attr]
    assert store.claim("r3", 10) is None


def test_success_records_the_file_once(store: TaskStore, owner: int) -> None:
    task = add_task(store, owner)
    claim = store.claim("r1", 10)
    assert claim is not None
    assert store.start_processing(claim)
    record = store.succeed(claim, output())
    assert record is not None and record.task_id == task.id
    done = store.get(owner, task.id)
    assert done.status is TaskStatus.SUCCESS and done.output is not None
    assert (done.output.file_id, done.output.width, done.output.height) == (record.id, 1366, 768)
    assert store.file(owner, record.id) == record
    # The claim is spent: a second finish changes nothing.
    assert store.succeed(claim, output("outputs/y.mp4")) is None
    assert not store.fail(claim, "internal", "late")
    with store.engine.begin() as conn:
        assert len(conn.execute(select(files)).all()) == 1


def test_a_swept_claim_can_write_nothing(store: TaskStore, owner: int, clock: Clock) -> None:
    task = add_task(store, owner)
    stale = store.claim("slow", lease_seconds=10)
    assert stale is not None
    clock.advance(11)
    assert store.sweep(max_attempts=3) == 1
    clock.advance(61)  # past any retry backoff
    fresh = store.claim("fast", lease_seconds=10)
    assert fresh is not None and fresh.task_id == task.id and fresh.fence == stale.fence + 1
    assert not store.heartbeat(stale, 10)
    assert not store.set_progress(stale, 0.5)
    assert not store.start_processing(stale)
    assert store.succeed(stale, output()) is None
    assert store.succeed(fresh, output()) is not None
    assert store.get(owner, task.id).status is TaskStatus.SUCCESS


def test_heartbeats_keep_a_lease_from_the_sweeper(
    store: TaskStore, owner: int, clock: Clock
) -> None:
    add_task(store, owner)
    claim = store.claim("r1", lease_seconds=10)
    assert claim is not None
    for _ in range(5):
        clock.advance(8)
        assert store.heartbeat(claim, 10)
        assert store.sweep(max_attempts=3) == 0


def test_sweep_fails_a_task_whose_attempts_ran_out(
    store: TaskStore, owner: int, clock: Clock
) -> None:
    task = add_task(store, owner)
    for attempt in (1, 2):
        claim = store.claim(f"r{attempt}", 10)
        assert claim is not None and claim.task.attempts == attempt
        clock.advance(11)
        store.sweep(max_attempts=2)
        clock.advance(61)
    failed = store.get(owner, task.id)
    assert failed.status is TaskStatus.FAIL
    assert failed.error_code == "internal"
    assert "stopped responding (2 attempts)" in (failed.error_message or "")
    assert store.claim("r3", 10) is None


def test_retry_or_fail_requeues_then_gives_up(store: TaskStore, owner: int, clock: Clock) -> None:
    task = add_task(store, owner)
    claim = store.claim("r1", 10)
    assert claim is not None
    assert store.retry_or_fail(claim, "internal", "boom", max_attempts=2) is TaskStatus.QUEUED
    queued = store.get(owner, task.id)
    assert queued.status is TaskStatus.QUEUED and queued.error_message == "boom"
    clock.advance(61)
    claim = store.claim("r1", 10)
    assert claim is not None and claim.task.attempts == 2
    assert store.retry_or_fail(claim, "internal", "boom", max_attempts=2) is TaskStatus.FAIL
    failed = store.get(owner, task.id)
    assert failed.status is TaskStatus.FAIL
    assert failed.error_message == "boom (gave up after 2 attempts)"


def test_release_gives_the_task_back_without_spending_an_attempt(
    store: TaskStore, owner: int
) -> None:
    add_task(store, owner)
    claim = store.claim("r1", 10)
    assert claim is not None and store.release(claim)
    again = store.claim("r2", 10)
    assert again is not None and again.task.attempts == 1 and again.fence == 2


def test_claiming_one_task_by_id_leaves_the_others_queued(
    store: TaskStore, owner: int, clock: Clock
) -> None:
    older = add_task(store, owner)
    clock.advance(1)
    wanted = add_task(store, owner)
    claim = store.claim("cli", 10, task_id=wanted.id)
    assert claim is not None and claim.task_id == wanted.id and claim.fence == 1
    assert store.get(owner, older.id).status is TaskStatus.QUEUED
    assert store.claim("cli", 10, task_id=wanted.id) is None  # held: not claimable twice
    clock.advance(11)
    store.sweep(max_attempts=3)
    assert store.claim("cli", 10, task_id=wanted.id) is None  # requeued, but backing off
    clock.advance(61)
    again = store.claim("cli", 10, task_id=wanted.id)
    assert again is not None and again.fence == claim.fence + 1  # the stale claim is fenced off
    assert not store.heartbeat(claim, 10)
    assert store.claim("cli", 10, task_id=new_id()) is None  # no such task
    assert store.claim("runner", 10).task_id == older.id  # type: ignore[union-attr]


def test_list_filters_and_counts(store: TaskStore, owner: int, clock: Clock) -> None:
    made = []
    for _ in range(5):
        made.append(add_task(store, owner))
        clock.advance(1)
    page, total = store.list(owner, limit=2, offset=1)
    assert total == 5 and [t.id for t in page] == [made[3].id, made[2].id]
    wanted = [made[0].uuid, made[1].task_id]
    page, total = store.list(owner, references=wanted)
    assert total == 2 and {t.id for t in page} == {made[0].id, made[1].id}
    page, total = store.list(owner, statuses=[TaskStatus.SUCCESS])
    assert (page, total) == ([], 0)


def test_hooks_run_in_the_same_transaction(store: TaskStore, owner: int) -> None:
    seen: list[TaskStatus] = []

    def record(_conn: Connection, task: Task) -> None:
        seen.append(task.status)
        if task.status is TaskStatus.PROCESSING:
            raise RuntimeError("the hook failed")

    store.hooks.append(record)
    task = add_task(store, owner)
    claim = store.claim("r1", 10)
    assert claim is not None
    with pytest.raises(RuntimeError):
        store.start_processing(claim)
    # The failed hook rolled the status change back with it.
    assert store.get(owner, task.id).status is TaskStatus.PREPARING
    assert seen == [TaskStatus.QUEUED, TaskStatus.PREPARING, TaskStatus.PROCESSING]


def test_concurrent_runners_never_claim_a_task_twice(database_url: str) -> None:
    store = TaskStore(open_database(database_url))
    owner = KeyStore(store.engine).create("owner")[0].id
    tasks = {add_task(store, owner).id for _ in range(40)}
    claimed: Counter[int] = Counter()
    lock = threading.Lock()

    def runner(name: str) -> None:
        mine = TaskStore(open_database(database_url, upgrade=False))
        while (claim := mine.claim(name, 30)) is not None:
            with lock:
                claimed[claim.task_id] += 1
            time.sleep(0.001)

    threads = [threading.Thread(target=runner, args=(f"r{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(claimed) == tasks
    assert max(claimed.values()) == 1


def test_only_the_moves_the_domain_allows_are_written(store: TaskStore, owner: int) -> None:
    add_task(store, owner)
    claim = store.claim("r1", 10)
    assert claim is not None
    assert store.start_processing(claim)
    assert not store.start_processing(claim)  # processing -> processing is no move
    assert TaskStatus.PREPARING not in TaskStatus.PREPARING.sources
    assert TaskStatus.PROCESSING.sources == {TaskStatus.PREPARING}
    assert store.succeed(claim, output()) is not None


def test_a_polled_task_decodes_its_spec_and_inputs_once(
    store: TaskStore, owner: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = StoredImage(key="inputs/a.jpg", format="jpeg", width=640, height=360)
    created = store.create(
        task_id=new_id(),
        owner_id=owner,
        dialect="minimax",
        spec=text_spec("a lighthouse"),
        inputs={ImageRole.FIRST_FRAME: image},
    )
    first = store.get(owner, created.id)
    assert first == created
    decoded: list[object] = []
    real = task_table._fixed
    monkeypatch.setattr(task_table, "_fixed", lambda *a: decoded.append(a) or real(*a))
    second = store.find(owner, created.uuid)
    assert second == created and decoded == []  # kept from the first poll
    assert second.inputs is not first.inputs  # each task its own dict
    assert store.latest(owner, limit=1) == [created]  # other reads decode as before
    assert len(decoded) == 1


def test_polled_tasks_kept_decoded_are_bounded(
    store: TaskStore, owner: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(task_table, "DECODED_KEPT", 2)
    made = [add_task(store, owner) for _ in range(3)]
    for task in made:
        assert store.get(owner, task.id) == task
    assert list(store._decoded) == [task.id for task in made[1:]]
