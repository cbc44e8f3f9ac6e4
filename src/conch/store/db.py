"""Opening the database: SQLite under the data dir by default, PostgreSQL at scale.

Connections are opened once and pooled: every request reuses one rather than opening its
own, so a read costs a query and nothing more, and reads keep working on a full disk
(a new SQLite connection may need to write; an open one reading does not).

SQLite is shared by the API process and every runner process, so it runs in WAL mode
(set once, when the server opens the database, and kept in the file) with a busy
timeout. A transaction that may write starts with ``BEGIN IMMEDIATE``: it takes the write
lock up front instead of failing when it upgrades from reading. A transaction that only
reads (:func:`reader`) starts with a plain ``BEGIN``: in WAL mode it reads a snapshot
without waiting for any writer. The hottest reads, one statement each (a task's status
poll), skip SQLAlchemy's execution machinery altogether (:class:`PreparedRead`).
``synchronous = FULL``: a task acknowledged to its caller survives a power cut, not only a
crash of conch. The database holds the keys' signing secrets, so its file (and its ``-wal``
and ``-shm``) is readable by its owner only (0600).

A write that fails because the disk (or PostgreSQL's) is full raises
:class:`~conch.domain.errors.Internal` saying so, which every dialect renders as its
internal error.

The schema is Alembic's (``store/migrations``): the server upgrades it as it starts, and
``conch db upgrade`` does so for a fleet. PostgreSQL migrations run under a
transaction-level advisory lock, so two servers starting at once take turns instead of
racing to create the same tables.
"""

from __future__ import annotations

import logging
import os
import weakref
from collections import namedtuple
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, Select, create_engine, event, inspect, make_url
from sqlalchemy.engine import ExceptionContext

from conch.domain.errors import Internal
from conch.store.tables import deliveries

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 5_000
"""How long a writer waits for SQLite's write lock before failing. Kept below a third of the
default lease (30 s / 3): a runner waiting on the lock must still heartbeat in time, and a
failed write is retried on its next beat rather than silently stretching the lease."""
OWNER_ONLY = 0o600
MIGRATION_LOCK = 0x636F_6E63_6800  # "conch" in ASCII: the advisory lock's key
POOL_SIZE = 5
"""Connections a process keeps open (as many again may open for a burst). The server asks
for more: its requests run on a thread pool."""
READ_ONLY = "conch_read_only"
"""The execution option that marks a transaction as reading only (see :func:`reader`)."""
STORAGE_FULL = (
    "storage is full: the server could not save this change; try again once space is freed"
)
_SQLITE_FULL = 13  # SQLITE_FULL: "database or disk is full"
_POSTGRES_DISK_FULL = "53100"  # SQLSTATE disk_full

MIGRATIONS = Path(__file__).with_name("migrations")
"""Alembic's scripts: each schema change is a revision under ``migrations/versions``."""
BASELINE = "0001_baseline"
"""The revision a database made before Alembic is taken to be at."""
LEGACY_VERSION_TABLE = "schema_version"


def open_database(url: str, *, upgrade: bool = True, pool_size: int = POOL_SIZE) -> Engine:
    """An engine for ``url`` with conch's connection settings.

    The server brings the schema up to date (``upgrade``), and sets SQLite's journal mode;
    runner processes, started after it, leave both alone so that they never race it.
    """
    pool = {"pool_size": pool_size, "max_overflow": pool_size}
    if url.startswith("sqlite"):
        engine = _sqlite_engine(url, pool)
        if upgrade:
            _use_wal(engine)
    else:
        engine = create_engine(url, pool_pre_ping=True, **pool)
    _forget_in_forked_children(engine)
    event.listen(engine, "handle_error", _storage_full)
    if upgrade:
        migrate(engine)
    return engine


def reader(engine: Engine) -> Engine:
    """``engine`` for transactions that only read: a plain ``BEGIN`` on SQLite, so that a
    reader never queues for the write lock. Keep one (stores make theirs once)."""
    return engine.execution_options(**{READ_ONLY: True})


class PreparedRead:
    """One SELECT, compiled once for ``engine``'s database and run straight on a pooled
    DBAPI connection: for the reads every status poll makes.

    SQLAlchemy's execution path (a Connection, its transaction, events, a Result) costs
    several times what the database spends on an indexed read. A single statement needs no
    explicit transaction: it reads one consistent snapshot on its own (SQLite in autocommit
    mode, as conch's connections are; PostgreSQL's implicit transaction, ended by the pool
    when the connection goes back). Rows come back as named tuples with each column's
    SQLAlchemy result processing applied (a JSON column is decoded), as ``Connection.execute``
    would; parameters are passed as they are, so only types the driver takes unprocessed
    may be bound (checked here, once).

    The columns named in ``deferred`` come back as the driver gives them, unprocessed:
    :meth:`processed` applies their processing when the caller needs it (a column that
    never changes, already decoded once and kept, is not decoded again on every read).
    """

    def __init__(
        self, engine: Engine, statement: Select[Any], *, deferred: Collection[str] = ()
    ) -> None:
        self.engine = engine
        self.deferred = frozenset(deferred)
        dialect = engine.dialect
        compiled = statement.compile(dialect=dialect)
        for bind in compiled.binds.values():
            if bind.type.dialect_impl(dialect).bind_processor(dialect) is not None:
                raise ValueError(f"parameter {bind.key} needs processing; use the engine")
        self.sql = str(compiled)
        self.positions = compiled.positiontup if compiled.positional else None
        self.columns = list(statement.selected_columns)
        self.row_type = namedtuple("Row", [column.key for column in self.columns])  # type: ignore[misc]
        unknown = self.deferred - {column.key for column in self.columns}
        if unknown:
            raise ValueError(f"no column {sorted(unknown)} to defer")
        self._processors: list[tuple[int, Callable[[Any], Any]]] | None = None
        self._deferred_processors: dict[str, Callable[[Any], Any]] = {}

    def one_or_none(self, params: Mapping[str, Any]) -> Any | None:
        """The statement's one row for ``params`` (a named tuple), or None."""
        values = tuple(params[name] for name in self.positions) if self.positions else params
        connection = self.engine.raw_connection()  # the pool's: checked out, pinged, returned
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(self.sql, values)
                found = cursor.fetchone()
                processors = self._processors
                if processors is None:
                    processors = self._processors_for(cursor.description)
            finally:
                cursor.close()
        finally:
            connection.close()
        if found is None:
            return None
        row = list(found)
        for index, process in processors:
            row[index] = process(row[index])
        return self.row_type(*row)

    def _processors_for(self, description: Any) -> list[tuple[int, Callable[[Any], Any]]]:
        """Each column's result processing, given the driver's type codes (kept: a
        statement's columns keep their types)."""
        dialect = self.engine.dialect
        processors: list[tuple[int, Callable[[Any], Any]]] = []
        for index, (column, described) in enumerate(zip(self.columns, description, strict=True)):
            process = column.type.dialect_impl(dialect).result_processor(dialect, described[1])
            if process is None:
                continue
            if column.key in self.deferred:
                self._deferred_processors[column.key] = process
            else:
                processors.append((index, process))
        self._processors = processors
        return processors

    def processed(self, column: str, value: Any) -> Any:
        """``value``, read from the deferred ``column``, with the column's result processing
        applied (after a read: the processing depends on what the driver described)."""
        process = self._deferred_processors.get(column)
        return value if process is None else process(value)


def _sqlite_engine(url: str, pool: dict[str, int]) -> Engine:
    path = _sqlite_file(url)
    if path is not None:
        _create_owner_only(path)
    # A file database is pooled (an in-memory one keeps SQLAlchemy's one per thread).
    engine = create_engine(url, **(pool if path is not None else {}))

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()
        if path is not None:
            _restrict(path)  # SQLite gives -wal and -shm the database's mode; make sure

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get(READ_ONLY, False):
            # Straight to the driver: a plain BEGIN takes no lock and touches no file, and
            # SQLAlchemy's own execution path costs more than the read that follows.
            connection.connection.driver_connection.execute("BEGIN")  # type: ignore[union-attr]
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _use_wal(engine: Engine) -> None:
    """Put the database in WAL mode, once: the mode is kept in the file itself."""
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()
    finally:
        connection.close()


def _forget_in_forked_children(engine: Engine) -> None:
    """A forked child must not share its parent's pooled connections (SQLAlchemy's advice):
    the child drops the pool, without closing the parent's connections, and opens its own."""
    held = weakref.ref(engine)

    def forget() -> None:
        parents = held()
        if parents is not None:
            parents.dispose(close=False)

    os.register_at_fork(after_in_child=forget)


def _storage_full(context: ExceptionContext) -> Internal | None:
    """A write refused for want of space, as the internal error that says so."""
    error = context.original_exception
    full = (
        getattr(error, "sqlite_errorcode", None) == _SQLITE_FULL
        or getattr(error, "sqlstate", None) == _POSTGRES_DISK_FULL
    )
    # Not logged here: the loops that retry report it once a minute, a caller sees it.
    return Internal(STORAGE_FULL) if full else None


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
    """Bring the schema up to the newest revision (``conch db upgrade`` does the same)."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Held until this transaction ends: a second server waits, then finds it done.
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
        config = alembic_config(conn)
        if _made_before_alembic(conn):
            _finish_legacy_schema(conn)
            command.stamp(config, BASELINE)
        command.upgrade(config, "head")


def alembic_config(conn: Connection) -> Config:
    """Alembic's configuration, working on ``conn`` (in its transaction)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    return config


def schema_revision(engine: Engine) -> tuple[str | None, str]:
    """The database's revision, and the newest one this conch knows."""
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    return current, ScriptDirectory(str(MIGRATIONS)).get_current_head() or BASELINE


def _made_before_alembic(conn: Connection) -> bool:
    tables = inspect(conn).get_table_names()
    return LEGACY_VERSION_TABLE in tables and "alembic_version" not in tables


def _finish_legacy_schema(conn: Connection) -> None:
    """A database made before Alembic: its one late change (the index of 410-answered
    pushes) may be missing; after that it is the baseline, and its old version table goes."""
    for index in deliveries.indexes:
        if index.name == "ix_deliveries_gone":
            index.create(conn, checkfirst=True)
    conn.exec_driver_sql(f"DROP TABLE {LEGACY_VERSION_TABLE}")
