"""Relayed tasks run on threads of their own, many at once, beside a runner's loop.

A relayed task mostly waits: for the upstream's create, between polls, for its download.
Holding a whole runner process for each would leave a gateway with as many tasks in flight
as it has cores; here one process follows up to ``relay_concurrency`` relays, each on its own
thread running the same :func:`execute` (lease, fence, retry policy and all), while the
runner's loop goes on claiming. When every thread is busy, the loop claims only tasks of
other engines.
"""

from __future__ import annotations

import logging
import threading

from conch.engines.relay.upstreams import RELAY
from conch.runner.execute import Runner, execute
from conch.store.tasks import Claim

log = logging.getLogger(__name__)


class RelayThreads:
    """The threads a runner runs its relayed tasks on."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.size = runner.settings.relay_concurrency
        self.models = frozenset(
            model for model, route in runner.settings.models.items() if route.engine == RELAY
        )
        self._threads: set[threading.Thread] = set()
        self._lock = threading.Lock()

    def full(self) -> bool:
        with self._lock:
            return len(self._threads) >= self.size

    def relays(self, claim: Claim) -> bool:
        """Whether ``claim`` is a relayed task's (to be started here, not run inline)."""
        return claim.task.model in self.models

    def start(self, claim: Claim) -> None:
        thread = threading.Thread(
            target=self._run, args=(claim,), name=f"relay-{claim.task_id}", daemon=True
        )
        with self._lock:
            self._threads.add(thread)
        thread.start()

    def _run(self, claim: Claim) -> None:
        try:
            execute(claim, self.runner)
        except Exception:  # execute ends every task itself; a database failure lands here
            log.exception("relayed task %s stopped", claim.task_id)
        finally:
            with self._lock:
                self._threads.discard(threading.current_thread())

    def join(self, timeout: float) -> None:
        """Wait for the threads (stopping: each releases its task) up to ``timeout`` s."""
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)


def relay_threads(runner: Runner) -> RelayThreads | None:
    """The runner's relay threads, when any model is relayed."""
    if any(route.engine == RELAY for route in runner.settings.models.values()):
        return RelayThreads(runner)
    return None
