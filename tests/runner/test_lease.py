"""The lease keeper gives up a job that stopped checking in, and one it cannot renew."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from conch.domain.ids import new_id
from conch.domain.task import TaskStatus
from conch.runner.lease import LeaseKeeper, LeaseLost, LeaseTerms
from conch.store.db import open_database
from conch.store.keys import KeyStore
from conch.store.tasks import Claim, TaskStore


def claimed(tmp_path: Path) -> tuple[TaskStore, Claim]:
    store = TaskStore(open_database(f"sqlite:///{tmp_path / 'conch.db'}"))
    owner = KeyStore(store.engine).create("owner")[0].id
    store.create(
        task_id=new_id(),
        owner_id=owner,
        dialect="minimax",
        model="I2V-01",
        mode="image-to-video",
        spec={},
        inputs={},
    )
    claim = store.claim("r1", 0.6)
    assert claim is not None
    return store, claim


def test_a_job_that_stops_checking_in_loses_its_lease(tmp_path: Path) -> None:
    store, claim = claimed(tmp_path)
    terms = LeaseTerms(lease_seconds=0.6, stall_seconds=1.0)
    with LeaseKeeper(store, claim, terms, threading.Event()) as lease:
        for _ in range(5):  # a job that checks in keeps its lease past several leases
            time.sleep(0.3)
            lease.check()
        time.sleep(2.0)  # then goes silent, as a hung engine would
        assert lease.lost.is_set()
        with pytest.raises(LeaseLost):
            lease.check()
    time.sleep(0.7)
    assert store.sweep(max_attempts=3) == 1  # the renewals stopped: the task goes back
    assert store.get(claim.task.owner_id, claim.task_id).status is TaskStatus.QUEUED


def test_a_lease_that_cannot_be_renewed_is_given_up(tmp_path: Path) -> None:
    store, claim = claimed(tmp_path)
    terms = LeaseTerms(lease_seconds=0.6, stall_seconds=60)
    with LeaseKeeper(store, claim, terms, threading.Event()) as lease:
        with store.engine.begin() as conn:  # the table vanishes: every heartbeat fails
            conn.execute(text("ALTER TABLE tasks RENAME TO tasks_elsewhere"))
        time.sleep(1.5)
        assert lease.lost.is_set()
