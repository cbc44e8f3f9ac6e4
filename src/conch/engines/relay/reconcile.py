"""The reconciling sweep: what became of upstream tasks whose conch task had already ended.

A relayed task can end while its upstream task lives on: conch stopped waiting at the
deadline, the owner cancelled it, a create's outcome was unknown, or the runner's attempts
ran out. The provider still bills what it finishes, so the sweep keeps asking, with a
growing pause, for up to ``relay_reconcile_horizon`` seconds:

- a late success is downloaded and kept in the media store (``relayed/...``), and the call
  records it (``late_success``) with where the video is, so the operator's records match
  the provider's; the conch task keeps the ending its caller was told;
- a late failure is recorded (``failed``);
- an unconfirmed create is looked for in the upstream's list once more, and followed if
  it is found; an upstream that cannot list is given up on at once, saying so;
- a cancelled task's upstream task that no runner cancelled (none was following it) is
  cancelled on the sweep's first look at its call (:mod:`conch.engines.relay.cancel`).
"""

from __future__ import annotations

import logging

from conch.client import flows
from conch.client.errors import Unsupported
from conch.client.status import State
from conch.domain.task import Task, TaskStatus
from conch.engines.relay.calls import CallState, RelayCall
from conch.engines.relay.cancel import cancel_upstream
from conch.engines.relay.context import Relaying
from conch.engines.relay.rehost import rehost
from conch.engines.relay.resolve import look
from conch.media.resend import stored_request

log = logging.getLogger(__name__)

LONGEST_RECHECK = 3600.0
LATE_PREFIX = "relayed"


def _no_pause(seconds: float) -> None:
    """The sweep does not wait inside a look: it comes back on its next round instead."""
    raise TimeoutError(f"the sweep does not wait ({seconds:g} s asked)")


def reconcile(parts: Relaying, call: RelayCall, task: Task) -> CallState:
    """One look at ``call`` (whose ``task`` has ended): its state after. ``call`` is as it
    was before :meth:`~conch.store.relay_calls.RelayCallStore.due` took it: with no next
    check, this is the first look since its task ended."""
    horizon = parts.settings.relay_reconcile_horizon
    if parts.now() - call.created_at > horizon:
        reason = (
            f"still open {horizon:g} s after the create: given up; check {call.upstream}'s console"
        )
        parts.calls.settle(call.id, CallState.GIVEN_UP, reason)
        return CallState.GIVEN_UP
    try:
        if call.upstream_task_id is None:
            return _look_for(parts, call, task)
        if task.status is TaskStatus.CANCELLED and call.next_check_at is None:
            return cancel_upstream(parts, call, _no_pause)
        return _ask(parts, call)
    except Exception as error:  # the upstream is down, or answers nonsense: try later
        log.info("relay sweep: call %s: %s", call.id, error)
        _later(parts, call, call.outcome)
        return call.state


def _look_for(parts: Relaying, call: RelayCall, task: Task) -> CallState:
    upstream = parts.upstream(call.upstream)
    request = stored_request(task, parts.media, model=call.upstream_model)
    try:
        found = look(parts, upstream, call, request, _no_pause)
    except Unsupported:
        reason = f"{call.upstream} cannot list its tasks: the unconfirmed create cannot be found"
        parts.calls.settle(call.id, CallState.GIVEN_UP, reason)
        return CallState.GIVEN_UP
    if found is None:
        _later(parts, call, call.outcome)
        return call.state
    if task.status is TaskStatus.CANCELLED:
        return cancel_upstream(parts, found, _no_pause)
    return _ask(parts, found)


def _ask(parts: Relaying, call: RelayCall) -> CallState:
    assert call.upstream_task_id is not None
    upstream = parts.upstream(call.upstream)
    status = upstream.session.run(
        flows.status(upstream.adapter, call.upstream_task_id), pause=_no_pause
    )
    if status.state is State.FAILED:
        words = status.failure.message if status.failure else "no reason given"
        reason = f"failed upstream after conch ended it: {words}"
        parts.calls.settle(call.id, CallState.FAILED, reason)
        return CallState.FAILED
    if status.state is not State.SUCCEEDED:
        _later(parts, call, call.outcome)
        return call.state
    output = parts.media.staging_path(call.task_id, 0).with_name(f"relay-{call.id}.mp4")
    try:
        header = rehost(upstream, status, output, _no_pause)
        key = f"{LATE_PREFIX}/{call.task_id}.{call.id}.mp4"
        size = parts.media.publish(output, key)
    finally:
        output.unlink(missing_ok=True)
    outcome = (
        f"{call.upstream} task {call.upstream_task_id} succeeded after conch ended the task: "
        f"the provider bills it; its video ({header.width}x{header.height}, {size} bytes) "
        f"is kept at {key}"
    )
    parts.calls.collected(call.id, key, outcome)
    log.warning("relay sweep: task %s: %s", call.task_id, outcome)
    return CallState.LATE_SUCCESS


def _later(parts: Relaying, call: RelayCall, outcome: str | None) -> None:
    # The pause grows with the call's age: about doubling, from relay_recheck_after.
    waited = parts.now() - call.created_at
    pause = min(LONGEST_RECHECK, max(parts.settings.relay_recheck_after, waited / 2))
    parts.calls.recheck(call.id, parts.now() + pause, outcome)
