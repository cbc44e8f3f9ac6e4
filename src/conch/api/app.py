"""The ASGI app: every dialect's routes over one set of services."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from conch import __version__
from conch.api import chanjing, deliveries, files, minimax, modelverse, native, studio
from conch.api.auth_limits import FailedAuthLimit
from conch.api.limits import BodyLimitMiddleware
from conch.api.responses import JSONAnswer
from conch.api.tracing import TraceIdMiddleware
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
    settings = services.settings
    app.state.failed_auth = FailedAuthLimit(
        settings.auth_failure_limit, settings.auth_failure_window
    )
    app.add_middleware(BodyLimitMiddleware, limit=services.settings.max_request_bytes)
    app.add_middleware(TraceIdMiddleware)
    app.include_router(minimax.router())
    quickrouter = minimax.router(tag="QuickRouter")
    app.include_router(quickrouter, prefix=QUICKROUTER_PREFIX)
    app.include_router(modelverse.router())
    app.include_router(chanjing.router())
    app.include_router(native.router())
    # A client whose base URL is QuickRouter's (…/minimax) finds conch's task list there too.
    app.include_router(native.router(), prefix=QUICKROUTER_PREFIX, include_in_schema=False)
    app.include_router(deliveries.router())
    app.include_router(files.router)
    app.include_router(studio.router())
    return app
