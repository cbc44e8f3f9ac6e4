"""A runner process's loop: sweep expired leases, claim the oldest ready task, run it.

When the database or the disk fails (it is down, locked, or full), the loop does not end:
the process would only be replaced, reload its engines and fail again. It waits instead,
longer while the failure lasts, and logs it once a minute (:class:`Outage`).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time

from conch import logs
from conch.config import Settings
from conch.engines.relay.reconcile import reconcile
from conch.engines.relay.upstreams import RELAY
from conch.media.storage import MediaStore
from conch.media.stores import open_media
from conch.runner.execute import Runner, execute
from conch.runner.lease import StopSignal
from conch.runner.relays import RelayThreads, relay_threads
from conch.store.db import open_database
from conch.store.outage import STORAGE_ERRORS, Outage
from conch.store.relay_calls import RelayCallStore
from conch.store.tasks import TaskStore

log = logging.getLogger(__name__)


def open_runner(settings: Settings, name: str, stop: StopSignal | None = None) -> Runner:
    """A runner on the shared database and media store."""
    engine = open_database(settings.database, upgrade=False)
    media = open_media(settings)
    # A runner's status changes write callback pushes; the server's deliverer sends them.
    store = TaskStore(engine)
    return Runner(settings, store, media, name, stop or threading.Event())


def run_until_stopped(runner: Runner, *, parent_pid: int | None = None) -> None:
    """Claim and run tasks until ``runner.stop`` is set or the parent process is gone."""
    outage = Outage(f"runner {runner.name}", log)
    sweep_every = runner.settings.lease_seconds / 2
    next_sweep = 0.0
    relays = relay_threads(runner)
    try:
        while not runner.stop.is_set() and _parent_alive(parent_pid):
            try:
                if time.monotonic() >= next_sweep:
                    sweep(runner)
                    next_sweep = time.monotonic() + sweep_every
                ran = _run_next(runner, relays)
            except STORAGE_ERRORS as error:
                runner.stop.wait(outage.failed(error))
                continue
            outage.succeeded()
            if not ran:
                runner.stop.wait(runner.settings.poll_interval)
    finally:
        if relays is not None:
            runner.stop.set()  # the relays' waits end, and each gives its task back
            relays.join(timeout=runner.settings.lease_seconds)


def _run_next(runner: Runner, relays: RelayThreads | None = None) -> bool:
    """Claim the oldest ready task and run it (a relayed one on a thread of its own);
    False when none is ready."""
    skip = relays.models if relays is not None and relays.full() else frozenset()
    claim = runner.store.claim(runner.name, runner.settings.lease_seconds, skip_models=skip)
    if claim is None:
        return False
    log.info("%s runs task %s (attempt %s)", runner.name, claim.task_id, claim.task.attempts)
    if relays is not None and relays.relays(claim):
        relays.start(claim)
    else:
        execute(claim, runner)
    return True


def sweep(runner: Runner) -> None:
    """Requeue tasks whose runner went silent; delete files of claims that are gone: renders
    left half-way, and videos published by a runner that died before recording them; and
    input files a writer left half-written."""
    sweep_stores(runner.store, runner.media, runner.settings)
    reconcile_relays(runner)


def sweep_stores(store: TaskStore, media: MediaStore, settings: Settings) -> None:
    """:func:`sweep` over a store and media of one's own (the fleet's announcer runs it)."""
    media.sweep_partial_files()  # first: on a full disk, what it frees helps the rest
    store.sweep(max_attempts=settings.max_attempts)
    media.sweep_claims(store.holds, store.recorded)


RECONCILED_PER_SWEEP = 20
"""Ended tasks' upstream calls one sweep looks at (each a status call, rarely a download)."""


def reconcile_relays(runner: Runner) -> int:
    """Look at upstream tasks whose conch task has ended (engines/relay/reconcile.py);
    how many were looked at."""
    if not any(route.engine == RELAY for route in runner.settings.models.values()):
        return 0
    engine = runner.relay_engine()
    due = RelayCallStore(runner.store.engine).due(engine.parts.now(), RECONCILED_PER_SWEEP)
    for call in due:
        reconcile(engine.parts, call, runner.store.by_id(call.task_id))
    return len(due)


def _parent_alive(parent_pid: int | None) -> bool:
    # An orphaned runner (its server was killed) stops instead of running on unsupervised.
    return parent_pid is None or os.getppid() == parent_pid


def worker_main(settings: Settings, name: str, stop: StopSignal, parent_pid: int) -> None:
    """Entry point of an embedded pool process."""
    # Ctrl-C reaches the whole process group; the server decides how its runners stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logs.configure(name, settings.log_format)
    runner = open_runner(settings, name, stop)
    runner.exit_when_stuck = True  # the pool replaces a process that exits
    try:
        run_until_stopped(runner, parent_pid=parent_pid)
    finally:
        runner.close()
