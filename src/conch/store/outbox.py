"""The callback outbox: pushes recorded with the status change, claimed under a lease.

Every status change writes the push it causes in its own transaction
(:mod:`conch.store.pushes`), so the push exists exactly when the change does, and a restart
loses none.

A deliverer *claims* due rows as runners claim tasks: the claim bumps the row's ``fence``
and grants a lease, and every later write names the fence, so a deliverer that stalled past
its lease can change nothing. The pushes of one task go out in order: a row is due only
when no earlier row of its task is still pending. A row stays ``pending`` while it is sent,
so a crashed deliverer's row is simply claimed again when its lease runs out (a receiver
may then get it twice: delivery is at least once).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Row, and_, exists, insert, or_, select, update

from conch.domain.events import PushEvent
from conch.domain.task import Task
from conch.store.db import reader
from conch.store.pushes import DeliveryState
from conch.store.tables import deliveries, delivery_attempts, tasks


@dataclass(frozen=True)
class Delivery:
    """One push: what to send where, and how it has gone so far."""

    id: int
    webhook_id: str
    task_id: int
    owner_id: int
    seq: int
    event: PushEvent
    url: str
    snapshot: dict[str, Any]
    state: DeliveryState
    created_at: float
    next_attempt_at: float
    attempts: int
    fence: int
    finished_at: float | None
    outcome: str | None

    def task(self) -> Task:
        """The task as it was when its status changed to this push's event."""
        return Task.from_json(self.snapshot)


@dataclass(frozen=True)
class Attempt:
    """One try at sending a push: the HTTP status, or why there was none."""

    number: int
    started_at: float
    duration: float
    http_status: int | None
    error: str | None


@dataclass(frozen=True)
class DeliveryHistory:
    """A push and every attempt at it, for its owner to read."""

    delivery: Delivery
    attempts: list[Attempt]


# -- the deliverer's side -------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryClaim:
    """A deliverer's hold on a push: the push as claimed and the fence to write with."""

    delivery: Delivery

    @property
    def fence(self) -> int:
        return self.delivery.fence


class Outbox:
    """Claims, settles and reports the pushes in the outbox."""

    def __init__(self, engine: Engine, *, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.reads = reader(engine)
        self.clock = clock

    def claim(
        self,
        deliverer: str,
        *,
        lease_seconds: float,
        limit: int,
        give_up_after: float | None = None,
    ) -> list[DeliveryClaim]:
        """Take up to ``limit`` due pushes, oldest first, each the next of its task.

        With ``give_up_after`` (seconds after the status change), unleased pushes older than
        that are first ended ``expired`` rather than sent: after downtime longer than the
        retry window, a receiver is not called about changes it stopped waiting for.
        """
        now = self.clock()
        earlier = deliveries.alias("earlier")
        waits_for_earlier = exists().where(
            earlier.c.task_id == deliveries.c.task_id,
            earlier.c.seq < deliveries.c.seq,
            earlier.c.state == DeliveryState.PENDING.value,
        )
        free = [
            deliveries.c.state == DeliveryState.PENDING.value,
            or_(deliveries.c.lease_expires_at.is_(None), deliveries.c.lease_expires_at < now),
        ]
        due = (
            select(deliveries.c.id)
            .where(*free, deliveries.c.next_attempt_at <= now, ~waits_for_earlier)
            .order_by(deliveries.c.next_attempt_at, deliveries.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=deliveries)
        )
        with self.engine.begin() as conn:
            if give_up_after is not None:
                self._expire(conn, free, now, give_up_after)
            ids = list(conn.execute(due).scalars())
            if not ids:
                return []
            rows = conn.execute(
                update(deliveries)
                .where(deliveries.c.id.in_(ids), *free)
                .values(
                    fence=deliveries.c.fence + 1,
                    lease_expires_at=now + lease_seconds,
                    leased_by=deliverer,
                )
                .returning(*deliveries.c)
            ).all()
        claims = [DeliveryClaim(_delivery(row)) for row in rows]
        return sorted(claims, key=lambda claim: (claim.delivery.next_attempt_at, claim.fence))

    def _expire(self, conn: Connection, free: list[Any], now: float, after: float) -> None:
        # The fence moves too, so a deliverer still holding a stale claim cannot revive it.
        conn.execute(
            update(deliveries)
            .where(*free, deliveries.c.created_at < now - after)
            .values(
                state=DeliveryState.EXPIRED.value,
                outcome=f"not sent: still waiting {after:g} s after the status change",
                finished_at=now,
                fence=deliveries.c.fence + 1,
                lease_expires_at=None,
                leased_by=None,
            )
        )

    def settle(
        self,
        claim: DeliveryClaim,
        state: DeliveryState,
        outcome: str,
        *,
        attempt: Attempt | None = None,
        next_attempt_at: float | None = None,
    ) -> bool:
        """Record an attempt (if one was made) and the push's new state; False if stale.

        ``state`` PENDING needs ``next_attempt_at``; any other state ends the push.
        """
        values: dict[str, Any] = {
            "state": state.value,
            "outcome": outcome,
            "lease_expires_at": None,
            "leased_by": None,
        }
        if state is DeliveryState.PENDING:
            assert next_attempt_at is not None, "a pending push needs its next attempt's time"
            values["next_attempt_at"] = next_attempt_at
        else:
            values["finished_at"] = self.clock()
        if attempt is not None:
            values["attempts"] = deliveries.c.attempts + 1
        with self.engine.begin() as conn:
            if not self._fenced(conn, claim, values):
                return False
            if attempt is not None:
                row = {"delivery_id": claim.delivery.id, **dataclasses.asdict(attempt)}
                conn.execute(insert(delivery_attempts).values(row))
        return True

    def release(self, claim: DeliveryClaim) -> bool:
        """Give a push back untouched (a deliverer stopping), due again at once."""
        with self.engine.begin() as conn:
            return self._fenced(conn, claim, {"lease_expires_at": None, "leased_by": None})

    def gone_since(self, owner_id: int, url: str, since: float) -> Delivery | None:
        """A push of ``owner_id`` to ``url`` answered 410 Gone at ``since`` or later."""
        query = (
            select(deliveries)
            .where(
                deliveries.c.owner_id == owner_id,
                deliveries.c.url == url,
                deliveries.c.state == DeliveryState.GONE.value,
                deliveries.c.finished_at >= since,
            )
            .order_by(deliveries.c.finished_at)
            .limit(1)
        )
        with self.reads.begin() as conn:
            row = conn.execute(query).first()
        return _delivery(row) if row else None

    def history(self, task_id: int) -> list[DeliveryHistory]:
        """Every push of task ``task_id`` with its attempts, in order."""
        with self.reads.begin() as conn:
            rows = conn.execute(
                select(deliveries).where(deliveries.c.task_id == task_id).order_by(deliveries.c.seq)
            ).all()
            tried = conn.execute(
                select(delivery_attempts)
                .where(delivery_attempts.c.delivery_id.in_([row.id for row in rows]))
                .order_by(delivery_attempts.c.number)
            ).all()
        attempts: dict[int, list[Attempt]] = {row.id: [] for row in rows}
        for row in tried:
            attempts[row.delivery_id].append(_attempt(row))
        return [DeliveryHistory(_delivery(row), attempts[row.id]) for row in rows]

    def task_id_for(self, reference: str) -> int | None:
        """The id of the task whose id or uuid is ``reference`` (any owner's)."""
        reference = reference.strip()
        condition = tasks.c.uuid == reference
        if reference.isdigit() and len(reference) < 19:
            condition = or_(condition, tasks.c.id == int(reference))
        with self.reads.begin() as conn:
            found: int | None = conn.execute(select(tasks.c.id).where(condition)).scalar()
        return found

    def _fenced(self, conn: Connection, claim: DeliveryClaim, values: dict[str, Any]) -> bool:
        statement = (
            update(deliveries)
            .where(
                and_(
                    deliveries.c.id == claim.delivery.id,
                    deliveries.c.fence == claim.fence,
                    deliveries.c.state == DeliveryState.PENDING.value,
                )
            )
            .values(**values)
        )
        return conn.execute(statement).rowcount == 1


def _delivery(row: Row[Any]) -> Delivery:
    return Delivery(
        id=row.id,
        webhook_id=row.webhook_id,
        task_id=row.task_id,
        owner_id=row.owner_id,
        seq=row.seq,
        event=PushEvent(row.event),
        url=row.url,
        snapshot=row.snapshot,
        state=DeliveryState(row.state),
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
        attempts=row.attempts,
        fence=row.fence,
        finished_at=row.finished_at,
        outcome=row.outcome,
    )


def _attempt(row: Row[Any]) -> Attempt:
    return Attempt(row.number, row.started_at, row.duration, row.http_status, row.error)
