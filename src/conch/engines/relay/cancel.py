"""Cancelling upstream a relayed task the caller cancelled here.

A relayed task cancelled in any dialect (or by ``conch tasks cancel``, or deleted) is taken
from its runner: the runner's next look at its claim stops the following. Its open call
with an upstream task id is then cancelled upstream, once, where the upstream has a call
for it: a conch (in every dialect: its own cancel, /v1/videos' DELETE, v2's DELETE) and a
/v1/videos server (DELETE, which also deletes the video). MiniMax, its resellers and
Chanjing have no such call, and none is sent.

The outcome is recorded on the call, so the operator's records match the provider's:

- the upstream answers that its task is cancelled: the call is ``cancelled`` (closed:
  nothing is left to collect or bill);
- the upstream has no cancel call, refused the cancel (its task had ended) or could not
  be reached: the call stays open, saying why, and the reconciling sweep
  (:mod:`conch.engines.relay.reconcile`) records what the upstream task did after (a late
  success kept, or a failure).

Who sends the cancel: the runner following the task, when it sees it cancelled; or, when
no runner was following it (the gateway was down, the task waited for a retry), the sweep
on its first look at the call. A call is looked at for the first time only once: taking
that first look sets its next check (:meth:`~conch.engines.relay.calls.CallLog.cancelling`,
and the sweep's own :meth:`~conch.store.relay_calls.RelayCallStore.due`).
"""

from __future__ import annotations

import logging

from conch.client import flows
from conch.client.status import State
from conch.engines.relay.calls import CallState, RelayCall
from conch.engines.relay.context import Relaying
from conch.engines.relay.outcomes import operator_reason
from conch.engines.relay.transport import Pause

log = logging.getLogger(__name__)


def cancel_upstream(parts: Relaying, call: RelayCall, pause: Pause) -> CallState:
    """Cancel ``call``'s upstream task once (its conch task was cancelled); the call's state
    after. The caller has taken the cancel's sending (a first look at the call)."""
    assert call.upstream_task_id is not None
    upstream = parts.upstream(call.upstream)
    named = f"{call.upstream} task {call.upstream_task_id}"
    collects = "the sweep records what it does"
    if not upstream.endpoint.cancels:
        reason = (
            f"cancelled here; {call.upstream} ({upstream.endpoint.terms.kind}) has no cancel "
            f"call, so {named} runs on: {collects}"
        )
        return _left_open(parts, call, reason)
    try:
        status = upstream.session.run(
            flows.cancel(upstream.adapter, call.upstream_task_id),
            pause=pause,
            timeout=upstream.endpoint.terms.create_timeout,
        )
    except Exception as error:  # refused (it had ended), unreachable, or a 5xx
        reason = (
            f"cancelled here; the cancel of {named} was not taken "
            f"({operator_reason(call.upstream, error)}): {collects}"
        )
        return _left_open(parts, call, reason)
    if status.state is not State.FAILED:
        reason = f"cancelled here; after the cancel {named} is {status.provider_status}: {collects}"
        return _left_open(parts, call, reason)
    reason = f"cancelled upstream with the task: {named} is {status.provider_status}"
    parts.calls.settle(call.id, CallState.CANCELLED, reason)
    log.info("task %s: %s", call.task_id, reason)
    return CallState.CANCELLED


def _left_open(parts: Relaying, call: RelayCall, reason: str) -> CallState:
    parts.calls.recheck(call.id, parts.now() + parts.settings.relay_recheck_after, reason)
    log.info("task %s: %s", call.task_id, reason)
    return call.state
