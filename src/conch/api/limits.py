"""The largest request body conch reads, enforced whether the size is declared or not.

A body whose ``Content-Length`` is over the limit is refused before it is read; one that
streams past the limit is cut off there. Either way the caller gets its dialect's
malformed-request error (the route class renders it), never an unbounded read.
"""

from __future__ import annotations

import math
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from conch.domain.errors import MalformedRequest

_NUMBERS = {1: "one", 2: "two", 3: "three"}


def body_too_large(limit: int, max_image_bytes: int | None = None) -> MalformedRequest:
    """The error for a body over ``limit``; it says how many of the largest images fit."""
    fit = ""
    if max_image_bytes:
        images = limit // (4 * math.ceil(max_image_bytes / 3))  # base64: 4 characters per 3 bytes
        if images:
            count = _NUMBERS.get(images, str(images))
            noun = "image" if images == 1 else "images"
            fit = f" ({count} {noun} of {_size(max_image_bytes)} as base64 fit)"
    return MalformedRequest(
        f"the request body is over {limit} bytes, the most this server reads{fit}; "
        "send large images as URLs"
    )


def _size(max_bytes: int) -> str:
    return f"{max_bytes / 2**20:.3g} MB" if max_bytes >= 2**20 else f"{max_bytes} bytes"


def declared_too_large(request: Request, limit: int) -> MalformedRequest | None:
    """The error for a body whose declared length is over ``limit``, before reading it."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return body_too_large(limit, _max_image_bytes(request.app))
    return None


def _max_image_bytes(app: Any) -> int | None:
    # The app's settings, when it has them (conch's own app always does).
    services = getattr(getattr(app, "state", None), "services", None)
    return getattr(getattr(services, "settings", None), "max_image_bytes", None)


class BodyLimitMiddleware:
    """Counts each request's body bytes; reading past ``limit`` raises the error."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        received = 0

        async def receive_within_limit() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise body_too_large(self.limit, _max_image_bytes(scope.get("app")))
            return message

        await self.app(scope, receive_within_limit, send)
