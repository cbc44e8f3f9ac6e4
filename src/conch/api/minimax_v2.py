"""MiniMax's v2 video routes (wire format: :mod:`conch.wire.minimax_v2`): create, query,
list and cancel. This module only translates."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from conch import cancellation
from conch.api.auth import Installation, Owner, Submitter
from conch.api.files import video_urls
from conch.api.native import HTTP_STATUS
from conch.api.responses import JSONAnswer, model_answer
from conch.api.routing import (
    TASK_REFERENCE,
    WRONG_METHOD,
    dialect_route,
    error_responses,
    retry_after,
)
from conch.domain.errors import ConchError
from conch.domain.task import Task
from conch.submission import submit
from conch.wire import minimax_v2 as wire
from conch.wire.minimax import OK
from conch.wire.minimax_v2 import (
    CancelAnswer,
    CreateAnswer,
    CreateBody,
    ErrorAnswer,
    ListAnswer,
    QueryAnswer,
    TaskObject,
)

TASK_ID = Path(description="The task_id the create answered", json_schema_extra=TASK_REFERENCE)


def render_error(error: ConchError, _request: Request) -> Response:
    status, body = wire.error_answer(error, HTTP_STATUS)
    return JSONAnswer(body.model_dump(), status_code=status, headers=retry_after(error))


def _object(request: Request, task: Task) -> TaskObject:
    return wire.task_object(task, video_urls(request, task))


def router() -> APIRouter:
    """The v2 routes."""
    # Some clients omit Content-Type: read their bodies as JSON (the Bearer key in a header
    # is what no cross-site form can send).
    statuses = set(HTTP_STATUS.values()) | {WRONG_METHOD}
    routes = APIRouter(
        route_class=dialect_route(render_error),
        strict_content_type=False,
        tags=["MiniMax v2"],
        responses=error_responses(ErrorAnswer, *statuses),
    )

    @routes.post(wire.CREATE_PATH, response_model=CreateAnswer)
    async def create(body: CreateBody, owner: Submitter, found: Installation) -> CreateAnswer:
        """Create a video task from ``content[]``: a text item, and image items whose roles
        are first_frame, last_frame or reference_image."""
        task = await submit(found, owner, body.to_request(), dialect=wire.DIALECT)
        return CreateAnswer(task_id=task.task_id, base_resp=OK)

    @routes.get(wire.QUERY_PATH, response_model=QueryAnswer)
    async def query(
        request: Request, task_id: Annotated[str, TASK_ID], owner: Owner, found: Installation
    ) -> Response:
        """A task, with a fresh link to its video at ``content.url`` once it succeeded."""
        # A status poll, as MiniMax's v1 query: the read inline, the answer from its model.
        task = found.tasks.find(owner.id, task_id)
        return model_answer(QueryAnswer(task=_object(request, task), base_resp=OK))

    @routes.get(wire.LIST_PATH, response_model=ListAnswer)
    def list_tasks(
        request: Request,
        owner: Owner,
        found: Installation,
        page_num: Annotated[int, Query(ge=1, description="From 1")] = 1,
        page_size: Annotated[int, Query(ge=1, le=wire.MAX_PAGE_SIZE)] = wire.DEFAULT_PAGE_SIZE,
    ) -> ListAnswer:
        """The key's tasks, newest first, a page at a time."""
        offset = min((page_num - 1) * page_size, wire.MAX_OFFSET)
        tasks, total = found.tasks.list(owner.id, limit=page_size, offset=offset)
        items = [_object(request, task) for task in tasks]
        return ListAnswer(items=items, total=total, base_resp=OK)

    @routes.delete(wire.TASK_PATH, response_model=CancelAnswer)
    def cancel(task_id: Annotated[str, TASK_ID], owner: Owner, found: Installation) -> CancelAnswer:
        """Cancel a queued or running task (a finished one is refused, 400)."""
        task = cancellation.cancel(found, owner.id, task_id)
        return CancelAnswer(
            task_id=task.task_id, status=wire.STATUS_NAMES[task.status], base_resp=OK
        )

    return routes
