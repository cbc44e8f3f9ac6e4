"""TaskStore: the task table's only writer.

A runner *claims* the oldest ready task: the claim bumps the task's ``fence`` and grants a
lease. Every later write by that runner names the fence and succeeds only while the fence
is current and the task still running, so a runner whose lease was swept away (it stalled,
or a duplicate delivery ran the task too) can change nothing. :meth:`TaskStore.sweep` puts
tasks with expired leases back in the queue, until their attempts run out.

Every status change writes the callback push it causes (:mod:`conch.store.pushes`), settles
the task's reservation of video-seconds when it ends (:mod:`conch.store.ledger`), and runs
any further transition hooks, inside the same transaction, so what they write commits or
rolls back with the change itself. A creation may also be refused inside its transaction
(``admit``: the limits and the balance a submit is held to).

An owner may *cancel* a task that has not ended (:meth:`TaskStore.cancel`): a queued one never
starts, and a running one is taken from its runner by bumping the fence, so that its
runner's next write fails and it stops. An owner may *delete* a task: it is cancelled first
if it still runs, its file records go, and it is marked deleted, kept for its pushes and
history but found by no caller again.
"""

from __future__ import annotations

import dataclasses
import random
import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Row,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from conch.domain.errors import ErrorCode, InvalidParams, NotFound
from conch.domain.ids import new_id, parse_id
from conch.domain.request import ImageRole, TaskSpec
from conch.domain.task import CANCELLED_REASON, StoredImage, Task, TaskOutput, TaskStatus
from conch.store.db import PreparedRead, reader
from conch.store.ledger import settle
from conch.store.pushes import record_push
from conch.store.tables import files, tasks

TransitionHook = Callable[[Connection, Task], None]
"""Called with the task as it is after a status change, inside the changing transaction."""

_RUNNING = [s.value for s in TaskStatus if s.is_running]
_UNFINISHED = [s.value for s in TaskStatus if not s.is_terminal]
_SHOWN = tasks.c.deleted_at.is_(None)
"""Tasks a caller may see: every one its owner has not deleted."""
# The queries behind every status poll, built once: building one costs more than running it.
_OWN_TASK = select(tasks).where(tasks.c.owner_id == bindparam("owner_id"), _SHOWN)
_OWN_TASK_BY_ID = _OWN_TASK.where(tasks.c.id == bindparam("reference"))
_OWN_TASK_BY_UUID = _OWN_TASK.where(tasks.c.uuid == bindparam("reference"))
_FIXED = ("spec", "inputs")
"""The columns a task is created with and that never change: decoded once a task."""
DECODED_KEPT = 10_000
"""Tasks whose decoded spec and inputs the status polls keep; the oldest is dropped first."""
_OUTPUT_FILENAME = "output_aigc.mp4"
_OUTPUT_PURPOSE = "video_generation"


@dataclass(frozen=True)
class Claim:
    """A runner's hold on a task: the task as claimed and the fence to write with."""

    task: Task
    fence: int

    @property
    def task_id(self) -> int:
        return self.task.id


@dataclass(frozen=True)
class NewFile:
    """A finished video, already stored under ``storage_key``."""

    storage_key: str
    bytes: int
    width: int
    height: int
    audio_channels: int = 0
    """The video's sound channels (0: silent)."""
    seconds: int | None = None
    """Whole seconds of video delivered (a started second counts); what a success charges."""


@dataclass(frozen=True)
class FileRecord:
    """A stored file as the files endpoints describe it."""

    id: int
    owner_id: int
    task_id: int
    storage_key: str
    filename: str
    purpose: str
    bytes: int
    width: int
    height: int
    created_at: float
    audio_channels: int = 0


class TaskStore:
    """Creates, reads and (fenced) writes tasks; the files their runs produce."""

    def __init__(self, engine: Engine, *, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.reads = reader(engine)
        self.clock = clock
        self.hooks: list[TransitionHook] = []
        self.created: list[Callable[[Task], None]] = []
        """Called with each new task once its transaction has committed (the announcer
        wakes on it, so a ready task is announced at once rather than at its next look)."""
        self._by_id = PreparedRead(engine, _OWN_TASK_BY_ID, deferred=_FIXED)
        self._by_uuid = PreparedRead(engine, _OWN_TASK_BY_UUID, deferred=_FIXED)
        # Each polled task's spec and inputs, decoded once: they never change after creation
        # (both are frozen values; each Task gets its own inputs dict).
        self._decoded: dict[int, tuple[TaskSpec, dict[ImageRole, StoredImage]]] = {}
        self._decoded_lock = threading.Lock()

    # -- callers ------------------------------------------------------------------------

    def create(
        self,
        *,
        task_id: int,
        owner_id: int,
        dialect: str,
        spec: TaskSpec,
        inputs: Mapping[ImageRole, StoredImage],
        trace_id: str | None = None,
        admit: TransitionHook | None = None,
    ) -> Task:
        """Store an accepted task, queued. ``task_id`` comes from :func:`new_id`.

        ``admit`` sees the new task inside the creating transaction and may refuse it by
        raising (nothing is then stored). ``trace_id`` is the submit's, for the runner's logs.
        """
        now = self.clock()
        values = {
            "id": task_id,
            "uuid": str(uuid.uuid4()),
            "owner_id": owner_id,
            "dialect": dialect,
            "status": TaskStatus.QUEUED.value,
            "model": spec.model,
            "mode": spec.mode.value,
            "spec": spec.to_json(),
            "inputs": {role.value: dataclasses.asdict(image) for role, image in inputs.items()},
            "created_at": now,
            "updated_at": now,
            "available_at": now,
            "attempts": 0,
            "fence": 0,
            "progress": 0.0,
            "trace_id": trace_id,
        }
        with self.engine.begin() as conn:
            row = conn.execute(insert(tasks).values(values).returning(*tasks.c)).one()
            task = _task(row)
            if admit is not None:
                admit(conn, task)
            self._run_hooks(conn, task)
        for listener in self.created:
            listener(task)
        return task

    def get(self, owner_id: int, task_id: int) -> Task:
        """The caller's task ``task_id``; NotFound for anyone else's."""
        return self._one(self._by_id, owner_id, task_id, str(task_id))

    def find(self, owner_id: int, reference: str) -> Task:
        """A task by its numeric id or its uuid, whichever ``reference`` is."""
        reference = reference.strip()
        if not reference:
            raise InvalidParams("is required", field="task_id")
        task_id = parse_id(reference)
        if task_id is not None:
            return self.get(owner_id, task_id)
        return self._one(self._by_uuid, owner_id, reference, reference)

    def latest(self, owner_id: int | None, *, limit: int, before: int | None = None) -> list[Task]:
        """Up to ``limit`` tasks, newest first, older than task ``before`` when it is given.

        Ids are time-ordered, so ``before`` pages through them. ``owner_id`` None reads every
        owner's tasks: for the operator's own CLI on the data dir, never for a caller.
        """
        query = select(tasks).where(_SHOWN)
        if owner_id is not None:
            query = query.where(tasks.c.owner_id == owner_id)
        if before is not None:
            query = query.where(tasks.c.id < before)
        with self.reads.begin() as conn:
            rows = conn.execute(query.order_by(tasks.c.id.desc()).limit(limit)).all()
        return [_task(row) for row in rows]

    def list(
        self,
        owner_id: int,
        *,
        references: Iterable[str] | None = None,
        statuses: Iterable[TaskStatus] | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[Task], int]:
        """The caller's tasks, newest first, and how many match in all."""
        where = [tasks.c.owner_id == owner_id, _SHOWN]
        if references is not None:
            refs = list(references)
            ids = [task_id for r in refs if (task_id := parse_id(r)) is not None]
            where.append(tasks.c.id.in_(ids) | tasks.c.uuid.in_(refs))
        if statuses is not None:
            where.append(tasks.c.status.in_([s.value for s in statuses]))
        query = select(tasks).where(*where)
        with self.reads.begin() as conn:
            total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
            page = query.order_by(tasks.c.created_at.desc(), tasks.c.id.desc())
            rows = conn.execute(page.limit(limit).offset(offset)).all()
        return [_task(row) for row in rows], total

    def paged(
        self, owner_id: int, *, limit: int, after: int | None = None, ascending: bool = False
    ) -> Sequence[Task]:
        """Up to ``limit`` of the owner's tasks in id (so creation) order, newest first or
        (``ascending``) oldest first, starting after task ``after`` in that order."""
        query = select(tasks).where(tasks.c.owner_id == owner_id, _SHOWN)
        if after is not None:
            query = query.where(tasks.c.id > after if ascending else tasks.c.id < after)
        order = tasks.c.id.asc() if ascending else tasks.c.id.desc()
        with self.reads.begin() as conn:
            rows = conn.execute(query.order_by(order).limit(limit)).all()
        return [_task(row) for row in rows]

    def files(self, owner_id: int, *, limit: int) -> Sequence[FileRecord]:
        """The owner's newest ``limit`` files, newest first."""
        query = (
            select(files)
            .where(files.c.owner_id == owner_id)
            .order_by(files.c.created_at.desc(), files.c.id.desc())
            .limit(limit)
        )
        with self.reads.begin() as conn:
            return [_file(row) for row in conn.execute(query).all()]

    def file(self, owner_id: int, file_id: int) -> FileRecord:
        """The caller's file ``file_id``; NotFound for anyone else's."""
        with self.reads.begin() as conn:
            row = conn.execute(
                select(files).where(files.c.id == file_id, files.c.owner_id == owner_id)
            ).one_or_none()
        if row is None:
            raise NotFound(f"no file {file_id} for this API key", field="file_id")
        return _file(row)

    def recorded(self, storage_key: str) -> bool:
        """Whether a file record points at ``storage_key``."""
        query = select(files.c.id).where(files.c.storage_key == storage_key)
        with self.reads.begin() as conn:
            return conn.execute(query).first() is not None

    def file_by_id(self, file_id: int) -> FileRecord | None:
        """Any file by id (for signed downloads, whose signature stands for the owner)."""
        with self.reads.begin() as conn:
            row = conn.execute(select(files).where(files.c.id == file_id)).one_or_none()
        return _file(row) if row else None

    # -- owners ending and removing their tasks -----------------------------------------

    def cancel(self, owner_id: int, reference: str) -> Task:
        """Cancel the owner's task: a queued one never starts, a running one is taken from
        its runner. InvalidParams (saying how) when the task has already ended."""
        task = self.find(owner_id, reference)
        with self.engine.begin() as conn:
            cancelled = self._cancel(conn, task)
        if cancelled is None:
            raise already_ended(self.get(owner_id, task.id))
        return cancelled

    def delete(self, owner_id: int, reference: str) -> tuple[Task, Sequence[FileRecord]]:
        """Delete the owner's task (cancelling it first if it has not ended): the task as it
        ended, and the file records removed with it, whose stored files the caller removes."""
        task = self.find(owner_id, reference)
        with self.engine.begin() as conn:
            task = self._cancel(conn, task) or task
            marked = conn.execute(
                update(tasks)
                .where(tasks.c.id == task.id, _SHOWN)
                .values(deleted_at=self.clock())
                .returning(tasks.c.id)
            ).first()
            if marked is None:  # another call deleted it first
                raise NotFound(f"no task {task.task_id} for this API key", field="task_id")
            removed = conn.execute(
                delete(files).where(files.c.task_id == task.id).returning(*files.c)
            ).all()
        return self.by_id(task.id), [_file(row) for row in removed]

    def delete_file(self, owner_id: int, file_id: int) -> FileRecord:
        """Remove the record of the owner's file ``file_id``; its stored file is the caller's
        to remove. Links to it stop working at once (they look the record up)."""
        with self.engine.begin() as conn:
            row = conn.execute(
                delete(files)
                .where(files.c.id == file_id, files.c.owner_id == owner_id)
                .returning(*files.c)
            ).one_or_none()
        if row is None:
            raise NotFound(f"no file {file_id} for this API key", field="file_id")
        return _file(row)

    def by_id(self, task_id: int) -> Task:
        """Any task as it stands, deleted or not, whoever owns it: for a delete's answer and
        the operator's tools, never for a caller's reference (NotFound if there is none)."""
        with self.reads.begin() as conn:
            row = conn.execute(select(tasks).where(tasks.c.id == task_id)).one_or_none()
        if row is None:
            raise NotFound(f"no task {task_id}", field="task_id")
        return _task(row)

    def _cancel(self, conn: Connection, task: Task) -> Task | None:
        """End ``task`` cancelled unless it has ended; the task after, or None."""
        now = self.clock()
        statement = (
            update(tasks)
            .where(tasks.c.id == task.id, tasks.c.status.in_(_UNFINISHED))
            .values(
                status=TaskStatus.CANCELLED.value,
                fence=tasks.c.fence + 1,  # the runner holding it can write nothing more
                finished_at=now,
                updated_at=now,
                lease_expires_at=None,
                runner=None,
                error_code=CANCELLED_REASON,
                error_message=CANCELLED_REASON,
            )
            .returning(*tasks.c)
        )
        row = conn.execute(statement).one_or_none()
        if row is None:
            return None
        cancelled = _task(row)
        self._run_hooks(conn, cancelled)
        return cancelled

    # -- runners ------------------------------------------------------------------------

    def claim(
        self,
        runner: str,
        lease_seconds: float,
        *,
        task_id: int | None = None,
        skip_models: Collection[str] = (),
    ) -> Claim | None:
        """Take the oldest ready task, or None when none is ready.

        With ``task_id``, take that task only (when it is ready): the in-process CLI runs
        the one task it submitted and leaves the rest of the queue to the runners. Tasks
        of ``skip_models`` are left for later (a runner whose relay threads are all busy).
        """
        now = self.clock()
        ready = [tasks.c.status == TaskStatus.QUEUED.value, tasks.c.available_at <= now]
        if task_id is not None:
            ready.append(tasks.c.id == task_id)
        if skip_models:
            ready.append(tasks.c.model.not_in(list(skip_models)))
        oldest = (
            select(tasks.c.id)
            .where(*ready)
            .order_by(tasks.c.available_at, tasks.c.id)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        claim = (
            update(tasks)
            .where(tasks.c.id == oldest, tasks.c.status == TaskStatus.QUEUED.value)
            .values(
                status=TaskStatus.PREPARING.value,
                fence=tasks.c.fence + 1,
                attempts=tasks.c.attempts + 1,
                lease_expires_at=now + lease_seconds,
                runner=runner,
                started_at=func.coalesce(tasks.c.started_at, now),
                updated_at=now,
            )
            .returning(*tasks.c)
        )
        with self.engine.begin() as conn:
            row = conn.execute(claim).one_or_none()
            if row is None:
                return None
            task = _task(row)
            self._run_hooks(conn, task)
        return Claim(task, row.fence)

    def holds(self, task_id: int, fence: int) -> bool:
        """Whether the claim (task_id, fence) is still running the task."""
        query = select(tasks.c.id).where(
            tasks.c.id == task_id, tasks.c.fence == fence, tasks.c.status.in_(_RUNNING)
        )
        with self.reads.begin() as conn:
            return conn.execute(query).first() is not None

    def heartbeat(self, claim: Claim, lease_seconds: float) -> bool:
        """Extend the lease; False when the task is no longer this claim's."""
        now = self.clock()
        return self._fenced(claim, {"lease_expires_at": now + lease_seconds}) is not None

    def start_processing(self, claim: Claim) -> bool:
        """Inputs are loaded; frames are being made."""
        return self._fenced(claim, {"status": TaskStatus.PROCESSING.value}) is not None

    def set_progress(self, claim: Claim, fraction: float) -> bool:
        return self._fenced(claim, {"progress": max(0.0, min(1.0, fraction))}) is not None

    def succeed(self, claim: Claim, new_file: NewFile) -> FileRecord | None:
        """Record the video and end the task; None (and nothing written) if the fence is stale."""
        now = self.clock()
        for _ in range(5):
            record = FileRecord(
                id=new_id(),
                owner_id=claim.task.owner_id,
                task_id=claim.task_id,
                storage_key=new_file.storage_key,
                filename=_OUTPUT_FILENAME,
                purpose=_OUTPUT_PURPOSE,
                bytes=new_file.bytes,
                width=new_file.width,
                height=new_file.height,
                created_at=now,
                audio_channels=new_file.audio_channels,
            )
            try:
                return self._succeed(claim, record, new_file.seconds)
            except IntegrityError:  # an id drawn twice in one millisecond: draw again
                continue
        raise RuntimeError("could not draw a fresh file id")

    def _succeed(self, claim: Claim, record: FileRecord, seconds: int | None) -> FileRecord | None:
        values = {
            "status": TaskStatus.SUCCESS.value,
            "progress": 1.0,
            "finished_at": record.created_at,
            "lease_expires_at": None,
            "file_id": record.id,
            "video_width": record.width,
            "video_height": record.height,
            "audio_channels": record.audio_channels,
            "video_seconds": seconds,
            "error_code": None,
            "error_message": None,
        }
        with self.engine.begin() as conn:
            if self._fenced(claim, values, conn) is None:
                return None
            conn.execute(insert(files).values(record.__dict__))
        return record

    def fail(self, claim: Claim, code: str, message: str) -> bool:
        """End the task as failed, for a reason that retrying would not change."""
        values = {
            "status": TaskStatus.FAIL.value,
            "finished_at": self.clock(),
            "lease_expires_at": None,
            "error_code": code,
            "error_message": message,
        }
        return self._fenced(claim, values) is not None

    def retry_or_fail(
        self, claim: Claim, code: str, message: str, *, max_attempts: int, backoff: float = 1.0
    ) -> TaskStatus | None:
        """After an internal failure: queue the task again, or fail it when out of attempts."""
        if claim.task.attempts >= max_attempts:
            reason = f"{message} (gave up after {claim.task.attempts} attempts)"
            return TaskStatus.FAIL if self.fail(claim, code, reason) else None
        values = {
            **_requeue(self.clock(), claim.task.attempts, backoff),
            "error_code": code,
            "error_message": message,
        }
        return TaskStatus.QUEUED if self._fenced(claim, values) else None

    def release(self, claim: Claim) -> bool:
        """Give a task back untouched (a runner shutting down); the attempt is not counted."""
        values = {
            "status": TaskStatus.QUEUED.value,
            "available_at": self.clock(),
            "lease_expires_at": None,
            "runner": None,
            "progress": 0.0,
            "attempts": tasks.c.attempts - 1,
            "announced_at": None,  # queued again: owed a fresh "ready" message
        }
        return self._fenced(claim, values) is not None

    def sweep(self, *, max_attempts: int, backoff: float = 1.0) -> int:
        """Requeue (or fail, when out of attempts) running tasks whose lease expired."""
        now = self.clock()
        expired = select(tasks).where(tasks.c.status.in_(_RUNNING), tasks.c.lease_expires_at < now)
        swept = 0
        with self.engine.begin() as conn:
            for row in conn.execute(expired).all():
                values = (
                    _requeue(now, row.attempts, backoff)
                    if row.attempts < max_attempts
                    else {
                        "status": TaskStatus.FAIL.value,
                        "finished_at": now,
                        "lease_expires_at": None,
                        "error_code": ErrorCode.INTERNAL.value,
                        "error_message": f"the runner stopped responding ({row.attempts} attempts)",
                    }
                )
                claim = Claim(_task(row), row.fence)
                swept += self._fenced(claim, values, conn) is not None
        return swept

    # -- internals ----------------------------------------------------------------------

    def _one(self, query: PreparedRead, owner_id: int, reference: object, shown: str) -> Task:
        row = query.one_or_none({"owner_id": owner_id, "reference": reference})
        if row is None:
            raise NotFound(f"no task {shown} for this API key", field="task_id")
        decoded = self._decoded.get(row.id)
        if decoded is None:
            decoded = _fixed(
                query.processed("spec", row.spec), query.processed("inputs", row.inputs)
            )
            with self._decoded_lock:
                self._decoded[row.id] = decoded
                while len(self._decoded) > DECODED_KEPT:
                    del self._decoded[next(iter(self._decoded))]
        spec, inputs = decoded
        return _task(row, spec, dict(inputs))

    def _fenced(
        self, claim: Claim, values: dict[str, Any], conn: Connection | None = None
    ) -> Task | None:
        """Apply ``values`` if ``claim`` still holds the task; the task after, or None."""
        if conn is None:
            with self.engine.begin() as own:
                return self._fenced(claim, values, own)
        allowed = _RUNNING
        if "status" in values:  # only the moves domain/task.py allows
            allowed = [s.value for s in TaskStatus(values["status"]).sources if s.is_running]
        statement = (
            update(tasks)
            .where(
                tasks.c.id == claim.task_id,
                tasks.c.fence == claim.fence,
                tasks.c.status.in_(allowed),
            )
            .values(updated_at=self.clock(), **values)
            .returning(*tasks.c)
        )
        row = conn.execute(statement).one_or_none()
        if row is None:
            return None
        task = _task(row)
        if "status" in values:
            self._run_hooks(conn, task)
        return task

    def _run_hooks(self, conn: Connection, task: Task) -> None:
        record_push(conn, task)  # every store writes the callback push a change causes
        settle(conn, task)  # and settles an ended task's video-seconds
        for hook in self.hooks:
            hook(conn, task)


def _requeue(now: float, attempts: int, backoff: float) -> dict[str, Any]:
    # Exponential backoff with full jitter, capped at a minute.
    delay = random.uniform(0, min(60.0, backoff * 2 ** max(0, attempts - 1)))
    return {
        "status": TaskStatus.QUEUED.value,
        "available_at": now + delay,
        "lease_expires_at": None,
        "runner": None,
        "progress": 0.0,
        "announced_at": None,  # queued again: owed a fresh "ready" message once available
    }


def _fixed(
    spec: Mapping[str, Any], inputs: Mapping[str, Any]
) -> tuple[TaskSpec, dict[ImageRole, StoredImage]]:
    """A task's spec and inputs, decoded from their stored JSON."""
    decoded_inputs = {ImageRole(role): StoredImage(**image) for role, image in inputs.items()}
    return TaskSpec.from_json(dict(spec)), decoded_inputs


def _task(
    row: Row[Any],
    spec: TaskSpec | None = None,
    inputs: dict[ImageRole, StoredImage] | None = None,
) -> Task:
    """The task in ``row``; its ``spec`` and ``inputs`` decoded from the row unless given."""
    if spec is None or inputs is None:
        spec, inputs = _fixed(row.spec, row.inputs)
    output = (
        TaskOutput(
            row.file_id,
            row.video_width,
            row.video_height,
            row.audio_channels or 0,
            row.video_seconds,
        )
        if row.file_id is not None
        else None
    )
    return Task(
        id=row.id,
        uuid=row.uuid,
        owner_id=row.owner_id,
        dialect=row.dialect,
        status=TaskStatus(row.status),
        spec=spec,
        inputs=inputs,
        created_at=row.created_at,
        updated_at=row.updated_at,
        attempts=row.attempts,
        progress=row.progress,
        started_at=row.started_at,
        finished_at=row.finished_at,
        error_code=row.error_code,
        error_message=row.error_message,
        output=output,
        trace_id=row.trace_id,
    )


def _file(row: Row[Any]) -> FileRecord:
    return FileRecord(**row._mapping)


_ENDINGS = {
    TaskStatus.SUCCESS: "it succeeded",
    TaskStatus.FAIL: "it failed",
    TaskStatus.CANCELLED: "it was cancelled",
}


def already_ended(task: Task) -> InvalidParams:
    """The refusal to cancel ``task``, which has ended: it says how."""
    how = _ENDINGS.get(task.status, f"it is {task.status}")
    if task.status is TaskStatus.FAIL and task.error_message:
        how += f" ({task.error_message})"
    return InvalidParams(
        f"task {task.task_id} has already ended: {how}; only a queued or running task can be "
        "cancelled",
        field="task_id",
    )
