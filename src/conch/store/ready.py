"""The ready outbox: queued tasks owed a "task N is ready" message to the broker.

There is no outbox table. A task is written queued with ``announced_at`` NULL, in its own
transaction, and that is the outbox row; every move back to the queue (a retry, a swept
lease, a runner giving a task back) clears ``announced_at`` again. The announcer
(:mod:`conch.runner.announcer`) takes owed tasks with :func:`take_owed`, which marks them
announced *before* it publishes, so that a worker that receives the message at once finds
the task unlocked; a publish that fails is undone with :func:`unmark`.

A task that was announced but that no worker claimed within ``again_after`` seconds (the
broker lost the message, or no worker serves its queue yet) is owed again. A duplicate
message is harmless: the claim refuses a task that is not queued.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, or_, select, update

from conch.domain.task import TaskStatus
from conch.store.tables import tasks

_QUEUED = TaskStatus.QUEUED.value


@dataclass(frozen=True)
class Ready:
    """A task owed an announcement: its id and the model that says which queue it goes to."""

    task_id: int
    model: str


def take_owed(engine: Engine, *, now: float, again_after: float, limit: int) -> list[Ready]:
    """Up to ``limit`` queued, available tasks owed an announcement, oldest first, marked
    announced at ``now``. Two servers never take the same task (rows are locked, skipping
    those another transaction holds)."""
    owed = (
        select(tasks.c.id)
        .where(
            tasks.c.status == _QUEUED,
            tasks.c.available_at <= now,
            or_(tasks.c.announced_at.is_(None), tasks.c.announced_at < now - again_after),
        )
        .order_by(tasks.c.available_at, tasks.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    with engine.begin() as conn:
        ids = conn.execute(owed).scalars().all()
        if not ids:
            return []
        rows = conn.execute(
            update(tasks)
            .where(tasks.c.id.in_(ids), tasks.c.status == _QUEUED)
            .values(announced_at=now)
            .returning(tasks.c.id, tasks.c.model, tasks.c.available_at)
        ).all()
    ordered = sorted(rows, key=lambda row: (row.available_at, row.id))
    return [Ready(row.id, row.model) for row in ordered]


def unmark(engine: Engine, task_ids: Sequence[int], *, announced_at: float) -> None:
    """Owe the announcement of ``task_ids`` again (their publish failed); a task announced
    since, by another server, keeps its mark."""
    if not task_ids:
        return
    with engine.begin() as conn:
        conn.execute(
            update(tasks)
            .where(tasks.c.id.in_(list(task_ids)), tasks.c.announced_at == announced_at)
            .values(announced_at=None)
        )
