"""The route class every dialect uses: whatever goes wrong, the caller gets an answer in
its own dialect (never FastAPI's ``{"detail": ...}``)."""

from __future__ import annotations

import inspect
import logging
import math
import re
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, get_type_hints

from fastapi import APIRouter, FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.dependencies.models import Dependant
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security.api_key import APIKeyBase
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import compile_path

from conch.api.auth import Credentials, installation
from conch.api.auth_limits import FailedAuthLimit
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

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def dialect_route(render_error: ErrorRenderer) -> type[APIRoute]:
    """An APIRoute class whose routes answer every failure through ``render_error``, and
    check a caller's credentials before reading the body."""

    class DialectRoute(APIRoute):
        renderer = staticmethod(render_error)

        def get_route_handler(self) -> Handler:
            handler = super().get_route_handler()
            credentials = _credentials(self.dependant)
            handler = _direct(self, handler) or handler
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


@dataclass(frozen=True)
class _Plain:
    """A route's parameters, where each is one :func:`_direct` can hand over itself."""

    params: list[tuple[Any, str]]
    """Each required ``str`` parameter's field, and where it comes from (path, query)."""
    owner: str | None
    services: str | None
    request: str | None

    def values(self, request: Request) -> dict[str, Any]:
        """The endpoint's arguments for ``request``; FastAPI's RequestValidationError for
        missing parameters, as FastAPI reports them (path before query)."""
        values: dict[str, Any] = {}
        missing = []
        for field, where in self.params:
            given = (request.path_params if where == "path" else request.query_params).get(
                field.alias
            )
            if given is None:
                missing.append(_missing(where, field.alias))
            else:
                values[field.name] = given
        if missing:
            raise RequestValidationError(missing)
        if self.owner is not None:
            values[self.owner] = request.state.owner
        if self.services is not None:
            values[self.services] = request.app.state.services
        if self.request is not None:
            values[self.request] = request
        return values


def _direct(route: APIRoute, solved: Handler) -> Handler | None:
    """For a route simple enough, a handler that calls its endpoint without FastAPI's
    dependency solving (a fifth of a status poll's cost); None for any other route.

    Simple enough: an async endpoint that returns a Response, whose parameters are only
    required ``str`` path and query parameters with no validation of their own, the request,
    the caller's key (:class:`Credentials`, whose check the route class has run already:
    the key is on ``request.state``) and the installation's services. Every parameter is
    still declared to FastAPI, so the API docs are unchanged, and a missing one is refused
    with the very validation error FastAPI raises. While the app has dependency overrides
    (tests), FastAPI's own handler (``solved``) runs instead.
    """
    endpoint = route.dependant.call
    if not inspect.iscoroutinefunction(endpoint) or not _answers_response(endpoint):
        return None
    plain = _plain(route.dependant)
    if plain is None:
        return None
    overrides = route.dependency_overrides_provider

    async def handle(request: Request) -> Response:
        if getattr(overrides, "dependency_overrides", None):
            return await solved(request)
        answer: Response = await endpoint(**plain.values(request))
        return answer

    return handle


def _plain(dependant: Dependant) -> _Plain | None:
    """``dependant``'s parameters, if :func:`_direct` can hand over each of them."""
    unsupported = (
        dependant.header_params,
        dependant.cookie_params,
        dependant.body_params,
        dependant.websocket_param_name,
        dependant.http_connection_param_name,
        dependant.response_param_name,
        dependant.background_tasks_param_name,
        dependant.security_scopes_param_name,
    )
    params = [(field, "path") for field in dependant.path_params]
    params += [(field, "query") for field in dependant.query_params]
    if any(unsupported) or not all(_plain_text(field) for field, _ in params):
        return None
    owner = services = None
    for dependency in dependant.dependencies:
        simple = not (dependency.dependencies or dependency.query_params or dependency.path_params)
        if simple and isinstance(dependency.call, Credentials) and owner is None:
            owner = dependency.name
        elif simple and dependency.call is installation and services is None:
            services = dependency.name
        elif simple and dependency.name is None and _declares_only(dependency.call):
            continue
        else:
            return None
    return _Plain(params, owner, services, dependant.request_param_name)


def _missing(where: str, name: str) -> dict[str, Any]:
    """The error FastAPI reports for a missing required parameter."""
    return {"type": "missing", "loc": (where, name), "msg": "Field required", "input": None}


def _declares_only(call: Any) -> bool:
    """A route-level API key declaration (for the docs) that never refuses a request, and
    whose value no parameter takes: Chanjing's ``access_token`` header."""
    return isinstance(call, APIKeyBase) and not call.auto_error


def _answers_response(endpoint: Callable[..., Any]) -> bool:
    try:
        returns = get_type_hints(endpoint).get("return")
    except (NameError, TypeError):
        return False
    return isinstance(returns, type) and issubclass(returns, Response)


def _plain_text(field: Any) -> bool:
    """A required ``str`` parameter that FastAPI would hand over as it came."""
    info = field.field_info
    return bool(
        info.annotation is str
        and info.is_required()
        and not info.metadata
        and info.validation_alias is None
    )


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


def include(app: FastAPI, routes: APIRouter, prefix: str = "", **options: Any) -> None:
    """Include ``routes`` in ``app``, noting which dialect answers on each of their paths."""
    app.include_router(routes, prefix=prefix, **options)
    if not hasattr(app.state, "route_methods"):
        app.state.route_methods = []
    for route in routes.routes:
        if isinstance(route, APIRoute):
            path = compile_path(prefix + route.path)[0]
            app.state.route_methods.append((path, set(route.methods or ())))
        renderer = getattr(route, "renderer", None)
        if isinstance(route, APIRoute) and renderer is not None:
            app.state.dialect_paths.append((compile_path(prefix + route.path)[0], renderer))


async def wrong_method(request: Request, error: Exception) -> Response:
    """A wrong method on a dialect's path, answered in that dialect (HTTP 405 with
    ``Allow``); FastAPI's own answer on any other path."""
    assert isinstance(error, HTTPException)
    allowed = _allowed(request) or (error.headers or {}).get("Allow", "")
    for path, renderer in request.app.state.dialect_paths:
        if path.match(request.url.path):
            refused = InvalidParams(f"{request.method} is not allowed here; use {allowed}")
            answer: Response = renderer(refused, request)
            answer.status_code = 405
            answer.headers["Allow"] = allowed
            return answer
    return await http_exception_handler(request, error)


def _allowed(request: Request) -> str:
    """Every method some route serves on the request's path (Starlette names only the first
    route's, and /v1/videos has a route for each method)."""
    known: list[tuple[re.Pattern[str], set[str]]] = request.app.state.route_methods
    methods = {m for path, served in known if path.match(request.url.path) for m in served}
    return ", ".join(sorted(methods))


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
