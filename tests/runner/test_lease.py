"""The lease keeper gives up a job that stopped checking in, and one it cannot renew.

Time is a :class:`ManualClock` shared by the keeper and the store: the test moves it, and
each heartbeat has happened by the time ``advance`` returns. The lease is 0.75 s, so the
keeper beats every 0.25 s: steps that add up exactly, which puts each check on a known beat.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text

from conch.domain.ids import new_id
from conch.domain.task import TaskStatus
from conch.runner.lease import HOLD_CHECK_INTERVAL, LeaseKeeper, LeaseLost, LeaseTerms
from conch.store.db import open_database
from conch.store.keys import KeyStore
from conch.store.tasks import Claim, TaskStore
from support.clock import ManualClock
from support.tasks import text_spec

LEASE = 0.75


def claimed(tmp_path: Path, clock: ManualClock) -> tuple[TaskStore, Claim]:
    store = TaskStore(open_database(f"sqlite:///{tmp_path / 'conch.db'}"), clock=clock)
    owner = KeyStore(store.engine).create("owner")[0].id
    store.create(
        task_id=new_id(),
        owner_id=owner,
        dialect="minimax",
        spec=text_spec(),
        inputs={},
    )
    claim = store.claim("r1", LEASE)
    assert claim is not None
    return store, claim


@contextmanager
def keeping(
    store: TaskStore, claim: Claim, terms: LeaseTerms, clock: ManualClock
) -> Iterator[LeaseKeeper]:
    with LeaseKeeper(store, claim, terms, threading.Event(), clock=clock) as lease:
        clock.wait_for_sleepers(1)  # the renewing thread waits for its first beat
        yield lease


def test_a_job_that_stops_checking_in_loses_its_lease(tmp_path: Path) -> None:
    clock = ManualClock()
    store, claim = claimed(tmp_path, clock)
    terms = LeaseTerms(lease_seconds=LEASE, stall_seconds=1.0)
    with keeping(store, claim, terms, clock) as lease:
        for _ in range(5):  # a job that checks in keeps its lease past several leases
            clock.advance(0.5)
            lease.check()
        assert store.sweep(max_attempts=3) == 0  # 2.5 s on a 0.75 s lease: renewed
        clock.advance(1.0)  # then goes silent, as a hung engine would
        assert not lease.lost.is_set()  # silent for exactly the stall window: not yet
        clock.advance(0.25)  # the next beat finds it silent for longer
        assert lease.lost.is_set()
        with pytest.raises(LeaseLost):
            lease.check()
    assert store.sweep(max_attempts=3) == 0  # the last renewal holds until it expires
    clock.advance(LEASE)
    assert store.sweep(max_attempts=3) == 1  # the renewals stopped: the task goes back
    assert store.get(claim.task.owner_id, claim.task_id).status is TaskStatus.QUEUED


def test_a_lease_that_cannot_be_renewed_is_given_up(tmp_path: Path) -> None:
    clock = ManualClock()
    store, claim = claimed(tmp_path, clock)
    terms = LeaseTerms(lease_seconds=LEASE, stall_seconds=60)
    with keeping(store, claim, terms, clock) as lease:
        with store.engine.begin() as conn:  # the table vanishes: every heartbeat fails
            conn.execute(text("ALTER TABLE tasks RENAME TO tasks_elsewhere"))
        clock.advance(1.0)  # four failed beats, the first 0.75 s ago: within the lease's slack
        assert not lease.lost.is_set()
        clock.advance(0.25)  # failing for longer than a lease
        assert lease.lost.is_set()


def test_a_job_finds_its_claim_gone_within_the_hold_check_interval(tmp_path: Path) -> None:
    clock = ManualClock()
    store, claim = claimed(tmp_path, clock)
    terms = LeaseTerms(lease_seconds=600, stall_seconds=600)  # no heartbeat in this test
    with keeping(store, claim, terms, clock) as lease:
        store.cancel(claim.task.owner_id, claim.task.task_id)
        clock.advance(HOLD_CHECK_INTERVAL / 2)
        lease.check()  # not asked yet: the store is not read at every frame
        clock.advance(HOLD_CHECK_INTERVAL / 2)
        with pytest.raises(LeaseLost, match="cancelled"):
            lease.check()
        assert lease.lost.is_set()
