"""The one real HTTP server the tests use: on a loopback address, in a thread, routing each
request to a function the test gives and recording what it received.

A route answers through the request's :class:`Exchange` (a ``BaseHTTPRequestHandler``): in
one go with :meth:`Exchange.reply`, or byte by byte through ``wfile`` (a trickle), or not
at all (a hang-up). Paths match exactly, query string included; a path with no route goes
to ``fallback``, and without one is answered 404. Each request is recorded in ``seen`` as it
arrives, before its route runs, and gets the status it was answered once that is sent.

Helpers for one kind of peer (:mod:`support.files_http`, :mod:`support.receiver`,
:mod:`client.stub_server`, :mod:`client.cutting_proxy`) are thin uses of this one.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

import httpx

HTTP_1_0 = "HTTP/1.0"
"""Connections close after each answer; a body without a length ends at the close."""
HTTP_1_1 = "HTTP/1.1"
"""Connections are kept alive; every answer needs a length (or a hang-up)."""


@dataclass
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    headers: httpx.Headers
    """Case-insensitive, as HTTP's are."""
    body: bytes
    at: float
    """When it arrived (``time.time()``)."""
    answered: int | None = None
    """The status it was answered with, once sent."""

    @property
    def host(self) -> str | None:
        """The Host header: the name the client asked for."""
        host: str | None = self.headers.get("Host")
        return host

    @property
    def json(self) -> Any:
        return json.loads(self.body)


Route = Callable[["Exchange"], None]


class Exchange(BaseHTTPRequestHandler):
    """One request being answered; ``seen`` is its record (None for a request too broken
    to route, which the base class answers 400 or 501 itself)."""

    server: _Httpd
    seen: Seen | None = None

    def setup(self) -> None:
        super().setup()
        self.protocol_version = self.server.owner.protocol

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def reply(
        self,
        status: int = 200,
        body: bytes = b"",
        *,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answer at once: ``status``, ``headers``, ``body`` with its length."""
        self.send_response(status)
        if content_type is not None:
            self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_response(self, code: int, message: str | None = None) -> None:
        if self.seen is not None:
            self.seen.answered = code
        super().send_response(code, message)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self) -> None:
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = httpx.Headers(list(self.headers.items()))
        self.seen = seen = owner.record(self.command, self.path, headers, body, time.time())
        owner.note(seen)
        route = owner.routes.get(self.path, owner.fallback)
        if route is None:
            self.send_error(404)
        else:
            route(self)


class _Httpd(ThreadingHTTPServer):
    def __init__(self, owner: LoopbackServer, host: str) -> None:
        self.owner = owner
        super().__init__((host, 0), Exchange)

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client hanging up mid-answer is what several tests do on purpose


class LoopbackServer:
    """A threaded HTTP(S) server on ``host`` (any port); start it with ``with``, or
    :meth:`start` and :meth:`stop`.

    ``record`` makes the records (a subclass of :class:`Seen` may add what its tests read).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        *,
        tls: ssl.SSLContext | None = None,
        protocol: str = HTTP_1_0,
        fallback: Route | None = None,
        record: type[Seen] = Seen,
    ) -> None:
        self.host = host
        self.protocol = protocol
        self.routes: dict[str, Route] = {}
        self.fallback = fallback
        self.record = record
        self.seen: list[Seen] = []
        self.scheme = "https" if tls else "http"
        self._changed = threading.Condition()
        self.httpd = _Httpd(self, host)
        if tls:
            self.httpd.socket = tls.wrap_socket(
                self.httpd.socket, server_side=True, do_handshake_on_connect=False
            )
        self.port: int = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def url(self, path: str, host: str | None = None) -> str:
        """The URL of ``path``, naming ``host`` instead of the address when given."""
        return f"{self.scheme}://{host or self.host}:{self.port}{path}"

    def route(self, path: str, route: Route) -> str:
        """Answer ``path`` with ``route``; the URL."""
        self.routes[path] = route
        return self.url(path)

    def serve(
        self, path: str, body: bytes, *, status: int = 200, content_type: str | None = None
    ) -> str:
        """Answer ``path`` with ``body``; the URL."""
        return self.route(
            path, lambda exchange: exchange.reply(status, body, content_type=content_type)
        )

    def redirect(self, path: str, location: str, *, status: int = 302) -> str:
        """Answer ``path`` with a redirect to ``location``; the URL."""
        return self.route(
            path, lambda exchange: exchange.reply(status, headers={"Location": location})
        )

    def requests(self, path: str) -> list[Seen]:
        """The requests to ``path`` so far, in order."""
        with self._changed:
            return [seen for seen in self.seen if seen.path == path]

    def wait_until(
        self, arrived: Callable[[], bool], timeout: float, failure: Callable[[], str]
    ) -> None:
        """Block until ``arrived()`` holds, checked whenever a request comes in; after
        ``timeout`` seconds (a guard against a hang), fail with ``failure()``."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not arrived():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(failure())
                self._changed.wait(left)

    def note(self, seen: Seen) -> None:
        """Add ``seen`` to the record (the server does, as each request arrives)."""
        with self._changed:
            self.seen.append(seen)
            self._changed.notify_all()

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
