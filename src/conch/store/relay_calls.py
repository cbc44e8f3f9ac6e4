"""The relay's calls in the database: the relay engine's :class:`CallLog`.

Every write is its own committed transaction: the intent before a create leaves, the
upstream's id as soon as it is known. The intent is written only while the runner's claim
holds the task (checked in the same transaction), so a runner that lost its task creates
nothing; the id is written whatever became of the claim, since it is a fact about the
upstream that the next runner needs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, Row, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from conch.domain.task import TaskStatus
from conch.engines.relay.calls import OPEN, CallLog, CallState, RelayCall
from conch.store.db import reader
from conch.store.tables import relay_calls, tasks

_RUNNING = [s.value for s in TaskStatus if s.is_running]
_ENDED_UNSUCCESSFULLY = [TaskStatus.FAIL.value, TaskStatus.CANCELLED.value]
_OPEN = [state.value for state in OPEN]


class RelayCallStore(CallLog):
    """Reads and writes ``relay_calls``."""

    def __init__(self, engine: Engine, *, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.reads = reader(engine)
        self.clock = clock

    def calls(self, task_id: int) -> list[RelayCall]:
        query = select(relay_calls).where(relay_calls.c.task_id == task_id)
        with self.reads.begin() as conn:
            rows = conn.execute(query.order_by(relay_calls.c.id)).all()
        return [_call(row) for row in rows]

    def intend(
        self, task_id: int, fence: int, attempt: int, upstream: str, dialect: str, model: str
    ) -> RelayCall | None:
        now = self.clock()
        holding = (
            select(tasks.c.id)
            .where(tasks.c.id == task_id, tasks.c.fence == fence, tasks.c.status.in_(_RUNNING))
            .with_for_update()
        )
        values = {
            "task_id": task_id,
            "attempt": attempt,
            "upstream": upstream,
            "dialect": dialect,
            "upstream_model": model,
            "state": CallState.INTENT.value,
            "created_at": now,
            "updated_at": now,
        }
        with self.engine.begin() as conn:
            if conn.execute(holding).first() is None:
                return None
            row = conn.execute(insert(relay_calls).values(values).returning(*relay_calls.c)).one()
        return _call(row)

    def accepted(self, call_id: int, upstream_task_id: str, deadline_at: float) -> bool:
        values = {
            "state": CallState.ACCEPTED.value,
            "upstream_task_id": upstream_task_id,
            "deadline_at": deadline_at,
        }
        try:
            return self._update(call_id, values, only_open=True)
        except IntegrityError:  # another call holds that upstream task
            return False

    def settle(self, call_id: int, state: CallState, outcome: str | None) -> None:
        self._update(call_id, {"state": state.value, "outcome": outcome}, only_open=True)

    def failed(self, call_id: int, outcome: str) -> bool:
        statement = (
            update(relay_calls)
            .where(
                relay_calls.c.id == call_id,
                relay_calls.c.state.in_(_OPEN),
                relay_calls.c.next_check_at.is_(None),  # no cancel was taken
            )
            .values(state=CallState.FAILED.value, outcome=outcome, updated_at=self.clock())
        )
        with self.engine.begin() as conn:
            return conn.execute(statement).rowcount > 0

    def recheck(self, call_id: int, next_check_at: float, outcome: str | None = None) -> None:
        values: dict[str, Any] = {"next_check_at": next_check_at}
        if outcome is not None:
            values["outcome"] = outcome
        self._update(call_id, values)

    def collected(self, call_id: int, file_key: str, outcome: str) -> None:
        values = {"state": CallState.LATE_SUCCESS.value, "file_key": file_key, "outcome": outcome}
        self._update(call_id, values)

    def cancelling(self, call_id: int, next_check_at: float) -> bool:
        statement = (
            update(relay_calls)
            .where(
                relay_calls.c.id == call_id,
                relay_calls.c.state.in_(_OPEN),
                relay_calls.c.next_check_at.is_(None),
            )
            .values(next_check_at=next_check_at, updated_at=self.clock())
        )
        with self.engine.begin() as conn:
            return conn.execute(statement).rowcount > 0

    def due(self, now: float, limit: int, *, hold: float = 300.0) -> list[RelayCall]:
        """Open calls whose task has ended (failed, cancelled) and whose next look is due:
        the reconciling sweep's work, held for ``hold`` seconds (their next look is put
        off) so that another runner's sweep does not take them too. A call whose task
        succeeded is settled here (its runner died between recording the success and
        settling the call)."""
        ended = select(tasks.c.id).where(tasks.c.status.in_(_ENDED_UNSUCCESSFULLY))
        query = (
            select(relay_calls)
            .where(
                relay_calls.c.state.in_(_OPEN),
                relay_calls.c.task_id.in_(ended),
                or_(relay_calls.c.next_check_at.is_(None), relay_calls.c.next_check_at <= now),
            )
            .order_by(relay_calls.c.next_check_at, relay_calls.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        succeeded = select(tasks.c.id).where(tasks.c.status == TaskStatus.SUCCESS.value)
        with self.engine.begin() as conn:
            conn.execute(
                update(relay_calls)
                .where(relay_calls.c.state.in_(_OPEN), relay_calls.c.task_id.in_(succeeded))
                .values(state=CallState.SUCCEEDED.value, updated_at=self.clock())
            )
            rows = conn.execute(query).all()
            if rows:
                conn.execute(
                    update(relay_calls)
                    .where(relay_calls.c.id.in_([row.id for row in rows]))
                    .values(next_check_at=now + hold)
                )
        return [_call(row) for row in rows]

    def _update(self, call_id: int, values: dict[str, Any], *, only_open: bool = False) -> bool:
        statement = update(relay_calls).where(relay_calls.c.id == call_id)
        if only_open:
            statement = statement.where(relay_calls.c.state.in_(_OPEN))
        with self.engine.begin() as conn:
            done = conn.execute(statement.values(updated_at=self.clock(), **values))
        return done.rowcount > 0


def _call(row: Row[Any]) -> RelayCall:
    return RelayCall(
        id=row.id,
        task_id=row.task_id,
        attempt=row.attempt,
        upstream=row.upstream,
        dialect=row.dialect,
        upstream_model=row.upstream_model,
        state=CallState(row.state),
        created_at=row.created_at,
        upstream_task_id=row.upstream_task_id,
        deadline_at=row.deadline_at,
        outcome=row.outcome,
        next_check_at=row.next_check_at,
        file_key=row.file_key,
    )
