"""Every answer carries a ``Trace-Id`` header; dialects that also want it in the body
(Chanjing's ``trace_id``, Modelverse's ``request_id``) read it from the request state."""

from __future__ import annotations

import os

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from conch.logs import bind_trace

TRACE_HEADER = "Trace-Id"
_TRACE_KEY = TRACE_HEADER.lower().encode("latin-1")


class TraceIdMiddleware:
    """Draws a trace id per request and adds it to the response headers; every line the
    request logs carries it (:func:`conch.logs.bind_trace`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        trace_id = os.urandom(16).hex()  # 128 random bits, as a uuid4's hex (and cheaper)
        scope.setdefault("state", {})["trace_id"] = trace_id
        bind_trace(trace_id)  # this request's own task: its context ends with it
        header = (_TRACE_KEY, trace_id.encode())

        async def send_with_trace(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        await self.app(scope, receive, send_with_trace)


def trace_id(request: Request) -> str:
    return str(request.state.trace_id)
