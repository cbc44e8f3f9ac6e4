"""A real callback receiver on 127.0.0.1 whose answers each test scripts.

Every request is recorded. By default a receiver does what a good one does: it echoes a
handshake's challenge and answers a push 200. A test routes a path to another responder to
time out, echo the wrong value, answer an error status, fail some pushes, or answer 410.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    """One request as the receiver got it."""

    path: str
    headers: dict[str, str]
    body: bytes
    at: float
    answered: int | None = None
    """The status the receiver answered with."""

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def is_handshake(self) -> bool:
        parsed = self.json
        return isinstance(parsed, dict) and set(parsed) == {"challenge"}


@dataclass(frozen=True)
class Reply:
    """What the receiver answers: after ``delay`` seconds, ``status`` with ``body``."""

    status: int = 200
    body: bytes = b"{}"
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


Responder = Callable[[Received], Reply]


def good(request: Received) -> Reply:
    """Echo a handshake's challenge; accept a push."""
    if request.is_handshake:
        return Reply(body=json.dumps({"challenge": request.json["challenge"]}).encode())
    return Reply()


def pushes_answered(*statuses: int) -> Responder:
    """Shake hands; answer the pushes with ``statuses`` in turn, then 200."""
    remaining = list(statuses)
    lock = threading.Lock()

    def respond(request: Received) -> Reply:
        if request.is_handshake:
            return good(request)
        with lock:
            status = remaining.pop(0) if remaining else 200
        return Reply(status=status)

    return respond


class Switchable:
    """A responder a test changes while conch keeps calling (e.g. down, then back up)."""

    def __init__(self, push_status: int) -> None:
        self.push_status = push_status

    def __call__(self, request: Received) -> Reply:
        return good(request) if request.is_handshake else Reply(status=self.push_status)


class Receiver:
    """A threaded HTTP server on ``host`` recording every POST."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.received: list[Received] = []
        self.responders: dict[str, Responder] = {}
        self._changed = threading.Condition()
        self.httpd = ThreadingHTTPServer((host, 0), self._handler())
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def url(self, path: str) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}{path}"

    def route(self, path: str, responder: Responder = good) -> str:
        """Answer ``path`` with ``responder``; the URL."""
        self.responders[path] = responder
        return self.url(path)

    def requests(self, path: str) -> list[Received]:
        with self._changed:
            return [r for r in self.received if r.path == path]

    def pushes(self, path: str) -> list[Received]:
        return [r for r in self.requests(path) if not r.is_handshake]

    def accepted(self, path: str) -> list[Received]:
        """The pushes to ``path`` that were answered 2xx."""
        return [r for r in self.pushes(path) if r.answered is not None and r.answered < 300]

    def wait_for_pushes(self, path: str, count: int, timeout: float = 60.0) -> list[Received]:
        """Block until ``path`` got ``count`` pushes; them."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.pushes(path)) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{path} got {self.pushes(path)}, expected {count}")
                self._changed.wait(left)
        return self.pushes(path)

    def _record(self, request: Received) -> None:
        with self._changed:
            self.received.append(request)
            self._changed.notify_all()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                headers = {name.lower(): value for name, value in self.headers.items()}
                request = Received(self.path, headers, self.rfile.read(length), time.time())
                reply = receiver.responders.get(self.path, good)(request)
                receiver._record(replace(request, answered=reply.status))
                time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except OSError:
                    pass  # conch gave up waiting (the timeout tests)

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@contextmanager
def receiving(host: str = "127.0.0.1") -> Iterator[Receiver]:
    with Receiver(host) as receiver:
        yield receiver
