"""The embedded pool: runner processes beside the API server, one per core by default.

Runners are separate processes (spawned, not forked: engines hold threads and native
state) that share the database and the media folder with the server. A runner that dies is
replaced, after a pause that grows while it keeps dying; its task's lease expires and the
task is swept back to the queue.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import socket
import threading
import time
from multiprocessing.context import SpawnProcess
from typing import Any

from conch.config import Settings
from conch.engines.registry import runner_count
from conch.runner.worker import worker_main

log = logging.getLogger(__name__)

_context = multiprocessing.get_context("spawn")

WATCH_SECONDS = 1.0
MAX_RESPAWN_DELAY = 60.0
STEADY_SECONDS = 60.0
"""A runner that lived this long before dying is not crash-looping: respawn at once."""


class LocalPool:
    """Starts, watches and stops the embedded runner processes."""

    def __init__(self, settings: Settings, size: int | None = None) -> None:
        self.settings = settings
        self.size = runner_count(settings) if size is None else size
        self.stop_event: Any = _context.Event()
        self.processes: dict[int, SpawnProcess] = {}
        self._started_at: dict[int, float] = {}
        self._delays: dict[int, float] = {}
        self._watching = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name="pool-watch", daemon=True)

    def start(self) -> None:
        for slot in range(self.size):
            self._spawn(slot)
        self._watcher.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask every runner to stop (running tasks go back to the queue), then wait."""
        self._watching.set()
        if self._watcher.is_alive():
            self._watcher.join()  # nothing is respawned from here on
        self.stop_event.set()
        deadline = time.monotonic() + timeout
        for process in self.processes.values():
            process.join(max(0.0, deadline - time.monotonic()))
        for process in self.processes.values():
            if process.is_alive():
                process.kill()
                process.join()

    def problem(self) -> str | None:
        """For readiness: None while every runner is alive (or none is asked for)."""
        dead = [slot for slot, process in self.processes.items() if not process.is_alive()]
        if self._watching.is_set():
            return "the runners are stopping"
        if dead:
            return f"runners {dead} of {self.size} are down (being replaced)"
        return None

    def _spawn(self, slot: int) -> None:
        name = f"{socket.gethostname()}:{os.getpid()}:runner-{slot}"
        process = _context.Process(
            target=worker_main,
            args=(self.settings, name, self.stop_event, os.getpid()),
            name=f"conch-runner-{slot}",
            daemon=True,
        )
        process.start()
        self.processes[slot] = process
        self._started_at[slot] = time.monotonic()

    def _watch(self) -> None:
        while not self._watching.wait(WATCH_SECONDS):
            for slot, process in list(self.processes.items()):
                if not process.is_alive():
                    self._replace(slot, process)

    def _replace(self, slot: int, process: SpawnProcess) -> None:
        lived = time.monotonic() - self._started_at[slot]
        delay = 0.0 if lived >= STEADY_SECONDS else self._delays.get(slot, 0.5) * 2
        self._delays[slot] = min(MAX_RESPAWN_DELAY, delay)
        log.warning(
            "runner %s exited with status %s after %.0f s; replacing it in %.1f s",
            slot,
            process.exitcode,
            lived,
            self._delays[slot],
        )
        if self._watching.wait(self._delays[slot]):
            return  # stopping: no replacement
        self._spawn(slot)
