"""A real HTTP server on 127.0.0.1 that gives every request one canned answer, or hangs up
without answering: a provider's gateway failing, or its answer lost on the way back."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


@dataclass(frozen=True)
class Seen:
    """A request the stub received."""

    method: str
    path: str
    headers: dict[str, str]


class StubServer:
    """Answers every request with HTTP ``status`` and ``body`` (JSON when not bytes), or,
    with ``hang_up``, reads the request and closes the connection without a word."""

    def __init__(self, status: int = 200, body: Any = None, *, hang_up: bool = False) -> None:
        self.status = status
        self.body = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.content_type = "text/html" if isinstance(body, bytes) else "application/json"
        self.hang_up = hang_up
        self.seen: list[Seen] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                owner.answer(self)

            def do_POST(self) -> None:
                owner.answer(self)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        handler.rfile.read(length)
        self.seen.append(Seen(handler.command, handler.path, dict(handler.headers.items())))
        if self.hang_up:
            handler.close_connection = True
            return  # the request arrived; its answer never leaves
        handler.send_response(self.status)
        handler.send_header("Content-Type", self.content_type)
        handler.send_header("Content-Length", str(len(self.body)))
        handler.end_headers()
        handler.wfile.write(self.body)

    def __enter__(self) -> StubServer:
        self.thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
