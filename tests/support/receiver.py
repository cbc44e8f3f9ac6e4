"""A real callback receiver on 127.0.0.1 whose answers each test scripts.

Every request is recorded (it is a :class:`support.http_server.LoopbackServer`'s). By
default a receiver does what a good one does: it echoes a handshake's challenge and answers
a push 200. A test routes a path to another responder to time out, echo the wrong value,
answer an error status, fail some pushes, or answer 410.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import cast

from support.http_server import Exchange, LoopbackServer, Seen


class Received(Seen):
    """One request as the receiver got it."""

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
    """A threaded HTTP server on ``host`` recording every request; each path is answered by
    its responder (:func:`good` unless routed)."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.responders: dict[str, Responder] = {}
        self.server = LoopbackServer(host, fallback=self._answer, record=Received)

    @property
    def received(self) -> list[Received]:
        """Every request so far, in order."""
        return cast(list[Received], list(self.server.seen))

    def url(self, path: str) -> str:
        return self.server.url(path)

    def route(self, path: str, responder: Responder = good) -> str:
        """Answer ``path`` with ``responder``; the URL."""
        self.responders[path] = responder
        return self.url(path)

    def requests(self, path: str) -> list[Received]:
        return cast(list[Received], self.server.requests(path))

    def pushes(self, path: str) -> list[Received]:
        return [r for r in self.requests(path) if not r.is_handshake]

    def accepted(self, path: str) -> list[Received]:
        """The pushes to ``path`` that were answered 2xx."""
        return [r for r in self.pushes(path) if r.answered is not None and r.answered < 300]

    def wait_for_pushes(self, path: str, count: int, timeout: float = 60.0) -> list[Received]:
        """Block until ``path`` got ``count`` pushes; them."""
        self.server.wait_until(
            lambda: len(self.pushes(path)) >= count,
            timeout,
            lambda: f"{path} got {self.pushes(path)}, expected {count}",
        )
        return self.pushes(path)

    def _answer(self, exchange: Exchange) -> None:
        request = cast(Received, exchange.seen)
        reply = self.responders.get(request.path, good)(request)
        time.sleep(reply.delay)
        with suppress(OSError):  # conch gave up waiting (the timeout tests)
            exchange.reply(
                reply.status, reply.body, content_type="application/json", headers=reply.headers
            )

    def __enter__(self) -> Receiver:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()


@contextmanager
def receiving(host: str = "127.0.0.1") -> Iterator[Receiver]:
    with Receiver(host) as receiver:
        yield receiver
