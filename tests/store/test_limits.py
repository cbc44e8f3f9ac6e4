"""Request rates per key, in the database: a bucket of ``rpm`` requests refilled over a
minute, shared by every store (server) on the database, never overspent by racing servers."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine

from conch.store.db import open_database
from conch.store.keys import KeyStore
from conch.store.limits import Action, KeyLimits, LimitStore, effective
from support.clock import ManualClock


@pytest.fixture
def engine(database_url: str) -> Engine:
    return open_database(database_url)


def test_a_key_gets_its_rpm_at_once_then_one_every_60_over_rpm_seconds(engine: Engine) -> None:
    clock = ManualClock()
    limits = LimitStore(engine, clock=clock)
    key = KeyStore(engine).create("caller")[0].id
    assert [limits.take(key, Action.SUBMIT, 3) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limits.take(key, Action.SUBMIT, 3) == pytest.approx(20.0)
    assert limits.take(key, Action.READ, 3) == 0.0  # reads have a bucket of their own
    clock.advance(15)
    assert limits.take(key, Action.SUBMIT, 3) == pytest.approx(5.0)  # a refusal spends nothing
    clock.advance(5)
    assert limits.take(key, Action.SUBMIT, 3) == 0.0
    assert limits.take(key, Action.SUBMIT, 3) == pytest.approx(20.0)
    other = KeyStore(engine).create("someone else")[0].id
    assert limits.take(other, Action.SUBMIT, 3) == 0.0


def test_servers_racing_for_one_bucket_spend_exactly_its_requests(engine: Engine) -> None:
    clock = ManualClock()
    key = KeyStore(engine).create("caller")[0].id
    servers = [
        LimitStore(open_database(str(engine.url), upgrade=False), clock=clock) for _ in range(4)
    ]

    def take(attempt: int) -> float:
        return servers[attempt % len(servers)].take(key, Action.READ, 5)

    with ThreadPoolExecutor(max_workers=8) as pool:
        waits = list(pool.map(take, range(24)))
    assert waits.count(0.0) == 5
    assert all(wait > 0 for wait in waits if wait)


def test_requests_counted_together_spend_the_bucket_in_order(engine: Engine) -> None:
    clock = ManualClock()
    limits = LimitStore(engine, clock=clock)
    key = KeyStore(engine).create("caller")[0].id
    assert limits.take_up_to(key, Action.READ, 5, 3) == (3, pytest.approx(-12.0))
    assert limits.take_up_to(key, Action.READ, 5, 4) == (2, pytest.approx(12.0))  # 2 of 4
    assert limits.take_up_to(key, Action.READ, 5, 2) == (0, pytest.approx(12.0))  # none spent
    clock.advance(24)  # two more have come back
    assert limits.take_up_to(key, Action.READ, 5, 3) == (2, pytest.approx(12.0))
    assert limits.take(key, Action.READ, 5) == pytest.approx(12.0)  # one at a time agrees
    clock.advance(12)
    assert limits.take(key, Action.READ, 5) == 0.0


def test_servers_counting_batches_spend_exactly_the_bucket(engine: Engine) -> None:
    clock = ManualClock()
    key = KeyStore(engine).create("caller")[0].id
    servers = [
        LimitStore(open_database(str(engine.url), upgrade=False), clock=clock) for _ in range(4)
    ]

    def take(attempt: int) -> int:
        granted, _ = servers[attempt % len(servers)].take_up_to(
            key, Action.READ, 7, 1 + attempt % 3
        )
        return granted

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert sum(pool.map(take, range(24))) == 7


def test_a_key_carries_its_own_limits_and_defaults_fill_the_rest(engine: Engine) -> None:
    keys = KeyStore(engine)
    record, secret = keys.create("limited")
    LimitStore(engine).set(record.id, KeyLimits(submit_rpm=10, concurrency=0))
    found = keys.authenticate(secret).limits
    assert found == KeyLimits(submit_rpm=10, read_rpm=None, concurrency=0)
    assert effective(found.submit_rpm, 99) == 10
    assert effective(found.read_rpm, 99) == 99  # the settings' default
    assert effective(found.concurrency, 4) is None  # 0: unlimited, whatever the default
    LimitStore(engine).set(record.id, KeyLimits())
    assert keys.get(record.id) == record.__class__(**{**record.__dict__, "limits": KeyLimits()})
