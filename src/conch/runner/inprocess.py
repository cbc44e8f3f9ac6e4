"""The embedded engine in this process, with no server: :class:`LocalClient` offers the
SDK's calls over a data dir.

A task is submitted through :func:`conch.submission.submit` (the same checks a server
makes) by a local owner key, then this process claims that one task (fenced, like any
runner) and runs it. A task this process was stopped in the middle of goes back to the
queue: the next wait here, or a ``conch serve`` on the same data dir, runs it again.
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import anyio

from conch import cancellation
from conch.client.backoff import WAIT_TIMEOUT
from conch.client.common import request_from
from conch.client.composed import Composed
from conch.client.download import default_output, downloadable, part_path
from conch.client.effects import ByteProgress
from conch.client.errors import TaskFailed, WaitTimeout
from conch.client.flows import StatusListener
from conch.client.status import STATES, Failure, Page, State, Status, Video
from conch.config import Settings
from conch.domain.errors import ErrorCode, InvalidParams, NotFound
from conch.domain.ids import parse_id
from conch.domain.request import GenerationRequest
from conch.domain.task import Task
from conch.engines.relay.calls import RelayCall
from conch.runner.execute import Runner, execute
from conch.runner.worker import open_runner, sweep
from conch.services import Services
from conch.store.keys import ApiKey
from conch.store.relay_calls import RelayCallStore
from conch.store.tasks import Claim
from conch.submission import submit
from conch.wire.minimax import DIALECT

LOCAL_OWNER = "local (conch generate)"
"""The key that owns tasks submitted in-process; its secret is never shown or needed."""

POLL_INTERVAL = 0.25
"""Seconds between looks at a task this process runs or waits for."""


class LocalClient(Composed):
    """Submit, run and read tasks in this process, over the data dir in ``settings``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.services = Services.open(settings)
        self.owner = self._local_owner()
        self._stop = threading.Event()
        self._runner: Runner | None = None
        self._owners: dict[str, int] = {}  # task reference -> its owner, once found

    def __repr__(self) -> str:
        return f"LocalClient({str(self.settings.data_dir.resolve())!r})"

    # -- the calls ------------------------------------------------------------------------

    def submit(self, request: GenerationRequest | None = None, /, **fields: Any) -> str:
        """Check and store the task, queued; its id."""
        accept = partial(
            submit, self.services, self.owner, request_from(request, fields), dialect=DIALECT
        )
        return anyio.run(accept).task_id

    def status(self, task_id: str) -> Status:
        """The task's status now (any task in the data dir, whoever submitted it)."""
        return status_of(self._find(task_id))

    def relay_calls(self, task_id: str) -> list[RelayCall]:
        """The upstream calls the relay made for the task, for the operator's eyes: their
        reasons name upstreams and their refusals, which callers are never shown."""
        task = self._find(task_id)
        return RelayCallStore(self.services.tasks.engine).calls(task.id)

    def wait(
        self,
        task_id: str,
        *,
        timeout: float = WAIT_TIMEOUT,
        on_status: StatusListener | None = None,
    ) -> Status:
        """Run the task here (or wait while another runner has it) until it ends."""
        deadline = time.monotonic() + timeout
        while True:
            task = self._find(task_id)
            status = status_of(task)
            if on_status is not None:
                on_status(status)
            if status.state is State.SUCCEEDED:
                return status
            if status.state is State.FAILED:
                raise TaskFailed(status)
            if time.monotonic() >= deadline:
                raise WaitTimeout(task_id, timeout, status)
            if not self._run_once(task, deadline, on_status):
                time.sleep(POLL_INTERVAL)  # another runner holds it, or it is backing off

    def download(
        self,
        task: str | Status,
        output: str | Path | None = None,
        *,
        on_progress: ByteProgress | None = None,
    ) -> Video:
        """Copy a succeeded task's video to ``output`` (default ``<task_id>.mp4``)."""
        found = self._find(task.task_id if isinstance(task, Status) else task)
        status = downloadable(status_of(found))
        assert found.output is not None  # a succeeded task has its video
        record = self.services.tasks.file(found.owner_id, found.output.file_id)
        path = Path(output) if output is not None else default_output(status.task_id)
        part = part_path(path, status.task_id)
        self.services.media.copy_to(record.storage_key, part)
        part.replace(path)
        if on_progress is not None:
            on_progress(record.bytes, record.bytes)
        return Video(status.task_id, path, record.bytes, record.width, record.height)

    def tasks(self, limit: int = 20) -> list[Status]:
        """The data dir's latest tasks, whoever submitted them, newest first."""
        return self.list(limit).tasks

    def list(self, limit: int = 20, after: str | None = None) -> Page:
        """A page of the data dir's tasks, whoever submitted them, newest first."""
        before = parse_id(after) if after is not None else None
        if after is not None and before is None:
            raise InvalidParams(f"must be a task id (a page's next_after), got {after!r}")
        found = self.services.tasks.latest(None, limit=limit + 1, before=before)
        shown = [status_of(task) for task in found[:limit]]
        return Page(shown, shown[-1].task_id if len(found) > limit else None)

    def cancel(self, task_id: str) -> Status:
        """Cancel a queued or running task of the data dir, whoever submitted it; a runner
        rendering it (a server's, or another command's) stops at its next check."""
        task = self._find(task_id)
        return status_of(cancellation.cancel(self.services, task.owner_id, task.task_id))

    # -- running a task here --------------------------------------------------------------

    def _run_once(self, task: Task, deadline: float, on_status: StatusListener | None) -> bool:
        """Claim the task and run it to its end (or the deadline); False if not claimable."""
        runner = self._runner_here()
        sweep(runner)  # a run this process (or another) abandoned goes back to the queue
        claim = runner.store.claim(runner.name, self.settings.lease_seconds, task_id=task.id)
        if claim is None:
            return False
        finished = threading.Event()
        render = threading.Thread(
            target=_execute, args=(claim, runner, finished), name=f"task-{task.id}", daemon=True
        )
        # From the claim on, any way out gives the task back: even a Ctrl-C before the
        # render starts, or a second one while the first is being handled.
        try:
            render.start()
            # Finishing is watched through an Event, not Thread.join: a join interrupted by
            # Ctrl-C leaves is_alive() wrong on Python 3.11, and the render would be orphaned.
            while not finished.wait(POLL_INTERVAL):
                if on_status is not None:
                    on_status(self.status(task.task_id))
                if time.monotonic() >= deadline:
                    self._stop.set()  # the task goes back to the queue, unspent
        finally:
            if not finished.is_set():  # interrupted (Ctrl-C): hand the task back, then go
                self._hand_back(claim, runner, render, finished)
            self._stop.clear()
        return True

    def _hand_back(
        self, claim: Claim, runner: Runner, render: threading.Thread, finished: threading.Event
    ) -> None:
        """Stop the render and wait until it has given the task back to the queue, its
        attempt not counted. Ctrl-C is ignored meanwhile: leaving now would leave the task
        claimed until its lease ran out, and the attempt spent."""
        self._stop.set()
        told = False
        while True:
            try:
                if not told:
                    told = True
                    sys.stderr.write(f"\nhanding task {claim.task_id} back to the queue...\n")
                    sys.stderr.flush()
                if finished.wait(POLL_INTERVAL):
                    return  # the render released the task on its way out
                if not render.is_alive():  # interrupted before it began: release it here
                    runner.store.release(claim)
                    return
            except KeyboardInterrupt:
                continue

    def _runner_here(self) -> Runner:
        if self._runner is None:
            name = f"{socket.gethostname()}:{threading.get_native_id()}:cli"
            self._runner = open_runner(self.settings, name, self._stop)
        return self._runner

    def _find(self, reference: str) -> Task:
        """The task ``reference`` names, whoever owns it: one read once its owner is known
        (this process's tasks are tried first; the data dir's other keys after)."""
        known = self._owners.get(reference)
        if known is not None:
            return self.services.tasks.find(known, reference)
        for owner_id in self._owner_ids():
            try:
                task = self.services.tasks.find(owner_id, reference)
            except NotFound:
                continue
            self._owners[reference] = task.owner_id
            return task
        where = self.settings.data_dir.resolve()
        raise NotFound(f"no task {reference} in {where}", field="task_id")

    def _owner_ids(self) -> Iterator[int]:
        yield self.owner.id
        yield from (key.id for key in self.services.keys.list() if key.id != self.owner.id)

    def _local_owner(self) -> ApiKey:
        for key in self.services.keys.list():
            if key.name == LOCAL_OWNER and key.active:
                return key
        return self.services.keys.create(LOCAL_OWNER)[0]

    # -- lifetime -------------------------------------------------------------------------

    def close(self) -> None:
        if self._runner is not None:
            self._runner.close()
            self._runner.store.engine.dispose()
        self.services.close()

    def __enter__(self) -> LocalClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _execute(claim: Claim, runner: Runner, finished: threading.Event) -> None:
    try:
        execute(claim, runner)
    finally:
        finished.set()


def status_of(task: Task) -> Status:
    """A stored task as the SDK reports it."""
    output = task.output
    spec = task.spec
    return Status(
        task_id=task.task_id,
        state=STATES[task.status],
        provider_status=task.status.value,
        raw=task.to_json(),
        file_id=str(output.file_id) if output else None,
        width=output.width if output else None,
        height=output.height if output else None,
        progress=task.progress,
        failure=_failure(task) if task.failure_reason else None,
        model=spec.model,
        mode=spec.mode.value,
        prompt=spec.prompt,
        duration=spec.duration,
        resolution=spec.resolution.value,
        created_at=task.created_at,
    )


def _failure(task: Task) -> Failure:
    code = task.error_code
    known = {member.value for member in ErrorCode}
    reason = ErrorCode(code) if code is not None and code in known else None
    return Failure(task.failure_reason, reason, code)
