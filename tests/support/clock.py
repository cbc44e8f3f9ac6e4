"""A clock that moves only when the test advances it, for code that waits in threads.

Pass it where code takes a clock (``LeaseKeeper(..., clock=clock)``, ``TaskStore(...,
clock=clock)``). Threads that wait on it sleep until :meth:`ManualClock.advance` reaches
their deadline; ``advance`` returns once every thread it woke has done its work and is
waiting again (or has ended), so what the test checks next is settled, however loaded the
machine is.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial

_POLL = 0.005
"""Real seconds between looks at an event or a thread: how a wait notices ``Event.set``,
which cannot notify this clock's condition."""


class ManualClock:
    """Seconds that pass only in :meth:`advance`; starts at ``start`` (an epoch-like time,
    so that it also serves as a store's wall clock)."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start
        self._changed = threading.Condition()
        self._sleeping: dict[threading.Thread, float] = {}

    def __call__(self) -> float:
        with self._changed:
            return self._now

    def wait(self, event: threading.Event, seconds: float) -> bool:
        """Like ``event.wait(seconds)``, with the seconds on this clock."""
        me = threading.current_thread()
        with self._changed:
            deadline = self._now + seconds
            self._sleeping[me] = deadline
            self._changed.notify_all()
            try:
                while not event.is_set() and self._now < deadline:
                    self._changed.wait(_POLL)
            finally:
                del self._sleeping[me]
                self._changed.notify_all()
            return event.is_set()

    def wait_for_sleepers(self, count: int) -> None:
        """Block until ``count`` threads wait on this clock (a thread just started, say)."""
        with self._changed:
            self._until(lambda: len(self._sleeping) >= count)

    def advance(self, seconds: float) -> None:
        """Move time forward, waking each sleeper at its deadline in turn and letting it run
        until it waits again or ends."""
        with self._changed:
            target = self._now + seconds
            while due := [d for d in self._sleeping.values() if d <= target]:
                self._now = max(self._now, min(due))
                woken = [t for t, d in self._sleeping.items() if d <= self._now]
                self._changed.notify_all()
                self._until(partial(self._all_settled, woken))
            self._now = target

    def _all_settled(self, threads: list[threading.Thread]) -> bool:
        """Whether each of ``threads`` waits for a later time again, or has ended."""
        return all(
            self._sleeping.get(t, self._now) > self._now or not t.is_alive() for t in threads
        )

    def _until(self, done: Callable[[], bool]) -> None:
        # No give-up time of its own: a thread that never settles is pytest-timeout's to report.
        while not done():
            self._changed.wait(_POLL)
