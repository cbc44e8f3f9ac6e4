"""Creating a task upstream exactly once, falling over only when the create surely failed.

Each create is recorded before it leaves (the intent) and again as soon as its answer names
the upstream task, each in its own committed write (:mod:`conch.engines.relay.calls`). So an
attempt finds, before anything else, any call an earlier attempt left open:

- with an upstream id: the task is followed from there, never created again;
- without one (the process died mid-create; the create's answer was lost, cut off or a
  5xx): it is looked for in the upstream's task list (:mod:`conch.engines.relay.resolve`);
  where the upstream cannot list, or the task does not appear, the task ends ``Fail``
  saying the upstream may hold it. It is never sent again blindly.

A new create falls over to the next upstream only when it certainly did not happen: no
connection was opened, or the upstream refused it (bad key, no balance, rate limit, a
field its dialect cannot carry). A refusal of the request itself (invalid parameters,
sensitive content) ends the task at once: another upstream would refuse it too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from conch.client import flows
from conch.client.errors import ProviderError, ServiceUnreachable, SubmitUnconfirmed
from conch.domain.errors import ConchError, ErrorCode, Internal, InvalidParams
from conch.domain.task import Task
from conch.engines.relay.calls import CallState, RelayCall
from conch.engines.relay.context import ClaimGone, Hooks, Relaying, Upstream
from conch.engines.relay.outcomes import (
    GENERIC,
    THE_CALLERS,
    THE_OPERATORS,
    RelayGaveUp,
    callers_error,
    operator_reason,
)
from conch.engines.relay.resolve import resolve
from conch.media.resend import stored_request

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Refusal:
    """A create that certainly did not happen: why, for the caller and the operator."""

    code: ErrorCode | None
    """The canonical refusal; None when nothing was sent (no connection)."""
    reason: str
    detail: str = ""
    """The refusal in the caller's terms (no upstream names)."""
    caller: ConchError | None = None
    """The caller's own error, for a refusal of the request itself."""


def create_or_resume(parts: Relaying, task: Task, fence: int, hooks: Hooks) -> RelayCall:
    """The task's accepted upstream call: an open one resumed, or a new one created."""
    calls = parts.calls.calls(task.id)
    open_calls = [call for call in calls if call.state.is_open]
    if open_calls:
        call = open_calls[-1]
        if call.upstream_task_id is not None:
            log.info("task %s: resuming %s task %s", task.id, call.upstream, call.upstream_task_id)
            return call
        return resolve(parts, task, call, hooks)
    tried = {
        c.upstream for c in calls if c.attempt == task.attempts and c.state is CallState.REFUSED
    }
    route = parts.settings.route(task.model)
    refusals: list[Refusal] = []
    for name in route.upstreams:
        if name in tried:
            continue
        upstream = parts.upstream(name)
        accepted, refusal = _create(parts, upstream, task, fence, hooks)
        if accepted is not None:
            return accepted
        assert refusal is not None
        if refusal.caller is not None:
            raise refusal.caller
        refusals.append(refusal)
    raise _no_upstream_took(refusals)


def _create(
    parts: Relaying, upstream: Upstream, task: Task, fence: int, hooks: Hooks
) -> tuple[RelayCall | None, Refusal | None]:
    model = parts.settings.route(task.model).upstream_model or task.model
    dialect = upstream.endpoint.dialect.value
    call = parts.calls.intend(task.id, fence, task.attempts, upstream.name, dialect, model)
    if call is None:
        raise ClaimGone(f"task {task.id} was taken before its create was sent")
    request = stored_request(task, parts.media, model=model)
    terms = upstream.endpoint.terms
    try:
        upstream_id = upstream.session.run(
            flows.submit(upstream.adapter, request), pause=hooks.pause, timeout=terms.create_timeout
        )
    except SubmitUnconfirmed as unclear:
        reason = operator_reason(upstream.name, unclear)
        log.warning("task %s: the create to %s is unconfirmed: %s", task.id, upstream.name, reason)
        parts.calls.settle(call.id, CallState.UNCONFIRMED, reason)
        return resolve(parts, task, call, hooks), None
    except (ServiceUnreachable, ProviderError, InvalidParams, ConchError) as refused:
        refusal = _refusal(upstream.name, refused)
        log.warning("task %s: %s", task.id, refusal.reason)
        parts.calls.settle(call.id, CallState.REFUSED, refusal.reason)
        return None, refusal
    deadline = parts.now() + terms.poll_deadline
    if not parts.calls.accepted(call.id, upstream_id, deadline):
        reason = f"{upstream.name} answered with task {upstream_id}, which another task holds"
        parts.calls.settle(call.id, CallState.GIVEN_UP, reason)
        raise RelayGaveUp(GENERIC)
    log.info("task %s: created %s task %s", task.id, upstream.name, upstream_id)
    return _reread(parts, task.id, call.id), None


def _refusal(upstream: str, error: Exception) -> Refusal:
    reason = f"create refused, not sent again: {operator_reason(upstream, error)}"
    if isinstance(error, ServiceUnreachable):
        return Refusal(None, f"create never sent: {operator_reason(upstream, error)}")
    if isinstance(error, ProviderError) and error.code in THE_CALLERS:
        return Refusal(error.code, reason, caller=callers_error(error.code, error.detail))
    if isinstance(error, ConchError):
        # Refused before sending (a field the dialect cannot carry, no credentials) or by
        # the upstream (key, balance, rate limit): another upstream may take it.
        return Refusal(error.code, reason, error.message())
    return Refusal(None, reason)


def _no_upstream_took(refusals: list[Refusal]) -> ConchError:
    """The error a task ends with when every upstream refused its create."""
    codes = {refusal.code for refusal in refusals}
    if codes == {ErrorCode.INVALID_PARAMS}:  # fields no configured dialect can carry
        details = "; ".join(sorted({refusal.detail for refusal in refusals}))
        return InvalidParams(f"no upstream of this model can carry the request: {details}")
    if refusals and codes <= THE_OPERATORS:
        return RelayGaveUp(GENERIC)  # the operator's account: the reasons are in the calls
    if not refusals:
        return RelayGaveUp(f"{GENERIC} (every upstream refused it in this attempt)")
    # Unreachable, rate-limited or refusing for now: the retry policy tries again later.
    return Internal("no upstream could take the task now; it will be tried again")


def _reread(parts: Relaying, task_id: int, call_id: int) -> RelayCall:
    return next(call for call in parts.calls.calls(task_id) if call.id == call_id)
