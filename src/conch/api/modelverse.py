"""The Modelverse dialect's routes (wire format: :mod:`conch.wire.modelverse`). This module
only translates."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from conch.api.auth import Installation, Owner, Submitter
from conch.api.files import video_urls
from conch.api.responses import JSONAnswer, model_answer
from conch.api.routing import (
    TASK_REFERENCE,
    WRONG_METHOD,
    dialect_route,
    error_responses,
    retry_after,
)
from conch.api.tracing import trace_id
from conch.domain.errors import ConchError
from conch.submission import submit
from conch.wire import modelverse as wire
from conch.wire.modelverse import (
    ModelverseSubmitAnswer,
    ModelverseSubmitBody,
    StatusAnswer,
    SubmitOutput,
)


def render_error(error: ConchError, request: Request) -> Response:
    status, body = wire.error_answer(error, trace_id(request))
    return JSONAnswer(body.model_dump(), status_code=status, headers=retry_after(error))


def router() -> APIRouter:
    """The Modelverse routes."""
    # Some clients omit Content-Type: read their bodies as JSON. Callers authenticate by a
    # header that no cross-site form can send, so this opens no CSRF hole.
    statuses = {error.http_status for error in wire.ERRORS.values()} | {WRONG_METHOD}
    routes = APIRouter(
        route_class=dialect_route(render_error),
        strict_content_type=False,
        tags=["Modelverse"],
        responses=error_responses(wire.ErrorAnswer, *statuses),
    )

    @routes.post(wire.SUBMIT_PATH, response_model=ModelverseSubmitAnswer)
    async def submit_task(
        request: Request, body: ModelverseSubmitBody, owner: Submitter, found: Installation
    ) -> ModelverseSubmitAnswer:
        """Create a video task (image to video; first+last frame on MiniMax-Hailuo-02)."""
        task = await submit(found, owner, body.to_request(), dialect=wire.DIALECT)
        output = SubmitOutput(task_id=task.task_id)
        return ModelverseSubmitAnswer(output=output, request_id=trace_id(request))

    @routes.get(wire.STATUS_PATH, response_model=StatusAnswer)
    async def task_status(
        request: Request,
        task_id: Annotated[
            str,
            Query(
                description="The task_id that tasks/submit returned",
                json_schema_extra=TASK_REFERENCE,
            ),
        ],
        owner: Owner,
        found: Installation,
    ) -> Response:
        """A task's status; fresh signed links to the video once it succeeded."""
        # A status poll, as MiniMax's query: the read inline, the answer from its model.
        task = found.tasks.find(owner.id, task_id)
        return model_answer(wire.status_answer(task, video_urls(request, task), trace_id(request)))

    return routes
