"""``conch db upgrade | status``: the database's schema, for operators of a fleet.

``conch serve`` upgrades the schema as it starts. With several servers and workers on one
PostgreSQL, run ``conch db upgrade`` once with the new version before starting them.
"""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import Engine

from conch.cli.options import data_dir_option, require_data_dir, settings_from
from conch.store.db import migrate, open_database, schema_revision


@click.group()
def db() -> None:
    """The database's schema (CONCH_DATABASE_URL, else SQLite in the data dir)."""


def _engine(data_dir: Path | None, *, create: bool) -> Engine:
    """The database, without upgrading it; SQLite's data dir is made only by ``create``."""
    settings = settings_from(data_dir=data_dir)
    if settings.database_url is None:
        if create:
            settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        else:
            require_data_dir(settings)
    return open_database(settings.database, upgrade=False)


@db.command("upgrade")
@data_dir_option
def upgrade(data_dir: Path | None) -> None:
    """Bring the schema up to this version of conch."""
    engine = _engine(data_dir, create=True)
    try:
        before, head = schema_revision(engine)
        migrate(engine)
        after, _ = schema_revision(engine)
    finally:
        engine.dispose()
    if before == after:
        click.echo(f"the schema is up to date ({after})")
    else:
        click.echo(f"upgraded the schema from {before or 'nothing'} to {after} (newest: {head})")


@db.command("status")
@data_dir_option
def status(data_dir: Path | None) -> None:
    """Say which revision the schema is at; exit 1 when it is behind this conch."""
    engine = _engine(data_dir, create=False)
    try:
        current, head = schema_revision(engine)
    finally:
        engine.dispose()
    click.echo(f"schema: {current or 'none'}; this conch: {head}")
    if current != head:
        raise click.exceptions.Exit(1)
