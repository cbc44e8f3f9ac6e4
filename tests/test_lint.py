"""The code stays clean: ruff (lint and format) and mypy (strict), as `make lint` runs them.

Part of the suite so that CI, which runs `make test`, holds every change to it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
BIN = Path(sys.executable).parent
SOURCES = ["src", "tests", "benchmarks"]


@pytest.mark.parametrize(
    "command",
    [
        [str(BIN / "ruff"), "check", *SOURCES],
        [str(BIN / "ruff"), "format", "--check", *SOURCES],
        [str(BIN / "mypy")],
    ],
    ids=["ruff check", "ruff format", "mypy"],
)
def test_clean(command: list[str]) -> None:
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
