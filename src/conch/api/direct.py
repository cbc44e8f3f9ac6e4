"""Status polls called without FastAPI's dependency solving, a fifth of a poll's cost.

A route qualifies when everything it takes is something conch can hand over itself: plain
required ``str`` path and query parameters, the request, the caller's key (already checked
by the route class, on ``request.state``) and the installation's services. FastAPI still
declares every parameter, so the API docs are the same, and still runs the route whenever
the app has dependency overrides (tests). tests/api/test_direct_polls.py checks each
qualifying route's answers against FastAPI's own handler.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, get_type_hints

from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security.api_key import APIKeyBase
from starlette.requests import Request
from starlette.responses import Response

from conch.api.auth import Credentials, installation

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


@dataclass(frozen=True)
class _Plain:
    """A route's parameters, where each is one :func:`direct_handler` can hand over itself."""

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


def direct_handler(route: APIRoute, solved: Handler) -> Handler | None:
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
    """``dependant``'s parameters, if :func:`direct_handler` can hand over each of them."""
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
