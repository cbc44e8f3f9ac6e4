"""The route class every dialect uses: whatever goes wrong, the caller gets an answer in
its own dialect (never FastAPI's ``{"detail": ...}``)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from conch.api.json_body import read_as_json
from conch.api.limits import declared_too_large
from conch.domain.errors import ConchError, Internal, InvalidParams, MalformedRequest

log = logging.getLogger(__name__)

ErrorRenderer = Callable[[ConchError, Request], Response]
"""A dialect's way of answering with an error."""

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def dialect_route(render_error: ErrorRenderer) -> type[APIRoute]:
    """An APIRoute class whose routes answer every failure through ``render_error``."""

    class DialectRoute(APIRoute):
        def get_route_handler(self) -> Handler:
            handler = super().get_route_handler()

            async def handle(request: Request) -> Response:
                limit = request.app.state.services.settings.max_request_bytes
                too_large = declared_too_large(request, limit)
                if too_large is not None:
                    return render_error(too_large, request)
                try:
                    if self.body_field is not None:
                        request = await read_as_json(request)
                    return await handler(request)
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
