"""What a key may do: its request rates, its tasks in flight and its balance, each the
key's own limit or the settings' default.

Each check refuses with the dialect-neutral error every dialect renders (RateLimited,
InsufficientBalance) and a message that names the limit and when to try again. The checks
that count (rates, the reservation) are made in the database, so every server process
shares them; :meth:`Quotas.precheck` is a cheap read that refuses a submit before any work
is done, and :meth:`Quotas.admission` the exact check inside the creating transaction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import Connection

from conch.config import Settings
from conch.domain.errors import RateLimited
from conch.domain.request import TaskSpec
from conch.domain.task import Task
from conch.store.keys import ApiKey
from conch.store.ledger import (
    Ledger,
    check_concurrency,
    in_flight,
    reserve,
    shortfall,
    too_many_in_flight,
)
from conch.store.limits import Action, LimitStore, effective
from conch.store.tasks import TransitionHook


@dataclass(frozen=True)
class Quotas:
    """The limits every key is held to, over the shared stores."""

    settings: Settings
    limits: LimitStore
    ledger: Ledger

    def read_rpm(self, owner: ApiKey) -> int | None:
        """The key's reads a minute (None: no limit); no I/O, the key carries its limits."""
        return effective(owner.limits.read_rpm, self.settings.default_read_rpm)

    def check_reads(self, owner: ApiKey, count: int) -> tuple[int, RateLimited | None]:
        """Count ``count`` reads by ``owner`` at once: how many its reads a minute allow (the
        first ones), and the error for the rest (None when every one is allowed)."""
        rpm = self.read_rpm(owner)
        if rpm is None:
            return count, None
        granted, wait = self.limits.take_up_to(owner.id, Action.READ, rpm, count)
        return granted, None if granted == count else rate_limited(Action.READ, rpm, wait)

    def check_submit(self, owner: ApiKey) -> None:
        """Count one submit by ``owner``; RateLimited once its submits a minute are spent."""
        rpm = effective(owner.limits.submit_rpm, self.settings.default_rpm)
        self._take(owner, Action.SUBMIT, rpm)

    def precheck(self, owner: ApiKey, spec: TaskSpec) -> None:
        """Refuse a submit that its key's tasks in flight or balance cannot take (a read;
        :meth:`admission` decides, atomically, when the task is created)."""
        limit = self._concurrency(owner)
        account = self.ledger.account(owner.id)
        if limit is not None:
            with self.ledger.reads.begin() as conn:
                running = in_flight(conn, owner.id)
            if running >= limit:
                raise too_many_in_flight(limit, running)
        if account is not None and account.metered and account.available < spec.duration:
            raise shortfall(account, spec.duration)

    def admission(self, owner: ApiKey) -> TransitionHook:
        """The check a new task of ``owner`` passes inside its creating transaction."""
        limit = self._concurrency(owner)

        def admit(conn: Connection, task: Task) -> None:
            if limit is not None:
                check_concurrency(conn, task.owner_id, limit)
            reserve(conn, task)

        return admit

    def _concurrency(self, owner: ApiKey) -> int | None:
        return effective(owner.limits.concurrency, self.settings.default_concurrency)

    def _take(self, owner: ApiKey, action: Action, rpm: int | None) -> None:
        if rpm is None:
            return
        wait = self.limits.take(owner.id, action, rpm)
        if wait > 0:
            raise rate_limited(action, rpm, wait)


def rate_limited(action: Action, rpm: int, wait: float) -> RateLimited:
    """The error for a request over its key's ``rpm`` for ``action``, ``wait`` s early."""
    plural = "" if rpm == 1 else "s"
    return RateLimited(
        f"rate limit reached: this key may make {rpm} {action.value}{plural} a minute; "
        f"retry in {math.ceil(wait)} s",
        retry_after=wait,
    )
