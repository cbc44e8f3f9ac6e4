"""A real HTTP proxy on 127.0.0.1 in front of conch's download links that cuts answers
short (the connection drops after some bytes, as a flaky network or CDN would do it), or
drops Range headers (the server then answers 200 with the whole file, as some CDNs do)."""

from __future__ import annotations

from types import TracebackType

import httpx

from support.http_server import HTTP_1_1, Exchange, LoopbackServer

FORWARDED = ("content-type", "content-length", "content-range", "accept-ranges", "etag")


class CuttingProxy:
    """Forwards GETs to ``upstream``; the first ``cuts`` answers with a body stop after
    ``after`` bytes; with ``drop_range`` the Range header is not passed on. Every request's
    path and Range header, and the status it was answered, is kept in ``seen``."""

    def __init__(
        self, upstream: str, *, cuts: int = 1, after: int = 64 * 1024, drop_range: bool = False
    ) -> None:
        self.upstream = upstream
        self.cuts = cuts
        self.after = after
        self.drop_range = drop_range
        self.seen: list[tuple[str, str | None, int]] = []
        self.server = LoopbackServer(protocol=HTTP_1_1, fallback=self._forward_unless_gone)

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def _forward_unless_gone(self, exchange: Exchange) -> None:
        if exchange.command != "GET":
            exchange.send_error(501)  # a download proxy: nothing else goes through it
            return
        try:
            self.forward(exchange)
        except (BrokenPipeError, ConnectionResetError):
            exchange.close_connection = True  # the client stopped reading: its choice

    def forward(self, handler: Exchange) -> None:
        wanted = handler.headers.get("Range")
        headers = {"Range": wanted} if wanted and not self.drop_range else {}
        with httpx.stream("GET", self.upstream + handler.path, headers=headers) as answer:
            self.seen.append((handler.path, wanted, answer.status_code))
            handler.send_response(answer.status_code)
            for name in FORWARDED:
                if name in answer.headers:
                    handler.send_header(name, answer.headers[name])
            handler.end_headers()
            cut = self.cuts > 0 and answer.status_code in (200, 206)
            self.cuts -= cut
            sent = 0
            for chunk in answer.iter_raw():
                if cut and sent + len(chunk) >= self.after:
                    handler.wfile.write(chunk[: self.after - sent])
                    handler.wfile.flush()
                    handler.close_connection = True
                    return  # the rest never comes: the client sees a body cut short
                handler.wfile.write(chunk)
                sent += len(chunk)

    def __enter__(self) -> CuttingProxy:
        self.server.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.server.stop()
