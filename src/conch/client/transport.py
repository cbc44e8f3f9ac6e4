"""HTTP in the flows' terms: how the clients' httpx clients are made, a :class:`Call` as
httpx's arguments, an httpx response as an :class:`Answer`, and a flow driven to its end
with blocking I/O."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from conch import __version__
from conch.client.effects import Answer, Call, Effect, Fetched, Flow, T

HEADERS = {"User-Agent": f"conch-sdk/{__version__}"}
TIMEOUT = httpx.Timeout(60.0, connect=10.0)
"""Per request: answers are small and quick; a slow download only has to keep moving."""


def http_options(base_url: str) -> dict[str, Any]:
    """The arguments of the httpx client (blocking or asyncio) that talks to ``base_url``."""
    return {
        "base_url": base_url,
        "timeout": TIMEOUT,
        "headers": HEADERS,
        "follow_redirects": True,
    }


def call_kwargs(call: Call) -> dict[str, Any]:
    """httpx's arguments for ``call``."""
    return {
        "method": call.method,
        "url": call.path,
        "params": dict(call.params) or None,
        "json": call.json,
        "headers": dict(call.headers),
    }


def answer_of(response: httpx.Response) -> Answer:
    """A read response in the flows' terms."""
    try:
        body = response.json()
    except ValueError:
        body = None
    return Answer(response.status_code, body, response.text)


def drive(flow: Flow[T], perform: Callable[[Effect], Answer | Fetched | None]) -> T:
    """Perform ``flow``'s effects with ``perform`` until it ends; its result. A transport
    error is thrown into the flow at the effect that failed, where the flow decides whether
    to retry; one the flow does not take propagates."""
    try:
        effect: Effect = next(flow)
        while True:
            try:
                outcome = perform(effect)
            except httpx.HTTPError as error:
                effect = flow.throw(error)
            else:
                effect = flow.send(outcome)
    except StopIteration as done:
        result: T = done.value
        return result
    finally:
        flow.close()  # a flow left half-way (cancelled, interrupted) cleans up now


async def drive_async(
    flow: Flow[T], perform: Callable[[Effect], Awaitable[Answer | Fetched | None]]
) -> T:
    """:func:`drive` for an async ``perform``, the async client's: the same loop, awaiting
    each effect (the loop is written once for each colour of function)."""
    try:
        effect: Effect = next(flow)
        while True:
            try:
                outcome = await perform(effect)
            except httpx.HTTPError as error:
                effect = flow.throw(error)
            else:
                effect = flow.send(outcome)
    except StopIteration as done:
        result: T = done.value
        return result
    finally:
        flow.close()  # a flow left half-way (cancelled, interrupted) cleans up now
