"""Opening the database: SQLite under the data dir by default, PostgreSQL at scale.

SQLite is shared by the API process and every runner process, so it runs in WAL mode with a
busy timeout, and every transaction starts with ``BEGIN IMMEDIATE``: a writer takes the write
lock up front instead of failing when it upgrades from reading. ``synchronous = FULL``: a
task acknowledged to its caller survives a power cut, not only a crash of conch. The
database holds the keys' signing secrets, so its file (and its ``-wal`` and ``-shm``) is
readable by its owner only (0600).

PostgreSQL migrations run under a transaction-level advisory lock, so two servers starting
at once take turns instead of racing to create the same tables.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, insert, make_url, select
from sqlalchemy.pool import NullPool

from conch.store.tables import deliveries, metadata, schema_version

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 5_000
"""How long a writer waits for SQLite's write lock before failing. Kept below a third of the
default lease (30 s / 3): a runner waiting on the lock must still heartbeat in time, and a
failed write is retried on its next beat rather than silently stretching the lease."""
OWNER_ONLY = 0o600
MIGRATION_LOCK = 0x636F_6E63_6800  # "conch" in ASCII: the advisory lock's key

Migration = Callable[[Connection], None]


def _index_gone_pushes(conn: Connection) -> None:
    """Version 1: the index that finds a key's 410-answered URLs (``Outbox.gone_since``)."""
    for index in deliveries.indexes:
        if index.name == "ix_deliveries_gone":
            index.create(conn, checkfirst=True)


MIGRATIONS: list[Migration] = [_index_gone_pushes]
"""Changes to an existing schema, in order; version N is ``MIGRATIONS[N - 1]``.

A fresh database gets the whole current schema from ``create_all`` and is stamped with the
latest version; an older one runs the migrations it has not seen.
"""


def open_database(url: str, *, upgrade: bool = True) -> Engine:
    """An engine for ``url`` with conch's connection settings.

    The server brings the schema up to date (``upgrade``); runner processes, started after
    it, leave the schema alone so that they never race it.
    """
    if url.startswith("sqlite"):
        engine = _sqlite_engine(url)
    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)
    if upgrade:
        migrate(engine)
    return engine


def _sqlite_engine(url: str) -> Engine:
    path = _sqlite_file(url)
    if path is not None:
        _create_owner_only(path)
    # NullPool: a connection never crosses a fork, and SQLite connections are cheap.
    engine = create_engine(url, poolclass=NullPool)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()
        if path is not None:
            _restrict(path)  # SQLite gives -wal and -shm the database's mode; make sure

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _sqlite_file(url: str) -> Path | None:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def _create_owner_only(path: Path) -> None:
    """Create the database file as 0600 (before SQLite creates it with the umask's mode)."""
    if path.parent.is_dir():
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, OWNER_ONLY))
    _restrict(path)


def _restrict(path: Path) -> None:
    """Make the database and its -wal and -shm files 0600 where they are not already."""
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if file.stat().st_mode & 0o777 != OWNER_ONLY:
                file.chmod(OWNER_ONLY)
        except FileNotFoundError:
            continue
        except PermissionError:  # another user's file: say so, but do not refuse to run
            log.warning("%s holds signing secrets but could not be made owner-only", file)


def migrate(engine: Engine) -> None:
    """Bring the schema up to the latest version."""
    latest = len(MIGRATIONS)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Held until this transaction ends: a second server waits, then finds it done.
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
        metadata.create_all(conn)
        newest = schema_version.c.version.desc()
        current = conn.execute(select(schema_version.c.version).order_by(newest)).scalar()
        if current is None:
            conn.execute(insert(schema_version).values(version=latest, applied_at=time.time()))
            return
        for version in range(current + 1, latest + 1):
            MIGRATIONS[version - 1](conn)
            conn.execute(insert(schema_version).values(version=version, applied_at=time.time()))
