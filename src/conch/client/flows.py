"""The SDK's calls as flows (see :mod:`conch.client.effects`): written once, run by both
the blocking and the asyncio client.

Reads (status, links, downloads) are retried when they fail in passing: a transport error,
a 5xx, a provider's internal error or rate limit. A submit is never retried: if its answer
was lost, or was a failure that does not say the task was refused, the task may exist, and
a second submit would be paid for again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import httpx

from conch.client.adapters import Adapter, Link
from conch.client.adapters.base import Credentials
from conch.client.backoff import Backoff, Retry
from conch.client.effects import Answer, Call, Flow, Sleep, T
from conch.client.errors import (
    ProviderError,
    ServiceUnreachable,
    SubmitUnconfirmed,
    TaskFailed,
    WaitTimeout,
)
from conch.client.status import Page, State, Status
from conch.domain.errors import ErrorCode
from conch.domain.request import GenerationRequest

StatusListener = Callable[[Status], None]
"""Told every status a wait sees."""


def send(adapter: Adapter, call: Call) -> Flow[Answer]:
    """Make ``call`` with the adapter's credentials, renewing them once if they are refused."""
    answer, refused = yield from _attempt(adapter.credentials, call)
    if refused:
        answer, _ = yield from _attempt(adapter.credentials, call)
    return answer


RENEWAL_PATIENCE = 90.0
"""Seconds a call waits for credentials another call or process is fetching: longer than one
request may take, shorter than forever when that process was suspended."""


def _attempt(credentials: Credentials, call: Call) -> Flow[tuple[Answer, bool]]:
    waited = 0.0
    while (step := credentials.renewal()) is not None:
        if isinstance(step, Sleep):  # another call is fetching them: wait for those
            if waited >= RENEWAL_PATIENCE:
                raise ServiceUnreachable(
                    f"credentials being fetched by another call or process for {waited:.0f} "
                    "s never came"
                )
            waited += step.seconds
            yield step
            continue
        try:
            credentials.renewed((yield step))
        finally:
            credentials.renewal_over()  # renewed, refused or cut off: the waiters go on
        break
    headers = credentials.headers()
    answer: Answer = yield call.with_headers(headers)
    return answer, credentials.refused(answer, headers)


def submit(adapter: Adapter, request: GenerationRequest) -> Flow[str]:
    """Submit once (never retried); the new task's id.

    ServiceUnreachable when nothing was sent; SubmitUnconfirmed when the submit was sent and
    the answer (none, a 5xx, a timeout, an internal error) does not say it was refused.
    """
    try:
        answer = yield from send(adapter, adapter.submit_call(request))
    except httpx.ConnectError as error:
        raise ServiceUnreachable(f"nothing was submitted: {_described(error)}") from error
    except httpx.HTTPError as error:
        raise _unconfirmed(f"got no answer ({_described(error)})") from error
    try:
        return adapter.submitted(answer)
    except ProviderError as error:
        if not _may_exist(error):
            raise  # a refusal: nothing was made
        raise _unconfirmed(f"was answered with a failure ({error})") from error


def _may_exist(error: ProviderError) -> bool:
    """Whether the task may exist although the submit's answer is an error: the service
    failed (or timed out) without refusing the request."""
    return error.code is ErrorCode.INTERNAL or error.http_status >= 500 or error.http_status == 408


def _unconfirmed(what: str) -> SubmitUnconfirmed:
    return SubmitUnconfirmed(
        f"the submit {what}. The task may already exist: look for it (conch tasks list, or "
        "the provider's console) before submitting again. It was not sent again: a second "
        "submit is a second task, paid for again"
    )


def status(adapter: Adapter, task_id: str) -> Flow[Status]:
    """One look at the task; every answer's code checked, whatever its HTTP status."""
    answer = yield from send(adapter, adapter.status_call(task_id))
    return adapter.status(task_id, answer)


def link(adapter: Adapter, of: Status) -> Flow[Link]:
    """A fresh link to the video of a succeeded task."""
    answer = yield from send(adapter, adapter.link_call(of))
    return adapter.link(of, answer)


def listing(adapter: Adapter, limit: int, after: str | None) -> Flow[Page]:
    """One page of the caller's tasks, newest first."""
    answer = yield from send(adapter, adapter.list_call(limit, after))
    page = adapter.listed(answer, after)
    return Page(page.tasks[:limit], page.next_after)


def cancel(adapter: Adapter, task_id: str) -> Flow[Status]:
    """Cancel the task once (not retried: a second try would find it cancelled, and say it
    had ended); the task as the cancel left it."""
    answer = yield from send(adapter, adapter.cancel_call(task_id))
    return adapter.cancelled(task_id, answer)


def is_transient(error: BaseException) -> bool:
    """Whether asking again later may cure ``error``."""
    if isinstance(error, httpx.UnsupportedProtocol):  # a URL that can never work
        return False
    if isinstance(error, httpx.TransportError):
        return True
    return isinstance(error, ProviderError) and error.transient


def unreachable(error: httpx.HTTPError) -> ServiceUnreachable:
    """A transport failure as conch's error."""
    return ServiceUnreachable(f"the service did not answer: {_described(error)}")


def _described(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"


def retrying(
    read: Callable[[], Flow[T]], retry: Retry, *, deadline: float | None = None
) -> Flow[T]:
    """``read()``, tried again after transient failures: ``retry.attempts`` times in all, or
    (with a ``deadline``, on the monotonic clock) until the deadline."""
    delays = retry.backoff.delays()
    attempt = 0
    while True:
        attempt += 1
        try:
            return (yield from read())
        except Exception as error:
            if not is_transient(error):
                raise
            pause = next(delays)
            spent = attempt >= retry.attempts if deadline is None else _past(deadline, pause)
            if spent and isinstance(error, httpx.HTTPError):
                raise unreachable(error) from error
            if spent:
                raise  # already conch's error (a provider's, still refusing)
        yield Sleep(pause)


def _past(deadline: float, pause: float) -> bool:
    return time.monotonic() + pause >= deadline


def wait(
    adapter: Adapter,
    task_id: str,
    *,
    timeout: float,
    poll: Backoff,
    retry: Retry,
    on_status: StatusListener | None = None,
) -> Flow[Status]:
    """Poll until the task ends: its status on success; TaskFailed or WaitTimeout else.

    Transient failures are retried until the deadline, so a service that restarts while a
    client waits costs the client nothing but time.
    """
    deadline = time.monotonic() + timeout
    delays: Iterator[float] = poll.delays()
    last: Status | None = None
    while True:
        try:
            last = yield from retrying(lambda: status(adapter, task_id), retry, deadline=deadline)
        except (ServiceUnreachable, ProviderError) as error:
            if isinstance(error, ProviderError) and not error.transient:
                raise
            raise WaitTimeout(task_id, timeout, last) from error
        if on_status is not None:
            on_status(last)
        if last.state is State.SUCCEEDED:
            return last
        if last.state is State.FAILED:
            raise TaskFailed(last)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise WaitTimeout(task_id, timeout, last)
        yield Sleep(min(next(delays), remaining))
