"""Reads counted against a key's read rate in batches: one transaction for the reads that
arrive together, the limit held exactly, the first reads served first."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest
from sqlalchemy import Engine, event

from conch.api.read_counts import ReadCounter
from conch.config import Settings
from conch.domain.errors import RateLimited
from conch.quotas import Quotas
from conch.store.db import open_database
from conch.store.keys import ApiKey, KeyStore
from conch.store.ledger import Ledger
from conch.store.limits import KeyLimits, LimitStore


def counter_for(engine: Engine, tmp_path: Path) -> ReadCounter:
    settings = Settings(data_dir=tmp_path)
    return ReadCounter(Quotas(settings, LimitStore(engine), Ledger(engine)))


def new_key(engine: Engine, read_rpm: int | None) -> ApiKey:
    key = KeyStore(engine).create("reader")[0]
    return dataclasses.replace(key, limits=KeyLimits(read_rpm=read_rpm))


def count_transactions(engine: Engine) -> list[int]:
    begun: list[int] = []
    event.listen(engine, "begin", lambda *_: begun.append(1))
    return begun


async def read_all(counter: ReadCounter, owners: list[ApiKey]) -> list[BaseException | None]:
    return await asyncio.gather(*(counter.count(owner) for owner in owners), return_exceptions=True)


def test_reads_that_arrive_together_are_counted_in_one_transaction(
    database_url: str, tmp_path: Path
) -> None:
    engine = open_database(database_url)
    counter = counter_for(engine, tmp_path)
    owner = new_key(engine, read_rpm=5)
    begun = count_transactions(engine)
    outcomes = asyncio.run(read_all(counter, 8 * [owner]))
    assert outcomes[:5] == 5 * [None]  # the bucket's five, first come first served
    refusals = outcomes[5:]
    assert all(isinstance(refused, RateLimited) for refused in refusals)
    assert "this key may make 5 reads a minute; retry in 12 s" in str(refusals[0])
    assert len(begun) == 1
    assert asyncio.run(read_all(counter, [owner])) != [None]  # still spent, later on
    engine.dispose()


def test_keys_are_counted_apart_and_a_key_without_a_limit_is_not_counted(
    database_url: str, tmp_path: Path
) -> None:
    engine = open_database(database_url)
    counter = counter_for(engine, tmp_path)
    one, other, free = new_key(engine, 2), new_key(engine, 2), new_key(engine, None)
    begun = count_transactions(engine)
    outcomes = asyncio.run(read_all(counter, [one, other, free, one, other, free, one]))
    assert outcomes[:6] == 6 * [None]
    assert isinstance(outcomes[6], RateLimited)
    assert len(begun) == 2  # one per limited key; none for the key without a limit
    engine.dispose()


def test_the_newest_record_of_a_key_sets_the_limit(database_url: str, tmp_path: Path) -> None:
    engine = open_database(database_url)
    counter = counter_for(engine, tmp_path)
    owner = new_key(engine, read_rpm=1)
    raised = dataclasses.replace(owner, limits=KeyLimits(read_rpm=3))  # updated meanwhile
    assert asyncio.run(read_all(counter, [owner, owner, raised])) == 3 * [None]
    engine.dispose()


def test_a_failing_store_fails_every_read_waiting(tmp_path: Path) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 'conch.db'}")
    counter = counter_for(engine, tmp_path)
    owner = new_key(engine, read_rpm=5)

    def fail(*_: object) -> None:
        raise RuntimeError("the database is gone")

    counter.quotas.limits.take_up_to = fail  # type: ignore[method-assign]
    outcomes = asyncio.run(read_all(counter, 3 * [owner]))
    assert [str(outcome) for outcome in outcomes] == 3 * ["the database is gone"]
    counter.quotas.limits.take_up_to = LimitStore(engine).take_up_to  # type: ignore[method-assign]
    assert asyncio.run(read_all(counter, [owner])) == [None]  # and then recovers
    engine.dispose()


@pytest.mark.parametrize("read_rpm", [None, 0])
def test_no_limit_means_no_counting(read_rpm: int | None, tmp_path: Path) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 'conch.db'}")
    counter = counter_for(engine, tmp_path)
    owner = new_key(engine, read_rpm)
    begun = count_transactions(engine)
    assert asyncio.run(read_all(counter, 50 * [owner])) == 50 * [None]
    assert begun == []
    engine.dispose()
