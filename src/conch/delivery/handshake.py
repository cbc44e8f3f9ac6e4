"""The callback handshake at submit: prove the receiver is there and answers for the URL.

conch POSTs ``{"challenge": "<random>"}`` to the callback URL and requires, within 3 seconds
(MiniMax's limit), a 2xx answer whose JSON body is ``{"challenge": "<the same value>"}``.
The request goes through the outbound guard (:mod:`conch.net`) and follows no redirect.

MiniMax does not say what a failed handshake does. conch refuses the submit: the caller
gets invalid-params on ``callback_url`` naming the reason (timeout, wrong echo, HTTP status,
refused address, ...), and no task is created. A task accepted with a callback that cannot
be reached would otherwise end silently for a caller waiting to be called; refusing tells
the caller at once, while it still holds the request (``docs/callbacks.md``).
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

import anyio

from conch.delivery.bodies import encode
from conch.delivery.signing import signed_headers
from conch.domain.errors import InvalidParams
from conch.domain.events import new_webhook_id
from conch.net import DeadlineExceeded, OutboundError, OutboundPolicy, OutboundResponse, post_json
from conch.net.targets import display_url
from conch.services import Services
from conch.store.keys import ApiKey

HANDSHAKE_SECONDS = 3.0
CHALLENGE_FIELD = "challenge"
MAX_ANSWER_BYTES = 4096
FIELD = "callback_url"

_EXPECTED = (
    f'the receiver must answer the POST {{"{CHALLENGE_FIELD}": ...}} within '
    f'{HANDSHAKE_SECONDS:g} s with a 2xx and the JSON {{"{CHALLENGE_FIELD}": <the same value>}}'
)


async def confirm_callback(services: Services, owner: ApiKey, url: str) -> None:
    """Shake hands with ``url`` for ``owner``'s submit; InvalidParams when it fails."""
    secret = await anyio.to_thread.run_sync(services.keys.signing_secret, owner.id)
    await handshake(url, services.outbound, secret=secret)


async def handshake(
    url: str,
    policy: OutboundPolicy,
    *,
    secret: str | None = None,
    timeout: float = HANDSHAKE_SECONDS,
) -> None:
    """POST a fresh challenge to ``url``; raise InvalidParams unless it is echoed in time.

    With a signing secret the challenge is signed like a push, so receivers that verify
    every request accept it.
    """
    challenge = secrets.token_urlsafe(24)
    body = encode({CHALLENGE_FIELD: challenge})
    headers = signed_headers(secret, new_webhook_id(), body, time.time())
    try:
        answer = await post_json(
            url,
            body,
            policy,
            deadline=timeout,
            headers=headers,
            max_response_bytes=MAX_ANSWER_BYTES,
        )
    except DeadlineExceeded:
        raise refused(f"the receiver did not answer within {timeout:g} s") from None
    except OutboundError as error:
        raise refused(error.reason) from None
    problem = answer_problem(answer, challenge)
    if problem is not None:
        raise refused(problem)


def answer_problem(answer: OutboundResponse, challenge: str) -> str | None:
    """What is wrong with the receiver's answer, or None when it echoed ``challenge``."""
    if answer.is_redirect:
        location = display_url(answer.headers.get("Location", ""))
        return (
            f"the receiver answered HTTP {answer.status}, a redirect to {location!r}; "
            "callbacks follow no redirects"
        )
    if not answer.is_success:
        return f"the receiver answered HTTP {answer.status}"
    if answer.cut_short:
        return f"the answer's body was {answer.cut_short}"
    if answer.content_encoding:
        return (
            f"the answer came with Content-Encoding {answer.content_encoding!r}; "
            "send it unencoded (conch asks for identity)"
        )
    echoed = _challenge_in(answer.body)
    if echoed is None:
        return f'the answer is not a JSON object with a "{CHALLENGE_FIELD}" field'
    if echoed != challenge:
        return f"the answer echoed a different challenge ({_shown(echoed)})"
    return None


def refused(reason: str) -> InvalidParams:
    """The submit's error for a failed handshake."""
    return InvalidParams(f"the callback handshake failed: {reason}; {_EXPECTED}", field=FIELD)


def _challenge_in(body: bytes) -> Any:
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    return parsed.get(CHALLENGE_FIELD) if isinstance(parsed, dict) else None


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:60] + "..."
