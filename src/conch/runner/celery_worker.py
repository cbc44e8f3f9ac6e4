"""The Celery task body of ``conch worker``: claim the announced task, run :func:`execute`.

There is no second way to run a task. The message says only "task N is ready"; the worker
claims task N with the same fenced :meth:`TaskStore.claim` the embedded runners use, and
hands the claim to the same :func:`~conch.runner.execute.execute`. A claim that finds
nothing (a duplicate delivery, a task already claimed, cancelled, ended, or backing off
before a retry) means there is nothing to do: the message is acknowledged and dropped.

Each worker process (a prefork child) opens its own runner on first use, after the fork:
its database connections, its media store, and the engines it loads, which it keeps
between tasks. A relayed task mostly waits on its upstream, so the worker hands it to the
runner's relay threads (:mod:`conch.runner.relays`, up to ``relay_concurrency`` at once)
and takes the next message: a relay does not hold a worker slot. Should the process die,
the task's lease runs out, the sweep queues it again, and the relay resumes from the
upstream id it stored. After a task (at most every half lease) it also makes the runners' sweep,
which removes what a killed render left in this machine's staging folder.
"""

from __future__ import annotations

import logging
import os
import threading
import time

from celery import Celery

from conch.config import Settings
from conch.domain.task import TaskStatus
from conch.runner.execute import Runner, execute
from conch.runner.fleet import READY_TASK
from conch.runner.relays import RelayThreads, relay_threads
from conch.runner.worker import open_runner, sweep
from conch.store.outage import STORAGE_ERRORS

log = logging.getLogger(__name__)

_lock = threading.Lock()
_runners: dict[int, Runner] = {}
"""This process's runner, by process id (a forked child never uses its parent's)."""
_relays: dict[int, RelayThreads | None] = {}
"""This process's relay threads, by process id (None when no model is relayed)."""
_next_sweep: dict[int, float] = {}


def register(app: Celery, settings: Settings, name: str, *, exit_when_stuck: bool) -> None:
    """Give ``app`` the ready task, run by runners named ``name`` under ``settings``."""

    @app.task(name=READY_TASK, ignore_result=True)  # type: ignore[untyped-decorator]
    def ready(task_id: int) -> str | None:
        runner = runner_here(settings, name, exit_when_stuck)
        status = run_ready(runner, int(task_id), _relays.get(os.getpid()))
        return None if status is None else status.value


def runner_here(settings: Settings, name: str, exit_when_stuck: bool) -> Runner:
    """This process's runner, opened on first use and kept (with the engines it loads)."""
    pid = os.getpid()
    with _lock:
        runner = _runners.get(pid)
        if runner is None:
            runner = open_runner(settings, f"{name}:{pid}")
            runner.exit_when_stuck = exit_when_stuck
            _runners.clear()  # a parent's runner, inherited through fork, is not ours
            _relays.clear()
            _runners[pid] = runner
            _relays[pid] = relay_threads(runner)
        return runner


def run_ready(
    runner: Runner, task_id: int, relays: RelayThreads | None = None
) -> TaskStatus | None:
    """Claim task ``task_id`` and run it; its final status, or None when there was nothing
    to run (or it was taken away mid-run, or handed to a relay thread of ``relays``)."""
    try:
        claim = runner.store.claim(runner.name, runner.settings.lease_seconds, task_id=task_id)
        if claim is None:
            log.info("task %s is not ready to run (claimed, ended or backing off)", task_id)
            return None
        log.info("%s runs task %s (attempt %s)", runner.name, claim.task_id, claim.task.attempts)
        if relays is not None and relays.relays(claim) and not relays.full():
            relays.start(claim)  # followed on a thread; all threads busy: followed here
            return None
        return execute(claim, runner)
    finally:
        _sweep_when_due(runner)  # after the task: never in the way of a claim


def _sweep_when_due(runner: Runner) -> None:
    """After a task, at most every half lease: the sweep the embedded runners make, which
    on this machine also removes what a killed render left in its local staging folder."""
    now = time.monotonic()
    if now < _next_sweep.get(os.getpid(), 0.0):
        return
    _next_sweep[os.getpid()] = now + runner.settings.lease_seconds / 2
    try:
        sweep(runner)
    except STORAGE_ERRORS as error:  # the claim that follows meets it too, and says so
        log.warning("the sweep before a task failed: %s: %s", type(error).__name__, error)


def close_runners() -> None:
    """Close this process's runner and its engines (at the process's end)."""
    with _lock:
        for pid, runner in _runners.items():
            relays = _relays.get(pid)
            if relays is not None:
                runner.stop.set()  # each relay gives its task back
                relays.join(timeout=runner.settings.lease_seconds)
            runner.close()
        _runners.clear()
        _relays.clear()
