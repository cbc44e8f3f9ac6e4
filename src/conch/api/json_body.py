"""A JSON body is read as JSON whatever its Content-Type says, as the real providers do.

``curl -d '{...}'`` sends ``Content-Type: application/x-www-form-urlencoded``; FastAPI would
then hand the route raw bytes, and the caller would be told the body is not an object. A body
that parses as JSON is taken as JSON; one that does not is refused with a message that names
the Content-Type given and the one expected.
"""

from __future__ import annotations

import email.message
import json

from starlette.requests import Request
from starlette.types import Message, Receive

from conch.domain.errors import MalformedRequest

JSON_TYPE = "application/json"


def declares_json(content_type: str) -> bool:
    """Whether a Content-Type (parameters and all) declares JSON, as FastAPI decides it."""
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


async def read_as_json(request: Request) -> Request:
    """``request`` as FastAPI should see it: declaring JSON when its body is JSON.

    A request without a Content-Type, or declaring JSON already, is returned as it is.
    """
    given = request.headers.get("content-type")
    if not given or declares_json(given):
        return request
    body = await request.body()
    if not body:
        return request  # FastAPI answers the empty body
    try:
        json.loads(body)
    except ValueError:
        raise MalformedRequest(
            f"the request body is not JSON (Content-Type: {given}); send a JSON object "
            f"with Content-Type: {JSON_TYPE}"
        ) from None
    headers = [(name, value) for name, value in request.scope["headers"] if name != b"content-type"]
    scope = {**request.scope, "headers": [*headers, (b"content-type", JSON_TYPE.encode())]}
    return Request(scope, _replaying(body, request))


def _replaying(body: bytes, request: Request) -> Receive:
    """A receive that hands over the body already read, then waits on the connection."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return await request.receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive
