"""`conch db status | upgrade`: what an operator of a fleet runs before starting a new
version's servers and workers on one PostgreSQL."""

from __future__ import annotations

import os
import subprocess

from conch.store.db import open_database, schema_revision
from support.live import CONCH


def _conch(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CONCH_DATABASE_URL": database_url}
    return subprocess.run([*CONCH, *args], capture_output=True, text=True, env=env, timeout=120)


def test_status_says_behind_until_upgrade_brings_the_schema_up(postgres_url: str) -> None:
    behind = _conch("db", "status", database_url=postgres_url)
    assert behind.returncode == 1 and "schema: none" in behind.stdout
    upgraded = _conch("db", "upgrade", database_url=postgres_url)
    assert upgraded.returncode == 0 and "upgraded the schema from nothing" in upgraded.stdout
    engine = open_database(postgres_url, upgrade=False)
    current, head = schema_revision(engine)
    engine.dispose()
    assert current == head
    assert _conch("db", "status", database_url=postgres_url).returncode == 0
    again = _conch("db", "upgrade", database_url=postgres_url)
    assert f"the schema is up to date ({head})" in again.stdout
