"""Finding a create whose answer never came, in the upstream's task list.

A create that was sent but not clearly answered (a timeout after sending, a cut connection,
a 5xx) may have made a task upstream. It is never sent again; instead the upstream's newest
tasks are read and matched against what the relay sent: the same prompt and model, made no
earlier than the intent was recorded (less :data:`CLOCK_SLACK` for the two clocks), and not
already adopted by another call (the database holds each upstream task id once, so two
tasks that sent the same prompt at once adopt different ones). The oldest match is taken.

Where the upstream cannot list its tasks (MiniMax has no list call), or the task does not
appear within the upstream's ``resolve_window``, the task ends ``Fail`` saying the upstream
may hold it. A call left unconfirmed stays open: the reconciling sweep keeps looking.
"""

from __future__ import annotations

import logging

from conch.client import flows
from conch.client.backoff import Backoff
from conch.client.errors import Unsupported
from conch.client.status import Status
from conch.domain.request import GenerationRequest
from conch.domain.task import Task
from conch.engines.relay.calls import CallState, RelayCall
from conch.engines.relay.context import Hooks, Relaying, Upstream
from conch.engines.relay.outcomes import RelayGaveUp
from conch.engines.relay.transport import Pause
from conch.media.resend import stored_request

log = logging.getLogger(__name__)

CLOCK_SLACK = 300.0
"""Seconds an upstream's clock may lag conch's when matching creation times."""
PAGES = 3
"""Pages of the upstream's newest tasks read when looking (50 tasks each)."""
PAGE_SIZE = 50
LOOKS = Backoff(first=1.0, factor=2.0, ceiling=8.0, jitter=0.1)


def resolve(parts: Relaying, task: Task, call: RelayCall, hooks: Hooks) -> RelayCall:
    """The call, accepted, once its task is found upstream; RelayGaveUp when it cannot be."""
    upstream = parts.upstream(call.upstream)
    request = stored_request(task, parts.media, model=call.upstream_model)
    give_up_at = parts.now() + upstream.endpoint.terms.resolve_window
    delays = LOOKS.delays()
    while True:
        try:
            found = look(parts, upstream, call, request, hooks.pause)
        except Unsupported:
            reason = (
                f"{call.upstream} cannot list its tasks, so the unconfirmed create cannot be "
                f"found: look in its console for a task made about {call.created_at:.0f} "
                "(unix time) with this task's prompt"
            )
            parts.calls.settle(call.id, CallState.GIVEN_UP, reason)
            log.warning("task %s: %s", task.id, reason)
            raise RelayGaveUp(may_hold(None)) from None
        if found is not None:
            return found
        left = give_up_at - parts.now()
        if left <= 0:
            reason = f"the create's outcome is unknown and {call.upstream} does not list it yet"
            parts.calls.settle(call.id, CallState.UNCONFIRMED, reason)
            log.warning("task %s: %s", task.id, reason)
            raise RelayGaveUp(may_hold(None))
        hooks.pause(min(next(delays), left))


def look(
    parts: Relaying, upstream: Upstream, call: RelayCall, request: GenerationRequest, pause: Pause
) -> RelayCall | None:
    """One look through the upstream's newest tasks: the call accepted with the task it
    made, or None. Unsupported when the upstream cannot list; a failed read is None."""
    candidates: list[Status] = []
    after: str | None = None
    for _ in range(PAGES):
        try:
            page = upstream.session.run(
                flows.listing(upstream.adapter, PAGE_SIZE, after), pause=pause
            )
        except Unsupported:
            raise
        except Exception as error:  # a read that failed in passing: look again later
            log.info("listing %s failed: %s", upstream.name, error)
            return None
        candidates += [s for s in page.tasks if _matches(s, request, call.created_at)]
        older = [s for s in page.tasks if s.created_at is not None]
        if page.next_after is None or (
            older and min(s.created_at or 0 for s in older) < call.created_at - CLOCK_SLACK
        ):
            break
        after = page.next_after
    deadline = parts.now() + upstream.endpoint.terms.poll_deadline
    for status in sorted(candidates, key=lambda s: s.created_at or 0):
        if parts.calls.accepted(call.id, status.task_id, deadline):
            found = status.task_id
            log.info("found %s task %s for call %s in its list", upstream.name, found, call.id)
            return next(c for c in parts.calls.calls(call.task_id) if c.id == call.id)
    return None


def _matches(status: Status, request: GenerationRequest, sent_at: float) -> bool:
    """Whether ``status`` may be the task a create sent with ``request`` made."""
    if status.prompt is None and status.created_at is None:
        return False  # nothing to tell one task from another
    if status.prompt is not None and status.prompt != request.prompt:
        return False
    if status.model is not None and status.model != request.model:
        return False
    if None not in (status.duration, request.duration) and status.duration != request.duration:
        return False
    return status.created_at is None or status.created_at >= sent_at - CLOCK_SLACK


def may_hold(upstream_id: str | None) -> str:
    """The caller's reason when a create's outcome could not be learnt."""
    known = f" as task {upstream_id}" if upstream_id else ""
    return (
        "the video could not be confirmed: the upstream service may hold this task"
        f"{known}; it was not sent again (a second create would be paid twice)"
    )
