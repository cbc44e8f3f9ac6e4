"""Keeping a claim alive while a task runs, and letting go when the task stops moving."""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol

from conch.store.tasks import Claim, TaskStore

log = logging.getLogger(__name__)

EXIT_STUCK = 70
"""A runner process's exit status when a job stayed stuck after its lease was given up."""

HOLD_CHECK_INTERVAL = 0.5
"""Seconds between a job's looks at whether its claim still holds: a task cancelled (or
taken by another runner) stops within this of its next check, without waiting for the next
heartbeat."""


class StopSignal(Protocol):
    """A threading or multiprocessing Event: set when the runner should stop."""

    def is_set(self) -> bool: ...

    def set(self) -> None: ...

    def wait(self, timeout: float | None = None) -> bool: ...


class Clock(Protocol):
    """Seconds on a clock that only moves forward, and waiting measured on it.

    The real one is :data:`MONOTONIC`; a test passes one it advances itself, so that
    heartbeats, expiry and the stall watchdog run without the test sleeping.
    """

    def __call__(self) -> float: ...

    def wait(self, event: threading.Event, seconds: float) -> bool:
        """Block until ``event`` is set or ``seconds`` have passed; whether it is set."""
        ...


class _Monotonic:
    def __call__(self) -> float:
        return time.monotonic()

    def wait(self, event: threading.Event, seconds: float) -> bool:
        return event.wait(seconds)


MONOTONIC: Clock = _Monotonic()
"""The process's monotonic clock, waited on with ``Event.wait``."""


class LeaseLost(Exception):
    """The task is no longer this runner's: its lease was swept or another runner holds it."""


class Stopping(Exception):
    """The runner was asked to stop; the task goes back to the queue."""


@dataclass(frozen=True)
class LeaseTerms:
    """How a runner holds its claims."""

    lease_seconds: float
    stall_seconds: float
    exit_when_stuck: bool = False
    """Exit the process when a stalled job does not stop: right for a pool process, which
    its pool replaces; wrong for a command running one task in the caller's process."""


class LeaseKeeper:
    """Renews a claim's lease from a background thread every third of the lease.

    The renewing thread never touches the job; the job calls :meth:`check` (through its
    progress reports and between frames) and stops when the lease is gone or the runner is
    stopping. At most every :data:`HOLD_CHECK_INTERVAL` seconds a check also asks the store
    whether the claim still holds, so that a cancelled task stops at once.

    A job that has not checked in for ``stall_seconds`` is presumed hung (a
    deadlock in native code, say): the lease is no longer renewed, so the sweeper gives the
    task to another runner, and a pool process that stays stuck exits to be replaced.

    Every reading of the time and every wait goes through ``clock``.
    """

    def __init__(
        self,
        store: TaskStore,
        claim: Claim,
        terms: LeaseTerms,
        stop: StopSignal,
        *,
        clock: Clock = MONOTONIC,
    ) -> None:
        self.store = store
        self.claim = claim
        self.terms = terms
        self.stop = stop
        self.clock = clock
        self.lost = threading.Event()
        self.last_check = clock()
        self._held_at = self.last_check
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._renew, name="lease", daemon=True)

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._done.set()
        self._thread.join()

    def check(self) -> None:
        """The job is alive; raise if it should stop now."""
        now = self.last_check = self.clock()
        if self.lost.is_set():
            raise LeaseLost(f"task {self.claim.task_id} fence {self.claim.fence} lost its lease")
        if self.stop.is_set():
            raise Stopping(f"runner stopping during task {self.claim.task_id}")
        if now - self._held_at >= HOLD_CHECK_INTERVAL:
            self._held_at = now
            if not self._still_held():
                self.lost.set()
                raise LeaseLost(
                    f"task {self.claim.task_id} was taken from fence {self.claim.fence} "
                    "(cancelled, or claimed again)"
                )

    def _still_held(self) -> bool:
        try:
            return self.store.holds(self.claim.task_id, self.claim.fence)
        except Exception:  # a database hiccup: the heartbeats judge those
            return True

    def _renew(self) -> None:
        beat = self.terms.lease_seconds / 3
        failing_since: float | None = None
        while not self.clock.wait(self._done, beat):
            if self.clock() - self.last_check > self.terms.stall_seconds:
                self._give_up_stalled()
                return
            try:
                renewed = self.store.heartbeat(self.claim, self.terms.lease_seconds)
            except Exception:
                # A database hiccup: the lease has slack for a few missed beats, no more.
                if failing_since is None:  # (not ``or``: a test's clock may start at 0)
                    failing_since = self.clock()
                if self.clock() - failing_since > self.terms.lease_seconds:
                    log.warning("task %s: heartbeats keep failing", self.claim.task_id)
                    self.lost.set()
                    return
                continue
            failing_since = None
            if not renewed:
                self.lost.set()
                return

    def _give_up_stalled(self) -> None:
        stalled = self.terms.stall_seconds
        log.error("task %s made no progress for %.0f s: giving it up", self.claim.task_id, stalled)
        self.lost.set()
        if self.terms.exit_when_stuck and not self.clock.wait(self._done, stalled):
            log.critical("task %s is still stuck: this runner process exits", self.claim.task_id)
            os._exit(EXIT_STUCK)
