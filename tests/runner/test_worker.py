"""A runner process's loop, driven in this process against a database that is not there."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest

from conch.config import Settings
from conch.runner.worker import open_runner, run_until_stopped


class StopAfter(threading.Event):
    """The runner's stop signal: records each wait the loop asks for, without waiting, and
    is set once the loop has asked ``count`` times."""

    def __init__(self, count: int) -> None:
        super().__init__()
        self.count = count
        self.waits: list[float | None] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout)
        if len(self.waits) >= self.count:
            self.set()
        return self.is_set()


def test_a_runner_backs_off_while_the_database_fails_and_logs_it_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The database's folder does not exist: every connection attempt fails.
    missing = tmp_path / "gone" / "conch.db"
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{missing}")
    stop = StopAfter(8)
    runner = open_runner(settings, "test-runner", stop)
    with caplog.at_level(logging.INFO, logger="conch.runner"):
        run_until_stopped(runner)  # returns once stopped: no failure escapes the loop
    assert stop.waits == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in errors] == ["runner test-runner failed; retrying with backoff"]
    assert "unable to open database file" in caplog.text  # the traceback says why
