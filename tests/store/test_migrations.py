"""The schema is Alembic's: a new database is built by the migrations and matches the
tables conch declares; a database made before Alembic, or at an older revision, is brought
up to date and keeps its tasks."""

from __future__ import annotations

import uuid

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, create_engine, insert, inspect, text

from conch.domain.ids import new_id
from conch.store.db import BASELINE, alembic_config, open_database, schema_revision
from conch.store.keys import KeyStore
from conch.store.tables import metadata
from conch.store.tasks import TaskStore
from support.tasks import text_spec


def test_a_new_database_is_the_declared_schema_at_the_newest_revision(database_url: str) -> None:
    engine = open_database(database_url)
    current, head = schema_revision(engine)
    assert current == head
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    engine.dispose()


def _a_database_at_the_baseline_with_a_task(url: str) -> int:
    """Rows written as the baseline's tables hold them (today's stores write newer columns)."""
    raw = create_engine(url)
    with raw.begin() as conn:
        command.upgrade(alembic_config(conn), BASELINE)
        old = MetaData()
        old.reflect(conn, only=["api_keys", "tasks"])
        key = {"name": "owner", "key_hash": "0" * 64, "prefix": "sk-conch-old", "created_at": 1.0}
        owner = conn.execute(insert(old.tables["api_keys"]).values(key)).inserted_primary_key[0]
        task_id = new_id()
        spec = text_spec()
        conn.execute(
            insert(old.tables["tasks"]).values(
                id=task_id, uuid=str(uuid.uuid4()), owner_id=owner, dialect="minimax",
                status="queued", model=spec.model, mode=spec.mode.value, spec=spec.to_json(),
                inputs={}, created_at=1.0, updated_at=1.0, available_at=1.0, attempts=0,
                fence=0, progress=0.0,
            )
        )  # fmt: skip
    raw.dispose()
    return task_id


def test_a_database_at_an_older_revision_is_upgraded_and_keeps_its_tasks(
    database_url: str,
) -> None:
    task_id = _a_database_at_the_baseline_with_a_task(database_url)
    engine = open_database(database_url)
    current, head = schema_revision(engine)
    assert current == head
    owner = KeyStore(engine).list()[0].id
    assert TaskStore(engine).get(owner, task_id).spec == text_spec()
    engine.dispose()


def test_a_database_made_before_alembic_is_taken_over(database_url: str) -> None:
    task_id = _a_database_at_the_baseline_with_a_task(database_url)
    raw = create_engine(database_url)
    with raw.begin() as conn:  # as conch left it before Alembic: its own version table
        conn.execute(text("DROP TABLE alembic_version"))
        conn.execute(text("DROP INDEX ix_deliveries_gone"))
        conn.execute(text("CREATE TABLE schema_version (version INTEGER PRIMARY KEY)"))
    raw.dispose()
    engine = open_database(database_url)
    current, head = schema_revision(engine)
    tables = inspect(engine).get_table_names()
    indexes = {index["name"] for index in inspect(engine).get_indexes("deliveries")}
    assert (current, "schema_version" in tables) == (head, False)
    assert "ix_deliveries_gone" in indexes
    owner = KeyStore(engine).list()[0].id
    assert TaskStore(engine).get(owner, task_id).id == task_id
    engine.dispose()
