"""Alembic's environment for conch: migrations run on the connection conch hands over
(:func:`conch.store.db.migrate`), inside its transaction and under its lock."""

from __future__ import annotations

from alembic import context

from conch.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
