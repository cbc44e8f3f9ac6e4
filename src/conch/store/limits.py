"""A key's limits, and the request rates measured against them, kept in the database so
that every API server process shares them.

Rates are a token bucket per key and action, kept as one number by the generic cell rate
algorithm (GCRA): ``arrival``, the time at which the bucket would be full again. A limit of
``rpm`` requests a minute lets a burst of ``rpm`` through at once, then one every
``60 / rpm`` seconds. Requests that arrive together may be counted together: one
transaction locks the key's bucket (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's
writers take turns), spends as many of them as it holds, in order, and refuses the rest, so
two servers can never both spend the last token.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Connection, Engine, and_, bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from conch.store.tables import key_limits, rate_limits

WINDOW = 60.0
"""Seconds a per-minute limit is counted over: the bucket holds a minute's requests."""
UNLIMITED = 0
"""A limit of 0 stored for a key: no limit, whatever the settings' default."""


class Action(StrEnum):
    """What a request does, for its rate limit."""

    SUBMIT = "submit"
    READ = "read"


@dataclass(frozen=True)
class KeyLimits:
    """A key's own limits: None takes the settings' default, 0 (:data:`UNLIMITED`) is none."""

    submit_rpm: int | None = None
    read_rpm: int | None = None
    concurrency: int | None = None

    def given(self) -> dict[str, int]:
        """The limits this key sets itself."""
        return {name: value for name, value in self.__dict__.items() if value is not None}


def effective(own: int | None, default: int | None) -> int | None:
    """The limit in force: the key's own, else the default; None when there is none."""
    chosen = default if own is None else own
    return None if chosen is None or chosen == UNLIMITED else chosen


NO_LIMITS = KeyLimits()
"""A key that sets no limits of its own."""

_THIS_BUCKET = and_(rate_limits.c.key_id == bindparam("k"), rate_limits.c.action == bindparam("a"))
_LOCK_BUCKET = select(rate_limits.c.arrival).where(_THIS_BUCKET).with_for_update()
_SPEND = update(rate_limits).where(_THIS_BUCKET).values(arrival=bindparam("arrival"))


class LimitStore:
    """The key_limits and rate_limits tables."""

    def __init__(self, engine: Engine, *, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.clock = clock

    def set(self, key_id: int, limits: KeyLimits) -> None:
        """Replace the limits key ``key_id`` sets (None: the settings' default)."""
        with self.engine.begin() as conn:
            conn.execute(delete(key_limits).where(key_limits.c.key_id == key_id))
            if limits.given():
                conn.execute(insert(key_limits).values(key_id=key_id, **limits.__dict__))

    def take(self, key_id: int, action: Action, rpm: int) -> float:
        """Spend one of the key's requests for ``action``: 0 when allowed, else the seconds
        until one is."""
        granted, wait = self.take_up_to(key_id, action, rpm, 1)
        return 0.0 if granted else wait

    def take_up_to(self, key_id: int, action: Action, rpm: int, count: int) -> tuple[int, float]:
        """Spend up to ``count`` of the key's requests for ``action``, in one transaction:
        how many were allowed (the first ones), and the seconds until the next one is."""
        now = self.clock()
        interval = WINDOW / rpm
        bucket = {"k": key_id, "a": action.value}
        with self.engine.begin() as conn:
            arrival = self._locked_arrival(conn, key_id, action, now)
            granted = 0
            while granted < count and arrival + interval - now <= WINDOW:
                arrival += interval
                granted += 1
            if granted:
                conn.execute(_SPEND, {**bucket, "arrival": arrival})
        return granted, arrival + interval - now - WINDOW

    @staticmethod
    def _locked_arrival(conn: Connection, key_id: int, action: Action, now: float) -> float:
        """When the key's bucket for ``action`` is full again (not before ``now``), its row
        locked until the transaction ends; a missing bucket is made full."""
        bucket = {"k": key_id, "a": action.value}
        arrival: float | None = conn.execute(_LOCK_BUCKET, bucket).scalar()
        if arrival is None:
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            values = {"key_id": key_id, "action": action.value, "arrival": now}
            conn.execute(dialect.insert(rate_limits).values(values).on_conflict_do_nothing())
            # made here, or by another server between the two: lock it either way
            arrival = conn.execute(_LOCK_BUCKET, bucket).scalar_one()
        return max(arrival, now)
