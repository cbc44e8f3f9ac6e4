"""The SDK's logic is written once, free of I/O, as generators ("flows") that yield what
they need done and receive the outcome; :class:`conch.Client` performs each effect with
blocking httpx and :class:`conch.AsyncClient` with asyncio, so the two cannot drift apart.

A flow yields :class:`Call` (receives an :class:`Answer`), :class:`Sleep` (receives None)
or :class:`Fetch` (receives :class:`Fetched`). A transport failure is thrown into the flow
at the ``yield`` that caused it, where the flow decides whether to retry.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

ByteProgress = Callable[[int, int | None], None]
"""Told (bytes on disk, total bytes or None) as a download advances."""


@dataclass(frozen=True)
class Call:
    """One API request; ``path`` is relative to the service's base URL.

    The body and headers are left out of its repr: they carry keys, tokens and secrets.
    """

    method: str
    path: str
    params: Mapping[str, str] = field(default_factory=dict)
    json: Any = field(default=None, repr=False)
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)

    def with_headers(self, headers: Mapping[str, str]) -> Call:
        return replace(self, headers={**self.headers, **headers})


@dataclass(frozen=True)
class Answer:
    """An API answer, read whole (answers are small JSON documents)."""

    http_status: int
    body: Any
    """The parsed JSON, or None when the body is not JSON."""
    text: str


@dataclass(frozen=True)
class Sleep:
    seconds: float


@dataclass(frozen=True)
class Fetch:
    """Stream ``url`` into ``part`` from byte ``offset`` on (a Range request when > 0).

    The request carries no credentials: download links are signed, and often point at
    another host (a CDN) that must not see the API key.
    """

    url: str
    part: Path
    offset: int
    on_progress: ByteProgress | None = None
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    """Credentials, for an API path (empty for signed links)."""


@dataclass(frozen=True)
class Fetched:
    """How a fetch ended without a transport failure."""

    http_status: int
    written: bool
    """Whether the answer's body went into the part file."""
    size: int
    """Bytes in the part file now."""
    total: int | None
    """The whole file's size, when the server said."""


Effect = Call | Sleep | Fetch
Flow = Generator[Effect, Any, T]
"""A flow that ends with a ``T``."""
