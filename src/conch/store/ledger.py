"""Balances in video-seconds, and the append-only ledger behind them.

A metered key has a ``balance`` (top-ups less charges) and a ``reserved`` part of it, held
by its tasks in flight; it can submit a task of ``d`` seconds while ``balance - reserved``
is at least ``d``. Every movement is a ledger entry, with its task and time:

- ``topup``: the operator adds seconds to the balance;
- ``reserve``: a submit holds the seconds it asks for (in the task's creating transaction);
- ``charge``: the task succeeded; the seconds delivered leave the balance and the hold;
- ``release``: the rest of the hold is given back (all of it when the task ends any other
  way than success: failed, cancelled).

So ``balance`` is the sum of top-ups less charges, ``reserved`` the sum of reservations less
charges and releases, and for every ended task its reservation equals its charge plus its
release. The end of a task settles in the transaction that ends it (:func:`settle`, run by
:class:`~conch.store.tasks.TaskStore` on every status change), so no task can end unsettled.

A key with no balance row, or one no longer metered, is unlimited.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Connection, Engine, func, insert, select, update

from conch.domain.errors import InsufficientBalance, InvalidParams, RateLimited
from conch.domain.task import Task, TaskStatus
from conch.store.db import reader
from conch.store.tables import api_keys, balances, ledger, tasks

IN_FLIGHT = [status.value for status in TaskStatus if not status.is_terminal]
"""The statuses of a task that has not ended (it holds its reservation)."""


class EntryKind(StrEnum):
    """What a ledger entry did (the values are stored)."""

    TOPUP = "topup"
    RESERVE = "reserve"
    CHARGE = "charge"
    RELEASE = "release"


@dataclass(frozen=True)
class Account:
    """A key's video-seconds now."""

    key_id: int
    metered: bool
    balance: int
    reserved: int

    @property
    def available(self) -> int:
        """Seconds the key can still reserve."""
        return self.balance - self.reserved


@dataclass(frozen=True)
class Entry:
    """One ledger entry."""

    id: int
    key_id: int
    task_id: int | None
    kind: EntryKind
    seconds: int
    created_at: float


class Ledger:
    """Balances and their ledger: top-ups and accounts (reservations and settlements are
    written by :func:`reserve` and :func:`settle`, inside task changes)."""

    def __init__(self, engine: Engine, *, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.reads = reader(engine)
        self.clock = clock

    def account(self, key_id: int) -> Account | None:
        """The key's balance; None when it never had one."""
        with self.reads.begin() as conn:
            return _account(conn, key_id)

    def accounts(self) -> dict[int, Account]:
        """Every key's balance that has one, by key id."""
        with self.reads.begin() as conn:
            rows = conn.execute(select(balances)).all()
        return {
            row.key_id: Account(row.key_id, row.metered, row.balance, row.reserved) for row in rows
        }

    def meter(self, key_id: int, seconds: int) -> Account:
        """Give an unlimited key a balance of ``seconds`` (a top-up), metered from now on."""
        _check_amount(seconds)
        now = self.clock()
        with self.engine.begin() as conn:
            found = _account(conn, key_id)
            if found is not None and found.metered:
                raise InvalidParams(
                    f"key {key_id} already has a balance ({found.balance} s); add to it with a "
                    "top-up",
                    field="balance",
                )
            if found is None:
                values = {"key_id": key_id, "balance": 0, "reserved": 0, "updated_at": now}
                conn.execute(insert(balances).values(metered=True, **values))
            else:
                _change(conn, key_id, now, metered=True)
            return self._add(conn, key_id, seconds, now)

    def unmeter(self, key_id: int) -> bool:
        """Make the key unlimited; its ledger stays, and tasks in flight still settle."""
        with self.engine.begin() as conn:
            return _change(conn, key_id, self.clock(), metered=False) == 1

    def topup(self, key_id: int, seconds: int) -> Account:
        """Add ``seconds`` to a metered key's balance."""
        _check_amount(seconds)
        with self.engine.begin() as conn:
            found = _account(conn, key_id)
            if found is None or not found.metered:
                raise InvalidParams(
                    f"key {key_id} has no balance (it is unlimited); give it one first",
                    field="key_id",
                )
            return self._add(conn, key_id, seconds, self.clock())

    def entries(self, key_id: int) -> list[Entry]:
        """The key's ledger, oldest first."""
        query = select(ledger).where(ledger.c.key_id == key_id).order_by(ledger.c.id)
        with self.reads.begin() as conn:
            rows = conn.execute(query).all()
        return [
            Entry(r.id, r.key_id, r.task_id, EntryKind(r.kind), r.seconds, r.created_at)
            for r in rows
        ]

    @staticmethod
    def _add(conn: Connection, key_id: int, seconds: int, now: float) -> Account:
        _change(conn, key_id, now, balance=balances.c.balance + seconds)
        _append(conn, key_id, None, EntryKind.TOPUP, seconds, now)
        found = _account(conn, key_id)
        assert found is not None
        return found


def _check_amount(seconds: int) -> None:
    if seconds < 1:
        raise InvalidParams(
            f"must be a whole number of seconds, 1 or more, got {seconds}", field="seconds"
        )


def _account(conn: Connection, key_id: int) -> Account | None:
    row = conn.execute(select(balances).where(balances.c.key_id == key_id)).one_or_none()
    return None if row is None else Account(row.key_id, row.metered, row.balance, row.reserved)


def _change(conn: Connection, key_id: int, now: float, **values: object) -> int:
    statement = update(balances).where(balances.c.key_id == key_id)
    return int(conn.execute(statement.values(updated_at=now, **values)).rowcount)


def _append(
    conn: Connection, key_id: int, task_id: int | None, kind: EntryKind, seconds: int, now: float
) -> None:
    values = {"key_id": key_id, "task_id": task_id, "kind": kind.value, "seconds": seconds}
    conn.execute(insert(ledger).values(created_at=now, **values))


# -- inside a task's transactions ---------------------------------------------------------


def in_flight(conn: Connection, owner_id: int) -> int:
    """How many of the key's tasks have not ended."""
    query = select(func.count()).where(tasks.c.owner_id == owner_id, tasks.c.status.in_(IN_FLIGHT))
    return int(conn.execute(query).scalar_one())


def check_concurrency(conn: Connection, owner_id: int, limit: int) -> None:
    """RateLimited when the key already has ``limit`` tasks in flight, counting one made in
    this transaction.

    The key's row is locked first (``FOR NO KEY UPDATE`` on PostgreSQL, which a task's
    foreign key check does not wait for; SQLite's writers take turns anyway), so submits of
    one key count one after another and cannot all see room for one more.
    """
    lock = select(api_keys.c.id).where(api_keys.c.id == owner_id).with_for_update(key_share=True)
    conn.execute(lock)
    running = in_flight(conn, owner_id) - 1  # not counting the task being made
    if running >= limit:
        raise too_many_in_flight(limit, running)


def too_many_in_flight(limit: int, running: int) -> RateLimited:
    """The rate-limit error for a key with ``running`` tasks in flight, ``limit`` allowed."""
    return RateLimited(
        f"this key may have {limit} tasks in flight at once, and has {running}; "
        "submit again when one of them ends"
    )


def reserve(conn: Connection, task: Task) -> None:
    """Hold the seconds ``task`` asks for, if its key is metered; InsufficientBalance (and
    the whole transaction rolled back) when the key's available seconds are too few."""
    seconds = task.spec.duration
    held = conn.execute(
        update(balances)
        .where(
            balances.c.key_id == task.owner_id,
            balances.c.metered.is_(True),
            balances.c.balance - balances.c.reserved >= seconds,
        )
        .values(reserved=balances.c.reserved + seconds, updated_at=task.created_at)
    ).rowcount
    if held == 1:
        _append(conn, task.owner_id, task.id, EntryKind.RESERVE, seconds, task.created_at)
        return
    found = _account(conn, task.owner_id)
    if found is not None and found.metered:
        raise shortfall(found, seconds)


def shortfall(account: Account, seconds: int) -> InsufficientBalance:
    """The balance error for a task of ``seconds`` that ``account`` cannot hold."""
    held = f", {account.reserved} s of it held by tasks in flight" if account.reserved else ""
    return InsufficientBalance(
        f"insufficient balance: this task needs {seconds} video-seconds and the key has "
        f"{max(0, account.available)} available (balance {account.balance} s{held}); "
        "ask the operator for a top-up"
    )


def settle(conn: Connection, task: Task) -> None:
    """Transition hook: when ``task`` ends, charge what it delivered (on success) and
    release the rest of its reservation."""
    if not task.status.is_terminal:
        return
    held = conn.execute(
        select(ledger.c.seconds).where(
            ledger.c.task_id == task.id, ledger.c.kind == EntryKind.RESERVE.value
        )
    ).scalar()
    if held is None:  # not metered when it was submitted
        return
    delivered = task.output.seconds if task.output and task.output.seconds is not None else held
    charged = min(held, delivered) if task.status is TaskStatus.SUCCESS else 0
    now = task.updated_at
    for kind, seconds in ((EntryKind.CHARGE, charged), (EntryKind.RELEASE, held - charged)):
        if seconds:
            _append(conn, task.owner_id, task.id, kind, seconds, now)
    _change(
        conn,
        task.owner_id,
        now,
        balance=balances.c.balance - charged,
        reserved=balances.c.reserved - held,
    )


def sums(conn: Connection, key_id: int) -> dict[EntryKind, int]:
    """The key's ledger summed by kind (what its balance must agree with)."""
    query = (
        select(ledger.c.kind, func.sum(ledger.c.seconds))
        .where(ledger.c.key_id == key_id)
        .group_by(ledger.c.kind)
    )
    found = {EntryKind(kind): int(total) for kind, total in conn.execute(query).all()}
    return {kind: found.get(kind, 0) for kind in EntryKind}
