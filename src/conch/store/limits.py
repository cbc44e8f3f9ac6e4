"""A key's limits, and the request rates measured against them, kept in the database so
that every API server process shares them.

Rates are a token bucket per key and action, kept as one number by the generic cell rate
algorithm (GCRA): ``arrival``, the time at which the bucket would be full again. A limit of
``rpm`` requests a minute lets a burst of ``rpm`` through at once, then one every
``60 / rpm`` seconds. Taking a token is one conditional ``UPDATE``: PostgreSQL re-checks its
condition against a row another transaction just changed, and SQLite's writers take turns,
so two servers can never both spend the last token.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Connection, Engine, and_, bindparam, case, delete, insert, select, update
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

_ARRIVAL = rate_limits.c.arrival
_FROM = case((bindparam("now") < _ARRIVAL, _ARRIVAL), else_=bindparam("now"))  # the later
_THIS_BUCKET = and_(rate_limits.c.key_id == bindparam("k"), rate_limits.c.action == bindparam("a"))
_TAKE = (
    update(rate_limits)
    .where(_THIS_BUCKET, _FROM + bindparam("interval") - bindparam("now") <= WINDOW)
    .values(arrival=_FROM + bindparam("interval"))
)
_ARRIVAL_OF = select(_ARRIVAL).where(_THIS_BUCKET)


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
        now = self.clock()
        params = {"k": key_id, "a": action.value, "now": now, "interval": WINDOW / rpm}
        with self.engine.begin() as conn:
            if (
                conn.execute(_TAKE, params).rowcount == 1
                or self._new_bucket(conn, key_id, action, now + WINDOW / rpm)
                # the bucket another server made between the two: take from it
                or conn.execute(_TAKE, params).rowcount == 1
            ):
                return 0.0
            arrival: float = conn.execute(_ARRIVAL_OF, params).scalar_one()
        return max(arrival, now) + WINDOW / rpm - now - WINDOW

    @staticmethod
    def _new_bucket(conn: Connection, key_id: int, action: Action, arrival: float) -> bool:
        """Make the key's bucket for ``action`` with one request spent; False if it exists."""
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        values = {"key_id": key_id, "action": action.value, "arrival": arrival}
        statement = dialect.insert(rate_limits).values(values).on_conflict_do_nothing()
        return conn.execute(statement.returning(rate_limits.c.key_id)).first() is not None
