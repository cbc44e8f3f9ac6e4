"""Operating the service: ``/healthz`` (the process answers), ``/readyz`` (it can work:
:mod:`conch.health`), ``/metrics`` (Prometheus: :mod:`conch.metrics`), and the middleware
that counts HTTP requests by route and status and times them."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from conch.api.native import error_response
from conch.api.responses import JSONAnswer
from conch.domain.errors import ErrorCode
from conch.metrics import METRICS_PATH, TOKEN_WANTED, scrape_allowed
from conch.services import Services

HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
UNMATCHED = "unmatched"
"""The route label of a request no route matched (scans, typos): one label, not one each."""
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, float("inf"))


class HttpMetrics:
    """Requests by route, method and status, and their latency, in ``registry``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "conch_http_requests",
            "HTTP requests answered, by route, method and status",
            ["route", "method", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "conch_http_request_seconds",
            "Seconds from a request's arrival to the end of its answer, by route and method",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        # Each label set's children, found once: prometheus-client's labels() checks and
        # locks on every call, which costs more than the count itself.
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count one answered request and its latency."""
        children = self._children.get((route, method, status))
        if children is None:
            children = (
                self.requests.labels(route, method, str(status)),
                self.latency.labels(route, method),
            )
            self._children[(route, method, status)] = children
        count, latency = children
        count.inc()
        latency.observe(seconds)


class HttpMetricsMiddleware:
    """Counts and times every HTTP request (labelled by its route's template, not its path)."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets when the app fails before answering

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            route = getattr(scope.get("route"), "path", UNMATCHED)
            self.metrics.observe(route, scope["method"], status, time.perf_counter() - started)


def router() -> APIRouter:
    """The health and metrics routes (not in the API docs: they are the operator's)."""
    routes = APIRouter(include_in_schema=False)

    @routes.get(HEALTH_PATH)
    async def healthz() -> JSONAnswer:
        return JSONAnswer({"status": "ok"})

    @routes.get(READY_PATH)
    async def readyz(request: Request) -> JSONAnswer:
        services: Services = request.app.state.services
        found = await run_in_threadpool(services.readiness.run)
        ready = not any(found.values())
        body = {
            "status": "ready" if ready else "unready",
            "checks": {name: problem or "ok" for name, problem in found.items()},
        }
        return JSONAnswer(body, status_code=200 if ready else 503)

    @routes.get(METRICS_PATH)
    async def metrics(request: Request) -> Response:
        services: Services = request.app.state.services
        token = services.settings.metrics_token
        if token is None:
            return error_response(404, ErrorCode.NOT_FOUND.value, "metrics are off on this server")
        if not scrape_allowed(token, request.headers.get("authorization")):
            return error_response(401, ErrorCode.UNAUTHORIZED.value, TOKEN_WANTED)
        registry: CollectorRegistry = request.app.state.metrics_registry
        body = await run_in_threadpool(generate_latest, registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return routes
