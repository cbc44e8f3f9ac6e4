"""The route class every dialect uses: whatever goes wrong, the caller gets an answer in
its own dialect (never FastAPI's ``{"detail": ...}``)."""

from __future__ import annotations

import inspect
import logging
import math
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.dependencies.models import Dependant
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from conch.api.auth import Credentials
from conch.api.auth_limits import FailedAuthLimit
from conch.api.direct import Handler, direct_handler
from conch.api.json_body import read_as_json
from conch.api.limits import declared_too_large
from conch.api.read_counts import ReadCounter
from conch.domain.errors import (
    ConchError,
    Internal,
    InvalidApiKey,
    InvalidParams,
    MalformedRequest,
    RateLimited,
    Unauthorized,
)
from conch.store.keys import ApiKey

log = logging.getLogger(__name__)

ErrorRenderer = Callable[[ConchError, Request], Response]
"""A dialect's way of answering with an error."""


def dialect_route(render_error: ErrorRenderer) -> type[APIRoute]:
    """An APIRoute class whose routes answer every failure through ``render_error``, and
    check a caller's credentials before reading the body."""

    class DialectRoute(APIRoute):
        renderer = staticmethod(render_error)

        def get_route_handler(self) -> Handler:
            handler = super().get_route_handler()
            credentials = _credentials(self.dependant)
            handler = direct_handler(self, handler) or handler
            reads_body = self.body_field is not None

            async def handle(request: Request) -> Response:
                try:
                    return await _answer(request, handler, credentials, reads_body)
                except ConchError as error:
                    return render_error(error, request)
                except RequestValidationError as error:
                    return render_error(from_validation(error), request)
                except HTTPException as error:
                    # FastAPI wraps what fails while it reads a body: the body limit, or JSON
                    # it cannot parse (nested too deep, say).
                    return render_error(unreadable_body(error), request)
                except Exception:
                    log.exception("unhandled error on %s %s", request.method, request.url.path)
                    refused = Internal("internal error; the request was not accepted")
                    return render_error(refused, request)

            return handle

    return DialectRoute


async def _answer(
    request: Request, handler: Handler, credentials: Credentials | None, reads_body: bool
) -> Response:
    """The route's answer: cheap checks on the headers first, then the body, then the route."""
    too_large = declared_too_large(request, request.app.state.services.settings.max_request_bytes)
    if too_large is not None:
        raise too_large
    if credentials is not None:
        recent = credentials.recent(request) if credentials.recent else None
        request.state.owner = recent or await run_in_threadpool(_checked, request, credentials)
        if not credentials.submits:  # a submit's rate is counted by submission.submit
            await _count_read(request, request.state.owner)
    if reads_body:
        request = await read_as_json(request)
    return await handler(request)


async def _count_read(request: Request, owner: ApiKey) -> None:
    """Hold the caller to its reads a minute (no I/O for a key without that limit)."""
    counter: ReadCounter = request.app.state.read_counter
    await counter.count(owner)


def _credentials(dependant: Dependant) -> Credentials | None:
    """The credentials a route's parameters ask for, if any."""
    for dependency in dependant.dependencies:
        if isinstance(dependency.call, Credentials):
            return dependency.call
    return None


def _checked(request: Request, credentials: Credentials) -> ApiKey:
    """The caller's key, counting a failed check against the caller's address."""
    limit: FailedAuthLimit = request.app.state.failed_auth
    address = request.client.host if request.client else "unknown"
    limit.check(address)
    try:
        return credentials.check(request)
    except (Unauthorized, InvalidApiKey):
        limit.failed(address)
        raise


WRONG_METHOD = 405

TASK_REFERENCE: dict[str, Any] = {"pattern": r"^\s*[0-9A-Fa-f-]{1,36}\s*$"}
"""For the API docs: a task's id (digits) or uuid."""
ID_DIGITS: dict[str, Any] = {"pattern": r"^\s*[0-9]{1,18}\s*$"}
"""For the API docs: a parameter that is one of conch's ids."""


def error_responses(body: type[BaseModel], *statuses: int) -> dict[int | str, dict[str, Any]]:
    """The API docs' entry for error answers with ``body`` on each of ``statuses``."""
    return {
        status: {"model": body, "description": HTTPStatus(status).phrase}
        for status in sorted(set(statuses))
    }


def include(
    app: FastAPI, routes: APIRouter, prefix: str = "", include_in_schema: bool = True
) -> None:
    """Serve ``routes`` from ``app`` under ``prefix``.

    Each route is added to the app's own router, as the router's decorators would have made
    it there, rather than through ``include_router``: FastAPI matches an included router's
    routes twice per request, through a layer of routing contexts: about 20 us of a status
    poll's 110 in the app. Only plain API routes are served this way; a router holding
    anything else (a mount, a websocket, start-up or shut-down hooks) is refused here.
    """
    if routes.on_startup or routes.on_shutdown:
        raise TypeError("include() serves API routes only, not a router's start-up hooks")
    for route in routes.routes:
        if not isinstance(route, APIRoute):
            raise TypeError(f"include() serves API routes only, not {route!r}")
        _add_copy(app, route, prefix, include_in_schema)


_ROUTE_OPTIONS = tuple(
    name
    for name in inspect.signature(APIRoute.__init__).parameters
    if name not in {"self", "path", "endpoint", "dependency_overrides_provider"}
)
"""What an APIRoute was made with, apart from its path, endpoint and override provider:
each is kept on the route under the same name."""


def _add_copy(app: FastAPI, route: APIRoute, prefix: str, include_in_schema: bool) -> None:
    """A copy of ``route`` on ``app``'s router, served under ``prefix``."""
    options = {name: getattr(route, name) for name in _ROUTE_OPTIONS}
    options["include_in_schema"] = route.include_in_schema and include_in_schema
    app.router.add_api_route(
        prefix + route.path, route.endpoint, route_class_override=type(route), **options
    )


async def wrong_method(request: Request, error: Exception) -> Response:
    """A wrong method on a dialect's path, answered in that dialect (HTTP 405 with
    ``Allow``); FastAPI's own answer on any other path."""
    assert isinstance(error, HTTPException)
    on_path = _routes_on_path(request)
    allowed = _allowed(on_path) or (error.headers or {}).get("Allow", "")
    renderer = next((r.renderer for r in on_path if hasattr(r, "renderer")), None)
    if renderer is not None:
        refused = InvalidParams(f"{request.method} is not allowed here; use {allowed}")
        answer: Response = renderer(refused, request)
        answer.status_code = 405
        answer.headers["Allow"] = allowed
        return answer
    return await http_exception_handler(request, error)


def _routes_on_path(request: Request) -> list[APIRoute]:
    """The app's API routes whose path is the request's, whatever their method."""
    routes = request.app.router.routes
    path = request.url.path
    return [r for r in routes if isinstance(r, APIRoute) and r.path_regex.match(path)]


def _allowed(routes: list[APIRoute]) -> str:
    """Every method ``routes`` serve (Starlette names only the first route's, and
    /v1/videos has a route for each method)."""
    return ", ".join(sorted({method for route in routes for method in route.methods or ()}))


def retry_after(error: ConchError) -> dict[str, str]:
    """The ``Retry-After`` header for a rate-limited caller, where the wait is known."""
    if isinstance(error, RateLimited) and error.retry_after is not None:
        return {"Retry-After": str(max(1, math.ceil(error.retry_after)))}
    return {}


def unreadable_body(error: HTTPException) -> ConchError:
    """conch's error for a body FastAPI could not read."""
    if isinstance(error.__cause__, ConchError):
        return error.__cause__
    return MalformedRequest(f"the request body could not be read: {error.detail}")


def _field_path(location: tuple[object, ...]) -> str | None:
    """``("body", "ref_img_url", "list[str]", 0)`` as ``ref_img_url[0]``."""
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part not in ("body", "query", "header") and not _is_type_tag(str(part)):
            path += f".{part}" if path else str(part)
    return path or None


def _is_type_tag(part: str) -> bool:
    # pydantic names the branch of a union it tried: "str", "list[str]", "function-after[...]"
    return part in ("str", "int", "float", "bool") or "[" in part


def from_validation(error: RequestValidationError) -> InvalidParams:
    """The first problem FastAPI found in a request, as conch's error."""
    problem = error.errors()[0]
    kind = problem.get("type", "")
    if kind == "json_invalid":
        return MalformedRequest(f"the request body is not valid JSON: {problem.get('msg', '')}")
    location = tuple(problem.get("loc", ()))
    field = _field_path(location)
    if field is None and "body" in location:  # the body as a whole
        if kind == "missing":
            return MalformedRequest("the request body is empty; send a JSON object")
        if kind in ("model_attributes_type", "dict_type"):
            return MalformedRequest("the request body must be a JSON object")
    if kind == "missing":
        return InvalidParams("is required", field=field)
    shown = repr(problem.get("input"))
    shown = shown if len(shown) <= 80 else shown[:80] + "..."
    return InvalidParams(f"{problem.get('msg', 'is not valid')}, got {shown}", field=field)
