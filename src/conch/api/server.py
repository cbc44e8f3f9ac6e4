"""The HTTP server conch runs in: uvicorn, with deadlines for receiving a request.

uvicorn has no timeout on receiving a request: its keep-alive timer restarts with every
byte, so a client that trickles a request's head, or declares a longer body than it sends,
holds a connection for ever. conch's protocol adds two deadlines:

- the head (request line and headers) must arrive within ``header_timeout`` seconds of the
  connection opening or of the previous answer;
- the body must arrive at ``body_min_rate`` bytes a second on average, after a grace of
  ``header_timeout`` seconds: its deadline is set from its declared length (or, without one,
  from the largest body conch reads).

A connection that misses a deadline is closed; the app sees the client disconnect.
Installations behind a reverse proxy get the same from the proxy (nginx's
``client_header_timeout`` and ``client_body_timeout``); these hold without one.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import uvicorn
from uvicorn.config import LOGGING_CONFIG
from uvicorn.protocols.http.h11_impl import H11Protocol

from conch.config import Settings

log = logging.getLogger(__name__)


class DeadlineProtocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with the deadlines above (set on the subclass)."""

    header_timeout: float = 10.0
    body_min_rate: float = 100_000.0
    max_body: int = 64 * 1024 * 1024

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: _Deadline | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._seen_cycle: object | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.header_timeout, "its request head")

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._follow()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm(self.header_timeout, "its next request head")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        super().connection_lost(exc)

    def _follow(self) -> None:
        """Move from the head's deadline to the body's, and drop it once the body is in."""
        cycle = self.cycle
        if cycle is None:
            return
        if cycle is not self._seen_cycle:  # a new request's head has arrived
            self._seen_cycle = cycle
            if cycle.more_body:
                self._arm(self._body_seconds(cycle.scope["headers"]), "its request body")
            else:
                self._disarm()
        elif not cycle.more_body:
            self._disarm()

    def _body_seconds(self, headers: Any) -> float:
        declared = next((v for k, v in headers if k == b"content-length"), b"")
        size = int(declared) if declared.isdigit() else self.max_body
        return self.header_timeout + min(size, self.max_body) / self.body_min_rate

    def _arm(self, seconds: float, what: str) -> None:
        """Close the connection unless the next step (``what``) is done within ``seconds``.

        Moving a deadline only notes the new time: the one timer a connection has, when it
        goes off early, sets itself again for what is left. A keep-alive connection then
        costs no timer scheduling per request.
        """
        at = self.loop.time() + seconds
        self._deadline = _Deadline(at, what, seconds)
        if self._timer is None or self._timer.when() > at:
            self._schedule(at)

    def _disarm(self) -> None:
        self._deadline = None

    def _schedule(self, at: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self.loop.call_at(at, self._check)

    def _check(self) -> None:
        self._timer = None
        deadline = self._deadline
        if deadline is None or self.transport.is_closing():
            return
        if self.loop.time() < deadline.at:
            self._schedule(deadline.at)
            return
        self._deadline = None
        client = f"{self.client[0]}:{self.client[1]}" if self.client else "a client"
        log.info(
            "closed %s: %s did not arrive within %.0f s", client, deadline.what, deadline.seconds
        )
        self.transport.close()


@dataclass(frozen=True)
class _Deadline:
    """When a connection's next step (``what``) must be done by, on the loop's clock."""

    at: float
    what: str
    seconds: float


def server_config(app: Any, settings: Settings) -> uvicorn.Config:
    """uvicorn's configuration for ``app``, with conch's protocol and timeouts."""
    protocol = type(
        "ConchProtocol",
        (DeadlineProtocol,),
        {
            "header_timeout": settings.header_timeout,
            "body_min_rate": settings.body_min_rate,
            "max_body": settings.max_request_bytes,
        },
    )
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        http=protocol,
        timeout_keep_alive=settings.keep_alive_timeout,
        # JSON lines: uvicorn's loggers pass theirs to conch's handler (conch.logs), with
        # the request's trace id; text keeps uvicorn's own format.
        log_config=None if settings.log_format == "json" else LOGGING_CONFIG,
    )
