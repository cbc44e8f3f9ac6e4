"""Failed authentications, limited per client address.

An address that fails ``limit`` checks within ``window`` seconds is refused, with the
dialect's rate-limit error, until the oldest of those failures leaves the window: a guessed
key costs the guesser time, not the server. The count is kept per server process.
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable

from conch.config import Settings
from conch.domain.errors import RateLimited


class FailedAuthLimit:
    """Counts failed credential checks per client address."""

    def __init__(
        self, limit: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._failures: defaultdict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> FailedAuthLimit:
        return cls(settings.auth_failure_limit, settings.auth_failure_window)

    def check(self, address: str) -> None:
        """RateLimited when ``address`` has failed too often lately."""
        with self._lock:
            recent = self._recent(address)
            if len(recent) < self.limit:
                return
            wait = recent[0] + self.window - self.clock()
        raise RateLimited(
            f"too many failed authentications from {address} ({self.limit} in "
            f"{self.window:g} s); retry in {math.ceil(wait)} s",
            retry_after=wait,
        )

    def failed(self, address: str) -> None:
        """Count one failed check by ``address``."""
        with self._lock:
            self._recent(address).append(self.clock())

    def _recent(self, address: str) -> deque[float]:
        recent = self._failures[address]
        horizon = self.clock() - self.window
        while recent and recent[0] <= horizon:
            recent.popleft()
        if not recent:
            del self._failures[address]  # forget quiet addresses
            recent = self._failures[address]
        return recent
