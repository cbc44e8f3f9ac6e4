"""``POST /v1/tasks/{task_id}/cancel``: conch's own cancel, for the dialects that have none
(MiniMax, QuickRouter, Modelverse, Chanjing). It answers in conch's own JSON
(:mod:`conch.api.native`) with the task as it ended. A Bearer API key, or a Chanjing
``access_token``, names the owner.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request

from conch import cancellation
from conch.api.auth import Credentials, Installation, api_key_owner, recent_api_key_owner
from conch.api.chanjing import TOKEN_HEADER, token_owner
from conch.api.native import ERROR_RESPONSES, render_error, task_view
from conch.api.routing import TASK_REFERENCE, dialect_route
from conch.store.keys import ApiKey
from conch.wire.chanjing import TOKEN_FIELD
from conch.wire.native import CANCEL_PATH, TaskView


def _by_token(request: Request) -> bool:
    """Whether the caller sent a Chanjing token and no API key."""
    token = request.headers.get(TOKEN_FIELD) or request.headers.get("access-token")
    return not request.headers.get("authorization") and bool(token)


def key_or_token_owner(request: Request) -> ApiKey:
    """The caller's key: from ``Authorization``, or from a Chanjing ``access_token``."""
    return token_owner(request) if _by_token(request) else api_key_owner(request)


def _recent(request: Request) -> ApiKey | None:
    return None if _by_token(request) else recent_api_key_owner(request)


AnyOwner = Annotated[ApiKey, Depends(Credentials(key_or_token_owner, _recent))]


def router() -> APIRouter:
    """conch's cancel route."""
    routes = APIRouter(
        route_class=dialect_route(render_error), tags=["conch"], responses=ERROR_RESPONSES
    )

    # TOKEN_HEADER declares the Chanjing token in the API docs as a way in (the route class
    # checks whichever credential came, before anything else).
    @routes.post(
        CANCEL_PATH, response_model=TaskView, summary="Cancel a task", dependencies=[TOKEN_HEADER]
    )
    def cancel_task(
        task_id: Annotated[
            str,
            Path(
                description="The task's id, or its uuid / unique_id",
                json_schema_extra=TASK_REFERENCE,
            ),
        ],
        owner: AnyOwner,
        found: Installation,
    ) -> TaskView:
        """Cancel a queued or running task: a queued one never starts, a running one stops
        within 2 s; its files are removed. A task that has ended is refused (400)."""
        return task_view(cancellation.cancel(found, owner.id, task_id))

    return routes
