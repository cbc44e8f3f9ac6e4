"""The pushes a status change causes, written in the change's own transaction.

:class:`~conch.store.tasks.TaskStore` calls :func:`record_push` inside every status change,
always: no store can change a status without writing its callback push (see
:mod:`conch.domain.events` for which changes push). The deliverer's side is
:mod:`conch.store.outbox`.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Connection, insert, select

from conch.domain.events import event_for, new_webhook_id
from conch.domain.task import Task
from conch.store.tables import deliveries


class DeliveryState(StrEnum):
    """Where a push stands; the values are shown to owners."""

    PENDING = "pending"
    """Not delivered yet: waiting for its turn, its next attempt, or being sent."""
    DELIVERED = "delivered"
    """The receiver answered 2xx."""
    GONE = "gone"
    """The receiver answered 410 Gone: no more pushes go to this URL."""
    STOPPED = "stopped"
    """Not sent: its URL answered 410 Gone to an earlier push."""
    EXPIRED = "expired"
    """The retry window closed before the receiver answered 2xx."""


def record_push(conn: Connection, task: Task) -> None:
    """Transition hook: write the push this status change causes, if any."""
    url = task.spec.callback_url
    event = event_for(task.status)
    if not url or event is None:
        return
    # The task row was just updated in this transaction, so it is locked: no other
    # transaction can be adding a push for this task at the same time.
    taken = conn.execute(select(deliveries.c.event).where(deliveries.c.task_id == task.id))
    events = set(taken.scalars())
    if event.value in events:
        return
    values = {
        "webhook_id": new_webhook_id(),
        "task_id": task.id,
        "owner_id": task.owner_id,
        "seq": len(events) + 1,
        "event": event.value,
        "url": url,
        "snapshot": task.to_json(),
        "state": DeliveryState.PENDING.value,
        "created_at": task.updated_at,
        "next_attempt_at": task.updated_at,
        "attempts": 0,
        "fence": 0,
    }
    conn.execute(insert(deliveries).values(values))
