"""The relay's record of its upstream creates (store/relay_calls.py), against real SQLite and
PostgreSQL: the intent only under a live claim, the upstream id recorded once, one upstream
task adopted by one call, the first look of a cancel taken once, and what the reconciling
sweep finds due."""

from __future__ import annotations

import pytest

from conch.domain.ids import new_id
from conch.domain.task import Task
from conch.engines.relay.calls import CallState, RelayCall
from conch.store.db import open_database
from conch.store.keys import KeyStore
from conch.store.relay_calls import RelayCallStore
from conch.store.tasks import Claim, NewFile, TaskStore
from support.clock import ManualClock
from support.tasks import text_spec


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def store(database_url: str) -> TaskStore:
    return TaskStore(open_database(database_url))


@pytest.fixture
def calls(store: TaskStore, clock: ManualClock) -> RelayCallStore:
    return RelayCallStore(store.engine, clock=clock)


@pytest.fixture
def owner(store: TaskStore) -> int:
    return KeyStore(store.engine).create("owner")[0].id


def claimed(store: TaskStore, owner: int) -> tuple[Task, Claim]:
    spec = text_spec()
    task = store.create(task_id=new_id(), owner_id=owner, dialect="minimax", spec=spec, inputs={})
    claim = store.claim("gateway", 30, task_id=task.id)
    assert claim is not None
    return task, claim


def intend(calls: RelayCallStore, claim: Claim, upstream: str = "mm") -> RelayCall:
    call = calls.intend(claim.task_id, claim.fence, 1, upstream, "minimax", "MiniMax-Hailuo-02")
    assert call is not None
    return call


def test_an_intent_is_recorded_only_while_the_claim_holds_the_task(
    store: TaskStore, calls: RelayCallStore, owner: int, clock: ManualClock
) -> None:
    task, claim = claimed(store, owner)
    call = intend(calls, claim)
    assert (call.task_id, call.attempt, call.upstream, call.dialect) == (
        task.id,
        1,
        "mm",
        "minimax",
    )
    assert (call.state, call.created_at, call.upstream_task_id) == (
        CallState.INTENT,
        clock(),
        None,
    )
    assert calls.calls(task.id) == [call]
    # Cancelled (the fence moved on): nothing more may be created for it.
    store.cancel(owner, task.task_id)
    assert calls.intend(task.id, claim.fence, 1, "mm", "minimax", "MiniMax-Hailuo-02") is None
    assert calls.calls(task.id) == [call]


def test_the_upstream_id_is_recorded_with_its_deadline_even_after_the_claim_went(
    store: TaskStore, calls: RelayCallStore, owner: int
) -> None:
    task, claim = claimed(store, owner)
    call = intend(calls, claim)
    store.cancel(owner, task.task_id)  # the answer came after the cancel: still a fact
    assert calls.accepted(call.id, "up-1", 2_000_000_000.0)
    (accepted,) = calls.calls(task.id)
    assert (accepted.state, accepted.upstream_task_id, accepted.deadline_at) == (
        CallState.ACCEPTED,
        "up-1",
        2_000_000_000.0,
    )
    calls.settle(call.id, CallState.SUCCEEDED, "re-hosted")
    assert not calls.accepted(call.id, "up-2", 1.0)  # a settled call is not reopened
    (settled,) = calls.calls(task.id)
    assert (settled.state, settled.upstream_task_id, settled.outcome) == (
        CallState.SUCCEEDED,
        "up-1",
        "re-hosted",
    )


def test_one_upstream_task_is_adopted_by_one_call_only(
    store: TaskStore, calls: RelayCallStore, owner: int
) -> None:
    first = intend(calls, claimed(store, owner)[1])
    second_task, second_claim = claimed(store, owner)
    second = intend(calls, second_claim)
    elsewhere = intend(calls, second_claim, upstream="other")
    assert calls.accepted(first.id, "up-7", 10.0)
    # The same task id on the same upstream is refused, and leaves the call as it was.
    assert not calls.accepted(second.id, "up-7", 10.0)
    assert calls.calls(second_task.id)[0].state is CallState.INTENT
    # The same id on another upstream is another task.
    assert calls.accepted(elsewhere.id, "up-7", 10.0)
    # The refused call can still adopt another task (the next candidate in a listing).
    assert calls.accepted(second.id, "up-8", 10.0)


def test_due_finds_open_calls_of_ended_tasks_once_their_look_is_due(
    store: TaskStore, calls: RelayCallStore, owner: int, clock: ManualClock
) -> None:
    running_task, running = claimed(store, owner)
    still_running = intend(calls, running)
    failed_task, failed = claimed(store, owner)
    past_deadline = intend(calls, failed)
    calls.accepted(past_deadline.id, "up-1", clock())
    assert store.fail(failed, "internal", "did not finish")
    cancelled_task, cancelled = claimed(store, owner)
    unconfirmed = intend(calls, cancelled)
    calls.settle(unconfirmed.id, CallState.UNCONFIRMED, "no answer")
    closed = intend(calls, cancelled, upstream="other")
    calls.settle(closed.id, CallState.REFUSED, "no balance")
    store.cancel(owner, cancelled_task.task_id)

    due = calls.due(clock(), 10, hold=300)
    assert sorted(call.id for call in due) == [past_deadline.id, unconfirmed.id]
    assert all(call.next_check_at is None for call in due)  # as they were: a first look
    # Taken: held for 300 s, so another runner's sweep does not take them too.
    assert calls.due(clock(), 10, hold=300) == []
    clock.advance(301)
    assert len(calls.due(clock(), 10, hold=300)) == 2
    # A look that asks to come back later is due only then.
    calls.recheck(past_deadline.id, clock() + 1000, "still processing")
    clock.advance(301)
    assert [call.id for call in calls.due(clock(), 10, hold=300)] == [unconfirmed.id]
    assert calls.calls(failed_task.id)[0].outcome == "still processing"
    # The longest overdue first (the limit leaves the rest to the next sweep).
    later = [call.id for call in calls.due(clock() + 1000, 10, hold=300)]
    assert later == [unconfirmed.id, past_deadline.id]
    # The running task's call is never due.
    assert running_task.id not in {call.task_id for call in calls.due(clock() + 10**6, 10)}
    assert calls.calls(running_task.id)[0].state is CallState.INTENT
    assert still_running.state is CallState.INTENT


def test_due_settles_the_open_call_of_a_task_that_succeeded(
    store: TaskStore, calls: RelayCallStore, owner: int, clock: ManualClock
) -> None:
    task, claim = claimed(store, owner)
    call = intend(calls, claim)
    calls.accepted(call.id, "up-1", clock() + 60)
    # The runner recorded the success and died before settling the call.
    assert store.succeed(claim, NewFile(f"outputs/{task.id}.1.mp4", 10, 128, 72, 0)) is not None
    assert calls.due(clock(), 10) == []
    assert calls.calls(task.id)[0].state is CallState.SUCCEEDED


def test_a_late_success_is_recorded_with_where_its_video_is(
    store: TaskStore, calls: RelayCallStore, owner: int
) -> None:
    task, claim = claimed(store, owner)
    call = intend(calls, claim)
    calls.accepted(call.id, "up-1", 1.0)
    calls.collected(call.id, f"relayed/{task.id}.{call.id}.mp4", "succeeded late")
    (late,) = calls.calls(task.id)
    assert (late.state, late.file_key, late.outcome) == (
        CallState.LATE_SUCCESS,
        f"relayed/{task.id}.{call.id}.mp4",
        "succeeded late",
    )
    assert not late.state.is_open


def test_the_first_look_of_a_cancelled_call_is_taken_once(
    store: TaskStore, calls: RelayCallStore, owner: int, clock: ManualClock
) -> None:
    task, claim = claimed(store, owner)
    call = intend(calls, claim)
    calls.accepted(call.id, "up-1", clock() + 60)
    store.cancel(owner, task.task_id)
    assert calls.cancelling(call.id, clock() + 30)  # the runner that followed it
    assert not calls.cancelling(call.id, clock() + 30)  # nobody else sends it again
    (taken,) = calls.calls(task.id)
    assert taken.next_check_at == clock() + 30
    assert calls.due(clock(), 10) == []  # the sweep's next look is the one set
    # The sweep's own first look takes it too: a runner finds it taken.
    other_task, other_claim = claimed(store, owner)
    swept = intend(calls, other_claim, upstream="other")
    calls.accepted(swept.id, "up-2", clock() + 60)
    refused = intend(calls, other_claim, upstream="third")
    calls.settle(refused.id, CallState.REFUSED, "no balance")
    store.cancel(owner, other_task.task_id)
    (due,) = calls.due(clock(), 10)
    assert (due.id, due.next_check_at) == (swept.id, None)
    assert not calls.cancelling(swept.id, clock() + 30)
    # A closed call has nothing upstream to cancel.
    assert not calls.cancelling(refused.id, clock() + 30)


def test_a_failure_seen_while_following_is_recorded_unless_a_cancel_was_taken(
    store: TaskStore, calls: RelayCallStore, owner: int, clock: ManualClock
) -> None:
    task, claim = claimed(store, owner)
    followed = intend(calls, claim)
    calls.accepted(followed.id, "up-1", clock() + 60)
    assert calls.failed(followed.id, "up-1 failed (1027): sensitive")
    (failed,) = calls.calls(task.id)
    assert (failed.state, failed.outcome) == (CallState.FAILED, "up-1 failed (1027): sensitive")
    # A closed call's record is final: no cancel is taken, nothing is settled over it.
    assert not calls.cancelling(followed.id, clock())
    calls.settle(followed.id, CallState.CANCELLED, "cancelled upstream")
    assert calls.calls(task.id)[0].state is CallState.FAILED

    # Cancelled here, and its cancel sent (the sweep took it first): the upstream's
    # "cancelled", seen by the runner still following it, is not recorded as a failure.
    other_task, other_claim = claimed(store, owner)
    cancelled = intend(calls, other_claim)
    calls.accepted(cancelled.id, "up-2", clock() + 60)
    store.cancel(owner, other_task.task_id)
    assert calls.cancelling(cancelled.id, clock() + 30)
    assert not calls.failed(cancelled.id, "up-2 failed: cancelled")
    calls.settle(cancelled.id, CallState.CANCELLED, "cancelled upstream with the task")
    assert calls.calls(other_task.id)[0].state is CallState.CANCELLED
