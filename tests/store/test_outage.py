"""Outage: the waits between tries while storage fails, and how often the log hears of it."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy.exc import OperationalError

from conch.store.outage import MAX_DELAY, REPORT_EVERY, Outage

log = logging.getLogger("conch.test.outage")


class Clock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


def full() -> OperationalError:
    return OperationalError("INSERT ...", {}, Exception("database or disk is full"))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def outage(clock: Clock) -> Outage:
    return Outage("the test loop", log, clock=clock)


def messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == log.name]


def test_the_wait_doubles_up_to_the_maximum(outage: Outage) -> None:
    waits = [outage.failed(full()) for _ in range(10)]
    assert waits[:4] == [0.5, 1.0, 2.0, 4.0]
    assert waits[-1] == MAX_DELAY and max(waits) == MAX_DELAY
    for _ in range(5000):  # a long outage: still the maximum, no overflow
        outage.failed(full())
    assert outage.delay == MAX_DELAY
    outage.succeeded()
    assert outage.delay == 0.0 and outage.failed(full()) == 0.5


def test_an_outage_is_logged_once_per_interval(
    outage: Outage, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=log.name)
    for _ in range(100):  # a try every quarter second, for 25 s
        outage.failed(full())
        clock.now += 0.25
    assert messages(caplog) == ["the test loop failed; retrying with backoff"]
    assert caplog.records[0].exc_info is not None  # the traceback, once
    clock.now += REPORT_EVERY
    outage.failed(full())
    assert len(messages(caplog)) == 2
    assert "still failing after 85 s (100 failures since the last report)" in messages(caplog)[1]
    outage.succeeded()
    assert messages(caplog)[2] == "the test loop works again after 85 s and 101 failures"


def test_an_outage_that_flickers_is_not_logged_more(
    outage: Outage, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=log.name)
    for _ in range(50):  # fails, works, fails, works...
        outage.failed(full())
        outage.succeeded()
        clock.now += 1.0
    assert len(messages(caplog)) == 2  # the first failure and its end, nothing since
    clock.now += REPORT_EVERY
    outage.failed(full())
    assert len(messages(caplog)) == 3
