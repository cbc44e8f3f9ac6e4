"""OpenAI's ``/v1/videos`` routes (wire format: :mod:`conch.wire.openai_videos`): create (JSON
or multipart), retrieve, list, delete, content and remix. This module only translates."""

from __future__ import annotations

import base64
import tempfile
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.responses import Response, StreamingResponse

from conch import cancellation
from conch.api.auth import Installation, Owner, Submitter
from conch.api.forms import CreateForm, read_create
from conch.api.ranges import stored_file_response
from conch.api.responses import JSONAnswer, model_answer
from conch.api.routing import (
    ID_DIGITS,
    TASK_REFERENCE,
    WRONG_METHOD,
    dialect_route,
    error_responses,
    from_validation,
    retry_after,
)
from conch.domain.errors import ConchError, InvalidParams
from conch.domain.ids import parse_id
from conch.domain.task import Task, TaskStatus
from conch.media.images import sniff_format
from conch.media.previews import spritesheet, thumbnail
from conch.remix import remix_request
from conch.services import Services
from conch.store.keys import ApiKey
from conch.submission import submit
from conch.wire import openai_videos as wire
from conch.wire.openai_videos import (
    ErrorAnswer,
    RemixBody,
    Variant,
    Video,
    VideoCreateBody,
    VideoDeleted,
    VideoList,
)
from conch.wire.spelling import FieldNames

VIDEO_ID = Path(description="The video's id", json_schema_extra=TASK_REFERENCE)


def _inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """A model's JSON schema with its ``$defs`` written in place (the API docs know no
    other home for them: the route reads its body itself)."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return walk(defs[node["$ref"].rsplit("/", 1)[-1]])
            return {name: walk(value) for name, value in node.items()}
        if isinstance(node, list):
            return [walk(value) for value in node]
        return node

    inlined: dict[str, Any] = walk(schema)
    return inlined


_CREATE_SCHEMA = _inlined(VideoCreateBody.model_json_schema())


def render_error(error: ConchError, request: Request) -> Response:
    names: FieldNames = getattr(request.state, "openai_fields", wire.FIELD_NAMES)
    status, body = wire.error_answer(error, names)
    return JSONAnswer(body.model_dump(), status_code=status, headers=retry_after(error))


def create_body(form: CreateForm) -> VideoCreateBody:
    """The create's fields as the model (an uploaded ``input_reference`` as a data URL)."""
    fields = dict(form.fields)
    upload = form.files.get("input_reference")
    if upload is not None:
        kind = sniff_format(upload.data)
        encoded = base64.b64encode(upload.data).decode("ascii")
        fields["input_reference"] = f"data:image/{kind or 'unknown'};base64,{encoded}"
    try:
        return VideoCreateBody.model_validate(fields)
    except ValidationError as invalid:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in invalid.errors()]
        raise from_validation(RequestValidationError(errors)) from None


def _task(found: Services, owner: ApiKey, video_id: str) -> Task:
    return found.tasks.find(owner.id, video_id)


def _cursor(after: str | None) -> int | None:
    if after is None:
        return None
    task_id = parse_id(after)
    if task_id is None:
        raise InvalidParams(f"must be a video id (a page's last_id), got {after!r}", field="after")
    return task_id


def _content(request: Request, found: Services, task: Task, variant: Variant) -> Response:
    if task.status is not TaskStatus.SUCCESS or task.output is None:
        shown = wire.STATUS_NAMES[task.status]
        raise InvalidParams(
            f"video {task.task_id} is {shown}: its content is there once it is completed",
            field="video_id",
        )
    record = found.tasks.file(task.owner_id, task.output.file_id)
    if variant is Variant.VIDEO:
        return stored_file_response(request, found.media, record.storage_key, f"{task.task_id}.mp4")
    with tempfile.TemporaryDirectory(prefix="conch-preview-") as folder:
        video = FilePath(folder) / "video.mp4"
        found.media.copy_to(record.storage_key, video)
        picture = thumbnail(video) if variant is Variant.THUMBNAIL else spritesheet(video)
    return Response(picture, media_type="image/jpeg")


_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {"schema": _CREATE_SCHEMA},
            "application/json": {"schema": _CREATE_SCHEMA},
        },
    }
}
_FILES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The video (MP4), or a thumbnail or spritesheet (JPEG)",
        "content": {"video/mp4": {}, "image/jpeg": {}},
    },
    206: {"description": "Part of the video (a Range request)", "content": {"video/mp4": {}}},
}


def router() -> APIRouter:
    """The /v1/videos routes."""
    statuses = {error.http_status for error in wire.ERRORS.values()} | {WRONG_METHOD}
    routes = APIRouter(
        route_class=dialect_route(render_error),
        strict_content_type=False,
        tags=["OpenAI videos"],
        responses=error_responses(ErrorAnswer, *statuses),
    )

    @routes.post(wire.VIDEOS_PATH, response_model=Video, openapi_extra=_BODY)
    async def create_video(request: Request, owner: Submitter, found: Installation) -> Video:
        """Create a video: text, an ``input_reference`` (upload, URL, data URL), or
        MiniMax's fields (``last_frame_image``, ...) top-level or in ``metadata``."""
        body = create_body(await read_create(request))
        request.state.openai_fields = body.field_names()
        task = await submit(found, owner, body.to_request(), dialect=wire.DIALECT)
        return wire.video(task)

    @routes.get(wire.VIDEOS_PATH, response_model=VideoList)
    def list_videos(
        owner: Owner,
        found: Installation,
        after: Annotated[
            str | None,
            Query(description="The last_id of the page before", json_schema_extra=ID_DIGITS),
        ] = None,
        limit: Annotated[int, Query(ge=1, le=wire.MAX_PAGE_SIZE)] = wire.DEFAULT_PAGE_SIZE,
        order: Annotated[Literal["asc", "desc"], Query(description="By creation")] = "desc",
    ) -> VideoList:
        """The key's videos, newest first (or oldest, ``order=asc``), a page at a time."""
        page = found.tasks.paged(
            owner.id, limit=limit + 1, after=_cursor(after), ascending=order == "asc"
        )
        return wire.video_list(list(page[:limit]), more=len(page) > limit)

    @routes.get(wire.VIDEO_PATH, response_model=Video)
    async def retrieve_video(
        video_id: Annotated[str, VIDEO_ID], owner: Owner, found: Installation
    ) -> Response:
        """One video's status."""
        # A status poll, as MiniMax's query: the read inline, the answer from its model.
        return model_answer(wire.video(_task(found, owner, video_id)))

    @routes.delete(wire.VIDEO_PATH, response_model=VideoDeleted)
    def delete_video(
        video_id: Annotated[str, VIDEO_ID], owner: Owner, found: Installation
    ) -> VideoDeleted:
        """Delete a video: a queued or running one is cancelled first (its render stops);
        a finished one's files go, and its links stop working at once."""
        task = cancellation.delete(found, owner.id, video_id)
        return VideoDeleted(id=task.task_id)

    @routes.get(wire.CONTENT_PATH, response_class=StreamingResponse, responses=_FILES)
    def video_content(
        request: Request,
        video_id: Annotated[str, VIDEO_ID],
        owner: Owner,
        found: Installation,
        variant: Annotated[Variant, Query(description="video, thumbnail or spritesheet")] = (
            Variant.VIDEO
        ),
    ) -> Response:
        """The video (Range requests are served), or a JPEG of it: its middle frame
        (thumbnail), or frames at even steps in a grid (spritesheet)."""
        return _content(request, found, _task(found, owner, video_id), variant)

    @routes.post(wire.REMIX_PATH, response_model=Video)
    async def remix_video(
        video_id: Annotated[str, VIDEO_ID],
        body: RemixBody,
        owner: Submitter,
        found: Installation,
    ) -> Video:
        """A new video with the same inputs and settings and a new prompt."""
        source = _task(found, owner, video_id)
        shown = wire.STATUS_NAMES[source.status]
        request = remix_request(found.media, source, body.prompt, shown_status=shown)
        task = await submit(found, owner, request, dialect=wire.DIALECT)
        return wire.video(task)

    return routes
