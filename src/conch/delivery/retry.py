"""When a failed push is tried again: exponential backoff with full jitter, within a window.

After the n-th failed attempt the next one waits a random time between 0 and
``min(max_delay, base * 2**(n-1))`` ("full jitter": receivers coming back from an outage
are not hit by every sender at the same instant). A draw that would land after the window
(``window`` seconds from the status change that caused the push) is moved to the window's
end, so the window is used to its last second; a push that fails at or after that end is
given up.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from conch.config import Settings


@dataclass(frozen=True)
class RetryPolicy:
    """How long and how often a push is retried."""

    window: float
    base: float
    max_delay: float

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(
            window=settings.callback_retry_window,
            base=settings.callback_retry_base,
            max_delay=settings.callback_retry_max_delay,
        )

    def next_attempt(self, created_at: float, failures: int, now: float) -> float | None:
        """When to try again after ``failures`` failed attempts; None once out of time."""
        end = created_at + self.window
        if now >= end:
            return None
        ceiling = min(self.max_delay, self.base * 2 ** max(0, failures - 1))
        return min(now + random.uniform(0, ceiling), end)
