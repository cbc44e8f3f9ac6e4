"""Balances in video-seconds: submits racing for the last seconds cannot overdraw a key, an
ended task settles in the transaction that ends it, and the ledger always sums to the
balance (on SQLite and PostgreSQL)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Connection

from conch.domain.errors import InsufficientBalance, InvalidParams, RateLimited
from conch.domain.ids import new_id
from conch.domain.task import Task, TaskStatus
from conch.store.db import open_database
from conch.store.keys import KeyStore
from conch.store.ledger import Account, EntryKind, Ledger, check_concurrency, reserve, sums
from conch.store.tasks import NewFile, TaskStore
from support.tasks import text_spec

SIX = text_spec()  # asks for 6 seconds
assert SIX.duration == 6


@pytest.fixture
def store(database_url: str) -> TaskStore:
    return TaskStore(open_database(database_url))


@pytest.fixture
def ledger(store: TaskStore) -> Ledger:
    return Ledger(store.engine)


def submit(store: TaskStore, owner: int, concurrency: int | None = None) -> Task:
    """A task created as a submit creates it: held to the key's balance (and concurrency)."""

    def admit(conn: Connection, task: Task) -> None:
        if concurrency is not None:
            check_concurrency(conn, task.owner_id, concurrency)
        reserve(conn, task)

    return store.create(
        task_id=new_id(), owner_id=owner, dialect="minimax", spec=SIX, inputs={}, admit=admit
    )


def assert_ledger_sums_to_the_balance(ledger: Ledger, owner: int) -> None:
    account = ledger.account(owner)
    assert account is not None
    with ledger.engine.connect() as conn:
        total = sums(conn, owner)
    assert account.balance == total[EntryKind.TOPUP] - total[EntryKind.CHARGE]
    reserved = total[EntryKind.RESERVE] - total[EntryKind.CHARGE] - total[EntryKind.RELEASE]
    assert account.reserved == reserved


def test_twenty_submits_at_once_against_a_balance_for_three_get_three(
    store: TaskStore, ledger: Ledger, database_url: str
) -> None:
    owner = KeyStore(store.engine).create("metered")[0].id
    ledger.meter(owner, 3 * 6 + 5)  # three tasks and some seconds to spare, not a fourth
    servers = [TaskStore(open_database(database_url, upgrade=False)) for _ in range(4)]

    def attempt(number: int) -> str:
        try:
            return submit(servers[number % len(servers)], owner).task_id
        except InsufficientBalance as refused:
            return refused.detail

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(attempt, range(20)))
    accepted = [outcome for outcome in outcomes if outcome.isdigit()]
    assert len(accepted) == 3
    refusal = next(outcome for outcome in outcomes if not outcome.isdigit())
    assert "needs 6 video-seconds and the key has 5 available" in refusal
    assert ledger.account(owner) == Account(owner, metered=True, balance=23, reserved=18)
    assert_ledger_sums_to_the_balance(ledger, owner)


def test_a_failed_task_refunds_and_a_success_charges_what_it_delivered(
    store: TaskStore, ledger: Ledger
) -> None:
    owner = KeyStore(store.engine).create("metered")[0].id
    ledger.meter(owner, 12)
    failing, short = submit(store, owner), submit(store, owner)
    with pytest.raises(InsufficientBalance):
        submit(store, owner)
    claim = store.claim("runner", 30, task_id=failing.id)
    assert claim is not None and store.fail(claim, "internal", "it broke")
    assert ledger.account(owner).available == 6  # type: ignore[union-attr]
    claim = store.claim("runner", 30, task_id=short.id)
    assert claim is not None
    assert store.succeed(claim, NewFile("outputs/x.mp4", 100, 64, 64, seconds=5)) is not None
    kinds = [(entry.task_id, entry.kind, entry.seconds) for entry in ledger.entries(owner)]
    assert kinds == [
        (None, EntryKind.TOPUP, 12),
        (failing.id, EntryKind.RESERVE, 6),
        (short.id, EntryKind.RESERVE, 6),
        (failing.id, EntryKind.RELEASE, 6),
        (short.id, EntryKind.CHARGE, 5),
        (short.id, EntryKind.RELEASE, 1),
    ]
    assert ledger.account(owner).available == 7  # type: ignore[union-attr]
    assert_ledger_sums_to_the_balance(ledger, owner)


def test_an_unlimited_key_writes_no_ledger_and_tasks_in_flight_are_limited(
    store: TaskStore, ledger: Ledger
) -> None:
    owner = KeyStore(store.engine).create("unlimited")[0].id
    first = submit(store, owner, concurrency=2)
    submit(store, owner, concurrency=2)
    with pytest.raises(RateLimited, match="2 tasks in flight at once"):
        submit(store, owner, concurrency=2)
    claim = store.claim("runner", 30, task_id=first.id)
    assert claim is not None and store.fail(claim, "internal", "it broke")
    assert submit(store, owner, concurrency=2).status is TaskStatus.QUEUED
    assert ledger.entries(owner) == [] and ledger.account(owner) is None
    with pytest.raises(InvalidParams, match="no balance"):
        ledger.topup(owner, 10)
    ledger.meter(owner, 10)
    with pytest.raises(InvalidParams, match="already has a balance"):
        ledger.meter(owner, 10)
    assert ledger.topup(owner, 5).balance == 15
    assert ledger.unmeter(owner)
    submit(store, owner)  # unlimited again: the balance is not consulted
    assert_ledger_sums_to_the_balance(ledger, owner)
