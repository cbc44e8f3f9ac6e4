"""Following an accepted upstream task until it ends, or until its deadline.

Polls come with backoff and jitter (the upstream's ``poll_first`` growing to its
``poll_ceiling``). A poll that fails in passing (no connection, a 5xx) or is rate-limited
(MiniMax's 1002, HTTP 429, Chanjing's 40001) slows the polling down and never fails the
task; nor does any other refusal of a poll (a revoked key is the operator's to fix, and
the task is still the upstream's). Progress the upstream reports is passed on.

At the deadline (``poll_deadline`` seconds after the create was accepted, stored with the
call, so a restart does not extend it) the task ends ``Fail``; its call stays open, and
the reconciling sweep (:mod:`conch.engines.relay.reconcile`) still collects a late success.
"""

from __future__ import annotations

import logging

import httpx

from conch.client import flows
from conch.client.backoff import Backoff
from conch.client.errors import ProviderError
from conch.client.status import State, Status
from conch.domain.errors import ErrorCode
from conch.engines.relay.calls import RelayCall
from conch.engines.relay.context import ClaimGone, Hooks, Relaying, Upstream
from conch.engines.relay.outcomes import RelayGaveUp, failed_upstream, operator_reason

log = logging.getLogger(__name__)

SLOWEST = 8.0
"""The most a run of failed or rate-limited polls multiplies the pause by."""


def follow(parts: Relaying, upstream: Upstream, call: RelayCall, hooks: Hooks) -> Status:
    """The upstream task's status once it succeeded; the mapped error once it failed."""
    assert call.upstream_task_id is not None and call.deadline_at is not None
    terms = upstream.endpoint.terms
    delays = Backoff(terms.poll_first, 1.5, terms.poll_ceiling, jitter=0.2).delays()
    slowdown = 1.0
    while True:
        left = call.deadline_at - parts.now()
        if left <= 0:
            raise _past_deadline(parts, call, terms.poll_deadline)
        hooks.pause(min(next(delays) * slowdown, left))
        try:
            status = upstream.session.run(
                flows.status(upstream.adapter, call.upstream_task_id), pause=hooks.pause
            )
        except (httpx.HTTPError, ProviderError) as error:
            slowdown = min(SLOWEST, slowdown * 2)
            if not (isinstance(error, ProviderError) and error.code is ErrorCode.RATE_LIMITED):
                reason = operator_reason(call.upstream, error)
                log.info("task %s: poll failed: %s", call.task_id, reason)
            continue
        slowdown = max(1.0, slowdown / 2)
        if status.state is State.SUCCEEDED:
            return status
        if status.state is State.FAILED:
            reason = _failure_words(call, status)
            if not parts.calls.failed(call.id, reason):
                # The task was cancelled here and its cancel sent (by the sweep, before
                # this runner looked at its claim): that is what the upstream reports.
                raise ClaimGone(f"task {call.task_id} was cancelled")
            log.warning("task %s: %s", call.task_id, reason)
            raise failed_upstream(status.failure)
        if status.state is State.RUNNING:
            hooks.processing()
        if status.progress is not None:
            hooks.progress(status.progress)


def _past_deadline(parts: Relaying, call: RelayCall, seconds: float) -> RelayGaveUp:
    reason = (
        f"{call.upstream} task {call.upstream_task_id} had not ended {seconds:g} s after its "
        "create (poll_deadline); the sweep keeps collecting it"
    )
    parts.calls.recheck(call.id, parts.now(), reason)
    log.warning("task %s: %s", call.task_id, reason)
    return RelayGaveUp(
        f"the upstream did not finish the video within {seconds:g} s (task "
        f"{call.upstream_task_id} upstream); conch stopped waiting"
    )


def _failure_words(call: RelayCall, status: Status) -> str:
    failure = status.failure
    words = failure.message if failure and failure.message else "no reason given"
    code = failure.provider_code if failure else None
    return f"{call.upstream} task {call.upstream_task_id} failed ({code}): {words}"
