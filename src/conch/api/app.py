"""The ASGI app: every dialect's routes over one set of services."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi_offline import FastAPIOffline
from starlette.routing import BaseRoute

from conch import __version__
from conch.api import (
    chanjing,
    deliveries,
    files,
    minimax,
    minimax_v2,
    modelverse,
    native,
    observability,
    openai_videos,
    studio,
    tasks,
)
from conch.api.auth_limits import FailedAuthLimit
from conch.api.limits import BodyLimitMiddleware
from conch.api.observability import HttpMetrics, HttpMetricsMiddleware
from conch.api.read_counts import ReadCounter
from conch.api.responses import JSONAnswer
from conch.api.routing import include, wrong_method
from conch.api.tracing import TraceIdMiddleware
from conch.metrics import registry_for
from conch.services import Services
from conch.wire.minimax import QUICKROUTER_PREFIX

DESCRIPTION = (
    "A self-hostable server for the MiniMax Hailuo video API and its resellers' dialects. "
    "Authenticate with `Authorization: Bearer <API key>`."
)


def create_app(services: Services) -> FastAPI:
    """The app serving ``services``; the caller owns their lifetime."""
    # The docs pages load Swagger UI and ReDoc from files conch serves itself, not from a CDN,
    # so they work offline and behind a firewall.
    app = FastAPIOffline(
        title="conch",
        version=__version__,
        description=DESCRIPTION,
        default_response_class=JSONAnswer,
    )
    app.state.services = services
    app.state.failed_auth = FailedAuthLimit.from_settings(services.settings)
    app.state.read_counter = ReadCounter(services.quotas)
    app.add_exception_handler(405, wrong_method)
    app.add_middleware(BodyLimitMiddleware, limit=services.settings.max_request_bytes)
    app.state.metrics_registry = registry_for(services.db, services.settings)
    app.add_middleware(HttpMetricsMiddleware, metrics=HttpMetrics(app.state.metrics_registry))
    app.add_middleware(TraceIdMiddleware)
    docs = list(app.router.routes)  # the API docs: its pages, their files, the schema
    for routes, prefix, documented in _routers():
        include(app, routes, prefix, include_in_schema=documented)
    _last(app, docs)
    return app


def _last(app: FastAPI, routes: list[BaseRoute]) -> None:
    """Move ``routes`` after every other route of ``app``. A request's path is tried
    against the routes in turn; the docs are asked for rarely, every API call often. Their
    paths overlap no other route's, so the order changes what is tried first, not what
    answers."""
    app.router.routes[:] = [r for r in app.router.routes if r not in routes] + routes


def _routers() -> list[tuple[APIRouter, str, bool]]:
    """Every router, the prefix it is served under, and whether the API docs show it."""
    return [
        (minimax.router(), "", True),
        (minimax.router(tag="QuickRouter"), QUICKROUTER_PREFIX, True),
        (modelverse.router(), "", True),
        (chanjing.router(), "", True),
        (openai_videos.router(), "", True),
        (minimax_v2.router(), "", True),
        (native.router(), "", True),
        # A client whose base URL is QuickRouter's (…/minimax) finds conch's task list too.
        (native.router(), QUICKROUTER_PREFIX, False),
        (deliveries.router(), "", True),
        (tasks.router(), "", True),
        (tasks.router(), QUICKROUTER_PREFIX, False),
        (files.router, "", True),
        (studio.router(), "", False),
        (observability.router(), "", False),
    ]
