"""conch's own routes, which no provider has (the wire format is ``conch.wire.native``).

They answer with real HTTP statuses, and errors as ``{"error": {"code", "message"}}`` with
conch's canonical code; the statuses are the ones the Modelverse dialect already uses.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from conch.api.auth import Installation, Owner
from conch.api.responses import JSONAnswer
from conch.api.routing import (
    ID_DIGITS,
    WRONG_METHOD,
    dialect_route,
    error_responses,
    retry_after,
)
from conch.domain.errors import ConchError, ErrorCode, InvalidParams
from conch.domain.ids import parse_id
from conch.domain.task import Task, TaskStatus
from conch.store.queue import queue_positions
from conch.wire.modelverse import ERRORS
from conch.wire.native import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    TASKS_PATH,
    ErrorAnswer,
    ErrorDetail,
    TaskError,
    TaskPage,
    TaskView,
)

HTTP_STATUS: dict[ErrorCode, int] = {code: wire.http_status for code, wire in ERRORS.items()}
ERROR_RESPONSES = error_responses(ErrorAnswer, *HTTP_STATUS.values(), WRONG_METHOD)
"""The errors every one of conch's own routes may answer, for the API docs."""


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    """conch's own error body: ``{"error": {"code", "message"}}``."""
    body = ErrorAnswer(error=ErrorDetail(code=code, message=message))
    return JSONAnswer(body.model_dump(), status_code=status, headers=headers)


def render_error(error: ConchError, _request: Request) -> Response:
    """``error`` in conch's own error body, on the HTTP status it stands for."""
    status = HTTP_STATUS[error.code]
    return error_response(status, error.code.value, error.message(), retry_after(error))


def task_view(task: Task, queue_position: int | None = None) -> TaskView:
    """``task`` as conch's own API shows it (``queue_position`` while it is queued)."""
    spec = task.spec
    failed = task.status in (TaskStatus.FAIL, TaskStatus.CANCELLED)
    return TaskView(
        task_id=task.task_id,
        status=task.status.value,
        model=task.model,
        mode=spec.mode.value,
        duration=spec.duration,
        resolution=spec.resolution.value,
        prompt=spec.prompt,
        progress=round(task.progress * 100),
        created_at=int(task.created_at),
        finished_at=None if task.finished_at is None else int(task.finished_at),
        file_id=str(task.output.file_id) if task.output else None,
        dialect=task.dialect,
        error=TaskError(code=task.error_code or "", message=task.failure_reason)
        if failed
        else None,
        queue_position=queue_position,
        aigc_watermark=spec.aigc_watermark,
        has_audio=bool(task.output and task.output.audio_channels),
    )


def _cursor(after: str | None) -> int | None:
    if after is None:
        return None
    task_id = parse_id(after)
    if task_id is None:
        raise InvalidParams(
            f"must be a task id (the next_after of a page), got {after!r}", field="after"
        )
    return task_id


def router() -> APIRouter:
    """conch's own task routes."""
    routes = APIRouter(
        route_class=dialect_route(render_error), tags=["conch"], responses=ERROR_RESPONSES
    )

    @routes.get(TASKS_PATH, response_model=TaskPage, summary="List tasks")
    def list_tasks(
        owner: Owner,
        found: Installation,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Tasks per page")] = (
            DEFAULT_PAGE_SIZE
        ),
        after: Annotated[
            str | None,
            Query(description="The next_after of the page before", json_schema_extra=ID_DIGITS),
        ] = None,
    ) -> TaskPage:
        """The caller's tasks, newest first, whichever dialect submitted them."""
        page = found.tasks.latest(owner.id, limit=limit + 1, before=_cursor(after))
        shown = page[:limit]
        more = len(page) > limit
        queued = [task.id for task in shown if task.status is TaskStatus.QUEUED]
        places = queue_positions(found.tasks.engine, queued)
        return TaskPage(
            tasks=[task_view(task, places.get(task.id)) for task in shown],
            has_more=more,
            next_after=shown[-1].task_id if more else None,
        )

    return routes
