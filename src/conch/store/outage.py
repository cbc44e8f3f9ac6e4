"""Riding out a storage outage: a database that is down or locked, a disk that is full.

A loop that meets one (a runner claiming tasks, the deliverer claiming pushes) keeps
running instead of dying: it waits longer between tries while the outage lasts (up to
:data:`MAX_DELAY`), and logs at most one line per :data:`REPORT_EVERY` seconds about it
(with the traceback when an outage starts), not one per try. When a try succeeds again,
the log says the outage is over.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError

from conch.domain.errors import Internal

STORAGE_ERRORS: tuple[type[Exception], ...] = (SQLAlchemyError, OSError, Internal)
"""What a storage outage raises: the database's errors, the file system's, and conch's own
internal error (the store raises it when the disk is full)."""

FIRST_DELAY = 0.5
MAX_DELAY = 30.0
REPORT_EVERY = 60.0


class Outage:
    """The failures of one loop's tries: how long to wait next, and what to log when."""

    def __init__(
        self,
        what: str,
        log: logging.Logger,
        *,
        first_delay: float = FIRST_DELAY,
        max_delay: float = MAX_DELAY,
        report_every: float = REPORT_EVERY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.what = what
        self.log = log
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.report_every = report_every
        self.clock = clock
        self.failures = 0
        self.since: float | None = None
        self._unreported = 0
        self._next_report = 0.0
        self._told = False  # whether the log has heard of the ongoing outage

    @property
    def ongoing(self) -> bool:
        return self.since is not None

    def failed(self, error: BaseException) -> float:
        """Note a failed try; the seconds to wait before the next one."""
        now = self.clock()
        if self.since is None:
            self.since = now
        self.failures += 1
        self._unreported += 1
        if now >= self._next_report:
            self._report(error, now)
        return self.delay

    @property
    def delay(self) -> float:
        """The wait before the next try: doubling with each failure, up to the maximum."""
        if not self.failures:
            return 0.0
        doublings = min(self.failures - 1, 32)  # past the maximum long before; no overflow
        return min(self.max_delay, self.first_delay * 2.0**doublings)

    def succeeded(self) -> None:
        """Note a try that worked: an ongoing outage is over."""
        if self.since is None:
            return
        if self._told:
            self.log.warning(
                "%s works again after %.0f s and %d failures",
                self.what,
                self.clock() - self.since,
                self.failures,
            )
        # The next report stays where it was: an outage that flickers is not logged more.
        self.since = None
        self.failures = 0
        self._told = False

    def _report(self, error: BaseException, now: float) -> None:
        if not self._told:
            self.log.error("%s failed; retrying with backoff", self.what, exc_info=error)
        else:
            self.log.error(
                "%s still failing after %.0f s (%d failures since the last report): %s: %s",
                self.what,
                now - (self.since or now),
                self._unreported,
                type(error).__name__,
                error,
            )
        self._unreported = 0
        self._next_report = now + self.report_every
        self._told = True
