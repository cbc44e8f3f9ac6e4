"""The live API keeps the promises of its own OpenAPI document: schemathesis runs every
check it has (status codes, bodies, headers, content types, methods, bad and good input)
against every documented operation, and finds nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.dialects import chanjing_token, create_chanjing_key
from support.live import LiveConch

ROOT = Path(__file__).parents[2]
# No runners (nothing renders); failed credentials are part of the test, not an attack.
ENV = {"CONCH_WORKERS": "0", "CONCH_AUTH_FAILURE_LIMIT": "1000000"}
EXAMPLES = "10"
SEED = "20261203"
"""A fixed seed: every run sends the same requests, so a failure can be replayed."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveConch]:
    with LiveConch(tmp_path_factory.mktemp("openapi"), ENV) as live:
        yield live


def test_schemathesis_finds_no_failure(server: LiveConch, tmp_path: Path) -> None:
    key = server.create_key("schemathesis")
    token = chanjing_token(server, create_chanjing_key(server, "schemathesis"))["data"]
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file", str(ROOT / "schemathesis.toml"),
        "run", f"{server.base_url}/openapi.json",
        "--header", f"Authorization: Bearer {key}",
        "--checks", "all",
        "--max-examples", EXAMPLES,
        "--seed", SEED,
        "--no-color",
    ]  # fmt: skip
    env = {**os.environ, "CONCH_TEST_CHANJING_TOKEN": token["access_token"]}
    # from a folder of its own: schemathesis keeps a cache (.schemathesis/) where it runs
    result = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path
    )
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "failures" not in result.stdout.lower()
