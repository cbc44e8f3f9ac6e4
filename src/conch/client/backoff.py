"""How long to wait between polls, and between retries of a read that failed in passing."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Delays that start at ``first`` seconds and grow by ``factor`` up to ``ceiling``.

    Each delay is jittered by up to ``jitter`` (a fraction) so that many clients started
    together do not poll in step.
    """

    first: float = 1.0
    factor: float = 1.5
    ceiling: float = 15.0
    jitter: float = 0.1

    def delays(self) -> Iterator[float]:
        delay = self.first
        while True:
            yield delay * random.uniform(1 - self.jitter, 1 + self.jitter)
            delay = min(self.ceiling, delay * self.factor)


@dataclass(frozen=True)
class Retry:
    """How often a read (a poll, a link, a download) is tried before its error is raised."""

    attempts: int = 5
    backoff: Backoff = Backoff(first=0.5, factor=2.0, ceiling=8.0)


POLL = Backoff(first=1.0, factor=1.5, ceiling=15.0)
"""Polls start after a second and settle at 15 s: providers render for minutes, and their
own guides poll every 10-20 s."""

RETRY = Retry()

WAIT_TIMEOUT = 1800.0
"""Seconds :meth:`Client.wait` waits by default: half an hour, as long as providers take."""
