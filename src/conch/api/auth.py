"""Who is calling: an API key in ``Authorization`` (``Bearer <key>``, or the bare key as
Modelverse's examples send it), or, for Chanjing, an access token.

Credentials are checked from the headers before a byte of the body is read: the route class
(:mod:`conch.api.routing`) runs a route's :class:`Credentials` first, and the dependency then
hands the route the key it found. Failed checks are counted per client address
(:mod:`conch.api.auth_limits`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

import anyio
from fastapi import Depends, Request

from conch.domain.errors import Unauthorized
from conch.services import Services
from conch.store.keys import ApiKey
from conch.wire.authorization import key_from_header

MISSING_KEY = (
    "login fail: Please carry the API secret key in the 'Authorization' field of the request header"
)

Check = Callable[[Request], ApiKey]
"""Finds the caller's active key from a request's headers; Unauthorized or InvalidApiKey."""


def services(request: Request) -> Services:
    """The installation's services (a FastAPI dependency)."""
    found: Services = request.app.state.services
    return found


def api_key_owner(request: Request) -> ApiKey:
    """The caller's active API key from ``Authorization``; 1004 or 2049 otherwise."""
    key = key_from_header(request.headers.get("authorization"))
    if key is None:
        raise Unauthorized(MISSING_KEY)
    return services(request).keys.authenticate(key)


def recent_api_key_owner(request: Request) -> ApiKey | None:
    """The caller's key if it was verified within the last second (no I/O), else None (and
    None for the one request that is to verify a busy key again, ahead of its expiry)."""
    key = key_from_header(request.headers.get("authorization"))
    return None if key is None else services(request).keys.verified.recent(key)


async def installation(request: Request) -> Services:
    # async: FastAPI runs a plain function dependency on a worker thread, a round trip
    # that costs more than the lookup itself
    return services(request)


@dataclass(frozen=True)
class Credentials:
    """A FastAPI dependency: the caller's key, as ``check`` finds it (``recent`` answers a
    key verified moments ago without I/O, where the kind of credential has such a cache).

    The route class has usually run the check already, before reading the body, and left
    the key on ``request.state``; the dependency then only hands it over.
    """

    check: Check
    recent: Callable[[Request], ApiKey | None] | None = None
    submits: bool = False
    """The route submits tasks (held to the key's submit rate, in :func:`conch.submission.submit`);
    any other route is a read (held to its read rate, by the route class)."""

    async def __call__(self, request: Request) -> ApiKey:
        found: ApiKey | None = getattr(request.state, "owner", None)
        if found is not None:
            return found
        return await anyio.to_thread.run_sync(self.check, request)


Owner = Annotated[ApiKey, Depends(Credentials(api_key_owner, recent_api_key_owner))]
"""A route parameter: the authenticated caller's key."""

Submitter = Annotated[
    ApiKey, Depends(Credentials(api_key_owner, recent_api_key_owner, submits=True))
]
"""A route parameter: the authenticated caller's key, on a route that submits a task."""

Installation = Annotated[Services, Depends(installation)]
"""A route parameter: the installation's services."""
