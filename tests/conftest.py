"""Shared fixtures: real services (PostgreSQL) when reachable, and settings isolation.

A test that needs a service runs against the real one. When it is unreachable the test
fails under CI=true, and otherwise is skipped with a loud reason.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterator

import pytest

POSTGRES_URL = os.environ.get(
    "CONCH_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(autouse=True)
def _no_ambient_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Settings built in tests read only what the test gives: no CONCH_* from the shell that
    runs the suite, and no conch.toml from its working directory."""
    for name in list(os.environ):
        if name.startswith("CONCH_") and not name.startswith("CONCH_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CONCH_CONFIG", str(tmp_path_factory.getbasetemp() / "no-conch.toml"))


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Fail (under CI) or skip loudly when a service the test needs is down."""
    if _reachable(host, port):
        return
    reason = f"{name} is not reachable at {host}:{port}; start it to run this test"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and {reason}")
    pytest.skip(f"SKIPPED LOUDLY: {reason}")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    require_service("PostgreSQL", "127.0.0.1", 5432)
    import sqlalchemy as sa

    schema = f"conch_test_{secrets.token_hex(4)}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:  # type: ignore[no-untyped-def]
    """Each store test runs on SQLite and on the real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'conch.db'}"
    return str(request.getfixturevalue("postgres_url"))
