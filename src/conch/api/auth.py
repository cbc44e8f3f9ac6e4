"""API-key authentication: ``Authorization: Bearer <key>`` (the bare key is accepted too,
as Modelverse's examples send it)."""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import Depends, Request

from conch.domain.errors import Unauthorized
from conch.services import Services
from conch.store.keys import ApiKey

MISSING_KEY = (
    "login fail: Please carry the API secret key in the 'Authorization' field of the request header"
)


def services(request: Request) -> Services:
    """The installation's services (a FastAPI dependency)."""
    found: Services = request.app.state.services
    return found


def key_from_header(value: str | None) -> str | None:
    """The key in an Authorization header, with or without the Bearer scheme."""
    if not value or not value.strip():
        return None
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() == "bearer":
        return rest.strip() or None
    return value.strip()


async def require_key(request: Request) -> ApiKey:
    """The caller's active API key (a FastAPI dependency); 1004 or 2049 otherwise."""
    key = key_from_header(request.headers.get("authorization"))
    if key is None:
        raise Unauthorized(MISSING_KEY)
    keys = services(request).keys
    # A key verified within the last second is answered here, without a thread's round trip.
    trusted = keys.verified.get(key)
    if trusted is not None:
        return trusted
    return await anyio.to_thread.run_sync(keys.authenticate, key)


async def _installation(request: Request) -> Services:
    # async: FastAPI runs a plain function dependency on a worker thread, a round trip
    # that costs more than the lookup itself
    return services(request)


Owner = Annotated[ApiKey, Depends(require_key)]
"""A route parameter: the authenticated caller's key."""

Installation = Annotated[Services, Depends(_installation)]
"""A route parameter: the installation's services."""
