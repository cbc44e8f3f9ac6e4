"""A real HTTP server on 127.0.0.1 that gives every request one canned answer, or hangs up
without answering: a provider's gateway failing, or its answer lost on the way back."""

from __future__ import annotations

import json
from typing import Any

from support.http_server import HTTP_1_1, Exchange, LoopbackServer


class StubServer(LoopbackServer):
    """Answers every request with HTTP ``status`` and ``body`` (JSON when not bytes), or,
    with ``hang_up``, reads the request and closes the connection without a word."""

    def __init__(self, status: int = 200, body: Any = None, *, hang_up: bool = False) -> None:
        super().__init__(protocol=HTTP_1_1, fallback=self.answer)
        self.status = status
        self.body = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.content_type = "text/html" if isinstance(body, bytes) else "application/json"
        self.hang_up = hang_up

    def answer(self, exchange: Exchange) -> None:
        if self.hang_up:
            exchange.close_connection = True
            return  # the request arrived; its answer never leaves
        exchange.reply(self.status, self.body, content_type=self.content_type)
