"""Opening the database: file modes, durability settings, migrations (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, inspect

from conch.config import Settings
from conch.services import Services
from conch.store.db import SQLITE_BUSY_TIMEOUT_MS, open_database, schema_revision
from conch.store.keys import KeyStore


@contextmanager
def umask(mask: int) -> Iterator[None]:
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_database_and_its_wal_files_are_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "conch.db"
    with umask(0o022):  # a umask that would leave them world-readable
        engine = open_database(f"sqlite:///{path}")
        KeyStore(engine).create("with a secret")  # something written, through the WAL
        with engine.connect():  # -wal and -shm exist while a connection is open
            files = [path, tmp_path / "conch.db-wal", tmp_path / "conch.db-shm"]
            assert {file.name: mode(file) for file in files} == {file.name: 0o600 for file in files}
        engine.dispose()


def test_an_existing_readable_database_is_made_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "conch.db"
    open_database(f"sqlite:///{path}").dispose()
    path.chmod(0o644)
    open_database(f"sqlite:///{path}").dispose()
    assert mode(path) == 0o600


def test_the_data_dir_conch_creates_is_owner_only(tmp_path: Path) -> None:
    with umask(0o022):
        Services.open(Settings(data_dir=tmp_path / "new" / "var")).close()
        assert mode(tmp_path / "new" / "var") == 0o700
        assert mode(tmp_path / "new" / "var" / "conch.db") == 0o600
        existing = tmp_path / "shared"
        existing.mkdir(mode=0o755)
        Services.open(Settings(data_dir=existing)).close()
        assert mode(existing) == 0o755  # the operator's own folder is left as it is


def test_sqlite_waits_less_than_a_lease_heartbeat_and_syncs_fully(tmp_path: Path) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 'conch.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == SQLITE_BUSY_TIMEOUT_MS
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()
    assert Settings().lease_seconds / 3 > SQLITE_BUSY_TIMEOUT_MS / 1000


@pytest.mark.parametrize("_attempt", range(3))  # a race shows on some runs: try a few times
def test_two_servers_migrating_one_postgresql_at_once_both_start(
    postgres_url: str, _attempt: int
) -> None:
    start = threading.Barrier(2)
    opened: list[Engine] = []
    failures: list[BaseException] = []

    def server() -> None:
        start.wait()
        try:
            opened.append(open_database(postgres_url))
        except BaseException as failure:  # reported below, with its type
            failures.append(failure)

    threads = [threading.Thread(target=server) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    assert schema_revision(opened[0])[0] == schema_revision(opened[0])[1]  # at the head
    for engine in opened:
        engine.dispose()
    probe = create_engine(postgres_url)
    assert "deliveries" in inspect(probe).get_table_names()
    probe.dispose()
