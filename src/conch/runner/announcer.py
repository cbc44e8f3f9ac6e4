"""The announcer: a thread of ``conch serve`` that tells the broker which tasks are ready.

With ``CONCH_BROKER_URL`` set, the server runs no embedded runners (unless
``CONCH_WORKERS`` asks for some); ``conch worker`` processes run the tasks. The announcer
is what feeds them. Every ``CONCH_ANNOUNCE_INTERVAL`` seconds, and at once when a task is
submitted here, it

- sweeps expired leases back to the queue, as every embedded runner does (a killed worker's
  task is queued again, owing a new announcement), and removes the files of claims that
  are gone;
- takes the queued tasks owed an announcement (:mod:`conch.store.ready`) and publishes
  "task N is ready" for each on its model's queue (:mod:`conch.runner.fleet`).

A broker that is down delays tasks and loses none: submits keep working (they only write
the task), the owed tasks stay owed, and the announcer backs off (capped) and logs the
outage once a minute. A database outage is ridden out the same way.
"""

from __future__ import annotations

import logging
import threading
import time

from celery import Celery

from conch.config import Settings
from conch.media.storage import MediaStore
from conch.runner.fleet import announce, broker_display
from conch.runner.worker import sweep_stores
from conch.store.outage import STORAGE_ERRORS, Outage
from conch.store.ready import Ready, take_owed, unmark
from conch.store.tasks import TaskStore

log = logging.getLogger(__name__)

BATCH = 200
"""Tasks taken from the outbox at a time."""
MAX_DELAY = 10.0
"""The longest wait between tries while the broker (or the database) is down: a broker
back up is used again within this."""


class Announcer:
    """Sweeps leases and announces ready tasks until stopped, in its own thread."""

    def __init__(
        self, settings: Settings, store: TaskStore, media: MediaStore, app: Celery
    ) -> None:
        self.settings = settings
        self.store = store
        self.media = media
        self.app = app
        where = broker_display(settings)  # its password masked
        self.broker = Outage(f"announcing to the broker at {where}", log, max_delay=MAX_DELAY)
        self.database = Outage("the announcer's database work", log, max_delay=MAX_DELAY)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="conch-announcer", daemon=True)
        store.created.append(self._on_created)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the current round; owed tasks stay owed for the next server."""
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def wake(self) -> None:
        """Look for owed tasks now rather than at the next interval."""
        self._wake.set()

    def _on_created(self, _task: object) -> None:
        self.wake()

    def _run(self) -> None:
        sweep_every = min(self.settings.lease_seconds / 2, self.settings.announce_interval * 5)
        next_sweep = 0.0
        while not self._stopping.is_set():
            # Cleared before the round, not after the wait: a submit that wakes it during
            # the round makes the next wait return at once instead of being forgotten.
            self._wake.clear()
            if time.monotonic() >= next_sweep:
                next_sweep = time.monotonic() + (self._sweep() or sweep_every)
            delay = self._announce_owed()
            self._wake.wait(delay)

    def _sweep(self) -> float:
        """One sweep; 0 when it worked, else the wait before the next try."""
        try:
            sweep_stores(self.store, self.media, self.settings)
        except STORAGE_ERRORS as error:
            return self.database.failed(error)
        self.database.succeeded()
        return 0.0

    def _announce_owed(self) -> float:
        """Announce every owed task; the wait before the next round."""
        settings = self.settings
        while not self._stopping.is_set():
            now = time.time()
            try:
                owed = take_owed(
                    self.store.engine,
                    now=now,
                    again_after=settings.announce_again_after,
                    limit=BATCH,
                )
            except STORAGE_ERRORS as error:
                return self.database.failed(error)
            if not owed:
                break
            try:
                self._publish(owed, now)
            except Exception as error:  # the broker is down or refused: try again later
                return self.broker.failed(error)
            self.broker.succeeded()
            if len(owed) < BATCH:
                break
        return settings.announce_interval

    def _publish(self, owed: list[Ready], marked_at: float) -> None:
        for index, ready in enumerate(owed):
            try:
                announce(self.app, self.settings, ready.task_id, ready.model)
            except Exception:
                unsent = [later.task_id for later in owed[index:]]
                try:
                    unmark(self.store.engine, unsent, announced_at=marked_at)
                except STORAGE_ERRORS:  # they are owed again after announce_again_after
                    log.warning("could not mark %d unsent announcements as owed", len(unsent))
                raise
