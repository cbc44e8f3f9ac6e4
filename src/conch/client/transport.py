"""HTTP in the flows' terms: how the clients' httpx clients are made, a :class:`Call` as
httpx's arguments, and an httpx response as an :class:`Answer`."""

from __future__ import annotations

from typing import Any

import httpx

from conch import __version__
from conch.client.effects import Answer, Call

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
