"""The Chanjing dialect's routes (wire format: :mod:`conch.wire.chanjing`): the access-token
call, its credentials, and the task calls. This module only translates."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Security
from fastapi.security import APIKeyHeader
from starlette.responses import Response

from conch.api.auth import Credentials, Installation, services
from conch.api.files import video_urls
from conch.api.responses import JSONAnswer, model_answer
from conch.api.routing import TASK_REFERENCE, WRONG_METHOD, dialect_route, error_responses
from conch.api.tracing import trace_id
from conch.domain.errors import ConchError, Unauthorized
from conch.domain.task import Task, TaskStatus
from conch.services import Services
from conch.store.chanjing import ChanjingStore
from conch.store.keys import ApiKey
from conch.submission import submit
from conch.wire import chanjing as wire
from conch.wire.chanjing import (
    AccessTokenAnswer,
    AccessTokenData,
    ChanjingSubmitAnswer,
    ChanjingSubmitBody,
    ErrorAnswer,
    Page,
    PageAnswer,
    PageBody,
    TaskAnswer,
    TokenBody,
)
from conch.wire.spelling import FieldNames


def render_error(error: ConchError, request: Request) -> Response:
    # The submit call records which image spelling the caller used (see ChanjingSubmitBody).
    names: FieldNames = getattr(request.state, "chanjing_fields", wire.FIELD_NAMES)
    # Always HTTP 200: see conch.wire.chanjing.
    return JSONAnswer(wire.error_answer(error, trace_id(request), names).model_dump())


# -- credentials ----------------------------------------------------------------------------


def chanjing_store(request: Request) -> ChanjingStore:
    """The installation's Chanjing apps and tokens (a FastAPI dependency)."""
    found = services(request)
    return found.chanjing


def token_owner(request: Request) -> ApiKey:
    """The API key behind the ``access_token`` header; 10400 otherwise."""
    # Reverse proxies such as nginx drop headers with underscores by default: accept the
    # dashed spelling too.
    token = request.headers.get(wire.TOKEN_FIELD) or request.headers.get("access-token")
    if not token or not token.strip():
        raise Unauthorized(
            f"the access_token header is missing; get a token from POST {wire.TOKEN_PATH}"
        )
    return chanjing_store(request).authenticate(token.strip())


# The header, declared for the API docs; the route class checks the token before the body.
_token_header = APIKeyHeader(name=wire.TOKEN_FIELD, auto_error=False, scheme_name="access_token")
TOKEN_HEADER = Security(_token_header)
TokenOwner = Annotated[ApiKey, Depends(Credentials(token_owner))]
TokenSubmitter = Annotated[ApiKey, Depends(Credentials(token_owner, submits=True))]
Apps = Annotated[ChanjingStore, Depends(chanjing_store)]


def _page(request: Request, found: Services, owner: ApiKey, body: PageBody) -> Page:
    tasks: list[Task] = []
    total = 0
    if body.type in (None, wire.VIDEO):  # every creation here is a video
        tasks, total = found.tasks.list(
            owner.id,
            references=body.unique_ids,
            statuses=[TaskStatus.SUCCESS] if body.is_success else None,
            limit=body.page_size,
            offset=body.offset,
        )
    objects = [wire.task_object(task, video_urls(request, task)) for task in tasks]
    return wire.page(objects, total, body)


def router() -> APIRouter:
    """The Chanjing routes."""
    # Some clients omit Content-Type: read their bodies as JSON. Callers authenticate by a
    # header that no cross-site form can send, so this opens no CSRF hole.
    routes = APIRouter(
        route_class=dialect_route(render_error),
        strict_content_type=False,
        tags=["Chanjing"],
        responses=error_responses(ErrorAnswer, WRONG_METHOD),
    )

    @routes.post(wire.TOKEN_PATH, response_model=AccessTokenAnswer | ErrorAnswer)
    def access_token(request: Request, body: TokenBody, apps: Apps) -> AccessTokenAnswer:
        """Trade an app's ``app_id`` + ``secret_key`` for a token; the previous one dies."""
        issued = apps.issue_token(body.app_id, body.secret_key)
        data = AccessTokenData(access_token=issued.token, expire_in=issued.expires_at)
        return AccessTokenAnswer(**wire.answered(trace_id(request)), data=data)

    @routes.post(
        wire.SUBMIT_PATH,
        response_model=ChanjingSubmitAnswer | ErrorAnswer,
        dependencies=[TOKEN_HEADER],
    )
    async def submit_task(
        request: Request, body: ChanjingSubmitBody, owner: TokenSubmitter, found: Installation
    ) -> ChanjingSubmitAnswer:
        """Create a video task; ``data`` is its ``unique_id``."""
        request.state.chanjing_fields = body.field_names()
        task = await submit(found, owner, body.to_request(), dialect=wire.DIALECT)
        return ChanjingSubmitAnswer(**wire.answered(trace_id(request)), data=task.uuid)

    @routes.get(
        wire.TASK_PATH, response_model=TaskAnswer | ErrorAnswer, dependencies=[TOKEN_HEADER]
    )
    async def get_task(
        request: Request,
        unique_id: Annotated[
            str,
            Query(description="The id that task/submit returned", json_schema_extra=TASK_REFERENCE),
        ],
        owner: TokenOwner,
        found: Installation,
    ) -> Response:
        """One task."""
        # A status poll, as MiniMax's query: the read inline, the answer from its model.
        task = found.tasks.find(owner.id, unique_id)
        data = wire.task_object(task, video_urls(request, task))
        return model_answer(TaskAnswer(**wire.answered(trace_id(request)), data=data))

    @routes.post(
        wire.PAGE_PATH, response_model=PageAnswer | ErrorAnswer, dependencies=[TOKEN_HEADER]
    )
    def page_tasks(
        request: Request, body: PageBody, owner: TokenOwner, found: Installation
    ) -> PageAnswer:
        """The caller's tasks, newest first, filtered and paged."""
        body.check()
        data = _page(request, found, owner, body)
        return PageAnswer(**wire.answered(trace_id(request)), data=data)

    return routes
