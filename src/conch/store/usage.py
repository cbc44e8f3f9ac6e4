"""Usage reports: per key and model, the tasks submitted and the video-seconds delivered,
charged and refunded (released), read from the task table and the ledger."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, case, func, select

from conch.domain.task import TaskStatus
from conch.store.db import reader
from conch.store.ledger import EntryKind
from conch.store.tables import api_keys, ledger, tasks


@dataclass(frozen=True)
class Usage:
    """One key's use of one model."""

    key_id: int
    key_name: str
    model: str
    tasks: int
    succeeded: int
    seconds_delivered: int
    seconds_charged: int
    seconds_refunded: int


def report(engine: Engine, *, key_id: int | None = None, since: float | None = None) -> list[Usage]:
    """Use of the tasks submitted since ``since`` (all when None), by key and model."""
    where = []
    if key_id is not None:
        where.append(tasks.c.owner_id == key_id)
    if since is not None:
        where.append(tasks.c.created_at >= since)
    succeeded = tasks.c.status == TaskStatus.SUCCESS.value
    counted = (
        select(
            tasks.c.owner_id,
            api_keys.c.name,
            tasks.c.model,
            func.count(),
            func.sum(case((succeeded, 1), else_=0)),
            func.sum(case((succeeded, tasks.c.video_seconds), else_=0)),
        )
        .join(api_keys, api_keys.c.id == tasks.c.owner_id)
        .where(*where)
        .group_by(tasks.c.owner_id, api_keys.c.name, tasks.c.model)
    )
    moved = (
        select(tasks.c.owner_id, tasks.c.model, ledger.c.kind, func.sum(ledger.c.seconds))
        .join(tasks, tasks.c.id == ledger.c.task_id)
        .where(*where, ledger.c.kind.in_([EntryKind.CHARGE.value, EntryKind.RELEASE.value]))
        .group_by(tasks.c.owner_id, tasks.c.model, ledger.c.kind)
    )
    with reader(engine).begin() as conn:
        rows = conn.execute(counted.order_by(tasks.c.owner_id, tasks.c.model)).all()
        seconds = {(o, m, EntryKind(k)): int(s) for o, m, k, s in conn.execute(moved).all()}
    return [
        Usage(
            key_id=owner,
            key_name=name,
            model=model,
            tasks=int(count),
            succeeded=int(done or 0),
            seconds_delivered=int(delivered or 0),
            seconds_charged=seconds.get((owner, model, EntryKind.CHARGE), 0),
            seconds_refunded=seconds.get((owner, model, EntryKind.RELEASE), 0),
        )
        for owner, name, model, count, done, delivered in rows
    ]
