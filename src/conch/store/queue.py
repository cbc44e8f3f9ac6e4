"""Where queued tasks stand in line: what a person waiting on one wants to know.

Runners claim the ready task with the lowest ``(available_at, id)`` (``TaskStore.claim``),
whoever owns it, so a task's place is one more than the number of queued tasks, of every
owner, that come before it in that order.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Engine, and_, func, or_, select
from sqlalchemy.orm import aliased

from conch.domain.task import TaskStatus
from conch.store.tables import tasks

_QUEUED = TaskStatus.QUEUED.value


def queue_positions(engine: Engine, task_ids: Collection[int]) -> dict[int, int]:
    """The place in line (1: claimed next) of each of ``task_ids`` that is still queued.

    Tasks that are not queued (running, finished, unknown) are left out of the answer.
    """
    if not task_ids:
        return {}
    ahead = aliased(tasks)
    earlier = or_(
        ahead.c.available_at < tasks.c.available_at,
        and_(ahead.c.available_at == tasks.c.available_at, ahead.c.id < tasks.c.id),
    )
    count_ahead = select(func.count()).where(ahead.c.status == _QUEUED, earlier).scalar_subquery()
    query = select(tasks.c.id, count_ahead).where(
        tasks.c.id.in_(list(task_ids)), tasks.c.status == _QUEUED
    )
    with engine.begin() as conn:
        return {task_id: ahead_of_it + 1 for task_id, ahead_of_it in conn.execute(query)}
