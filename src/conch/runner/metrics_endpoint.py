"""``conch worker --metrics-port``: the worker's own ``/metrics``, the render and relay
seconds of the tasks its pool has run.

The pool's processes write their histograms to the folder the worker shared with them
(:mod:`conch.metrics_share`); each scrape merges the folder's files, so a pool process that
died still counts. Task counts and the queue are not here: the server reads them from the
database, and a worker adds only what happens in its own processes. A scrape must carry the
installation's metrics token, as the server's ``/metrics`` asks.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client.multiprocess import MultiProcessCollector
from pydantic import SecretStr

from conch.domain.errors import ErrorCode
from conch.metrics import METRICS_PATH, TOKEN_WANTED, scrape_allowed
from conch.wire.native import ErrorAnswer, ErrorDetail

_ONLY_METRICS = f"a conch worker serves {METRICS_PATH} alone"


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """No line per scrape: Prometheus asks every few seconds."""


class MetricsEndpoint:
    """``/metrics`` served from a thread of this process until :meth:`stop`."""

    def __init__(self, host: str, port: int, token: SecretStr, folder: str) -> None:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=folder)  # type: ignore[no-untyped-call]
        app = guarded(make_wsgi_app(registry), token)
        self._server = make_server(host, port, app, _Server, _Quiet)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, name="metrics")
        self._thread.daemon = True
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def guarded(expose: WSGIApplication, token: SecretStr) -> WSGIApplication:
    """``expose`` at :data:`METRICS_PATH` for a caller with ``token``; a refusal otherwise,
    in conch's own error body."""

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != METRICS_PATH:
            return _refusal(start_response, "404 Not Found", ErrorCode.NOT_FOUND, _ONLY_METRICS)
        if not scrape_allowed(token, environ.get("HTTP_AUTHORIZATION")):
            return _refusal(
                start_response, "401 Unauthorized", ErrorCode.UNAUTHORIZED, TOKEN_WANTED
            )
        return expose(environ, start_response)

    return app


def _refusal(
    start_response: StartResponse, status: str, code: ErrorCode, message: str
) -> list[bytes]:
    body = ErrorAnswer(error=ErrorDetail(code=code.value, message=message))
    data = body.model_dump_json().encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    )
    return [data]
