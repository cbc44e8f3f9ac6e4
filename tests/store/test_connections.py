"""How the stores use the database: pooled connections, reads that never wait for a writer,
prepared reads that answer as the engine does, and a full database answered with conch's
internal error (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import threading
from typing import Any

import pytest
from sqlalchemy import JSON, Engine, bindparam, event, select

from conch.domain.errors import Internal, NotFound
from conch.domain.ids import new_id
from conch.store.db import STORAGE_FULL, PreparedRead, open_database
from conch.store.keys import KeyStore
from conch.store.tables import tasks
from conch.store.tasks import TaskStore
from support.tasks import text_spec


def count_connections(engine: Engine) -> list[int]:
    """A list that grows by one each time ``engine`` opens a new DBAPI connection."""
    opened: list[int] = []
    event.listen(engine, "connect", lambda *_: opened.append(1))
    return opened


def add_task(store: TaskStore, owner: int) -> int:
    task = store.create(
        task_id=new_id(), owner_id=owner, dialect="minimax", spec=text_spec(), inputs={}
    )
    return task.id


def test_reads_and_writes_reuse_pooled_connections(database_url: str) -> None:
    engine = open_database(database_url)
    store, keys = TaskStore(engine), KeyStore(engine)
    owner = keys.create("owner")[0].id
    task_id = add_task(store, owner)
    opened = count_connections(engine)
    for _ in range(20):
        store.get(owner, task_id)
        keys.get(owner)
        add_task(store, owner)
    assert len(opened) == 0  # one thread, one connection: the one already open
    engine.dispose()


def test_a_read_never_waits_for_the_write_lock(tmp_path: Any) -> None:
    # SQLite: a transaction holding the write lock (as a runner's write does) would make a
    # reader that began with BEGIN IMMEDIATE wait out the busy timeout and then fail.
    engine = open_database(f"sqlite:///{tmp_path / 'conch.db'}")
    store = TaskStore(engine)
    owner = KeyStore(engine).create("owner")[0].id
    task_id = add_task(store, owner)
    with engine.begin() as writer:  # BEGIN IMMEDIATE: the write lock, held
        writer.exec_driver_sql("UPDATE tasks SET progress = 0.5")
        assert store.get(owner, task_id).progress == 0.0  # read at once, as committed
    assert store.get(owner, task_id).progress == 0.5
    engine.dispose()


def test_reads_run_side_by_side_on_several_threads(database_url: str) -> None:
    engine = open_database(database_url)
    store = TaskStore(engine)
    owner = KeyStore(engine).create("owner")[0].id
    ids = [add_task(store, owner) for _ in range(10)]
    failures: list[BaseException] = []
    start = threading.Barrier(8)

    def reader() -> None:
        start.wait()
        try:
            for task_id in ids * 5:
                assert store.get(owner, task_id).id == task_id
        except BaseException as failure:  # reported below
            failures.append(failure)

    threads = [threading.Thread(target=reader) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    engine.dispose()


def test_a_full_sqlite_database_refuses_writes_and_still_reads(tmp_path: Any) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 'conch.db'}")
    store = TaskStore(engine)
    owner = KeyStore(engine).create("owner")[0].id
    task_id = add_task(store, owner)
    engine.dispose()

    # The file may not grow past the pages it has: SQLite answers SQLITE_FULL, as it does
    # when the disk itself is full.
    @event.listens_for(engine, "connect")
    def _cap(dbapi_connection: Any, _record: Any) -> None:
        pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

    with pytest.raises(Internal) as refused:
        for _ in range(1000):
            add_task(store, owner)
    assert refused.value.message() == STORAGE_FULL
    assert "storage is full" in STORAGE_FULL
    assert store.get(owner, task_id).id == task_id  # reads go on
    engine.dispose()


def test_a_forked_child_opens_its_own_connections(tmp_path: Any) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 'conch.db'}")
    store = TaskStore(engine)
    owner = KeyStore(engine).create("owner")[0].id
    task_id = add_task(store, owner)
    opened = count_connections(engine)
    pid = os.fork()
    if pid == 0:  # the child: exit 0 only if it read through a connection of its own
        try:
            store.get(owner, task_id)
            os._exit(0 if opened else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert store.get(owner, task_id).id == task_id  # the parent's pool is intact
    engine.dispose()


def test_a_prepared_read_answers_as_the_engine_does(database_url: str) -> None:
    engine = open_database(database_url)
    store = TaskStore(engine)
    owner = KeyStore(engine).create("owner")[0].id
    task_id = add_task(store, owner)
    query = select(tasks).where(tasks.c.owner_id == bindparam("o"), tasks.c.id == bindparam("t"))
    prepared = PreparedRead(engine, query)
    for _ in range(2):  # the second answer reuses what the first learnt of the columns
        found = prepared.one_or_none({"o": owner, "t": task_id})
        with engine.connect() as conn:
            expected = conn.execute(query, {"o": owner, "t": task_id}).one()
        assert found == tuple(expected)
        assert found.spec == expected.spec and isinstance(found.spec, dict)  # JSON, decoded
    assert prepared.one_or_none({"o": owner + 1, "t": task_id}) is None
    engine.dispose()


def test_a_prepared_read_refuses_parameters_that_need_processing(database_url: str) -> None:
    engine = open_database(database_url)
    by_spec = select(tasks.c.id).where(tasks.c.spec == bindparam("spec", type_=JSON))
    with pytest.raises(ValueError, match="spec"):
        PreparedRead(engine, by_spec)
    engine.dispose()


def test_a_prepared_read_returns_its_connection_to_the_pool(database_url: str) -> None:
    engine = open_database(database_url)
    store = TaskStore(engine)
    owner = KeyStore(engine).create("owner")[0].id
    task_id = add_task(store, owner)
    opened = count_connections(engine)
    for _ in range(20):
        store.get(owner, task_id)
        store.find(owner, str(task_id))
    with pytest.raises(NotFound):
        store.get(owner + 1, task_id)
    assert len(opened) == 0 and engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    engine.dispose()


def test_a_prepared_read_leaves_deferred_columns_for_later(database_url: str) -> None:
    engine = open_database(database_url)
    store = TaskStore(engine)
    owner = KeyStore(engine).create("owner")[0].id
    task_id = add_task(store, owner)
    query = select(tasks).where(tasks.c.owner_id == bindparam("o"), tasks.c.id == bindparam("t"))
    prepared = PreparedRead(engine, query, deferred=["spec"])
    found = prepared.one_or_none({"o": owner, "t": task_id})
    with engine.connect() as conn:
        expected = conn.execute(query, {"o": owner, "t": task_id}).one()
    assert found.inputs == expected.inputs  # not deferred: processed as ever
    assert prepared.processed("spec", found.spec) == expected.spec
    assert prepared.processed("inputs", found.inputs) == expected.inputs
    with pytest.raises(ValueError, match="nonesuch"):
        PreparedRead(engine, query, deferred=["nonesuch"])
    engine.dispose()
