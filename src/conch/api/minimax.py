"""The MiniMax dialect (``api-notes.md`` §1), also served under ``/minimax`` for QuickRouter.

Wire facts kept exactly: answers are HTTP 200 with ``base_resp``; ``task_id`` is a string of
digits; ``file_id`` is a string in the query and a number in retrieve; statuses are
``Preparing | Queueing | Processing | Success | Fail``. This module only translates.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from conch.api.auth import Installation, Owner
from conch.api.fields import Seconds, given
from conch.api.files import download_url
from conch.api.routing import dialect_route
from conch.domain.errors import ConchError, ErrorCode, InvalidParams
from conch.domain.request import GenerationRequest, ImageRole
from conch.domain.task import Task, TaskStatus
from conch.store.ids import parse_id
from conch.submission import submit

DIALECT = "minimax"
QUICKROUTER_PREFIX = "/minimax"

STATUS_CODES: dict[ErrorCode, int] = {
    ErrorCode.INVALID_PARAMS: 2013,
    ErrorCode.MALFORMED_REQUEST: 2013,
    ErrorCode.NOT_FOUND: 2013,
    ErrorCode.UNAUTHORIZED: 1004,
    ErrorCode.INVALID_API_KEY: 2049,
    ErrorCode.RATE_LIMITED: 1002,
    ErrorCode.INSUFFICIENT_BALANCE: 1008,
    ErrorCode.SENSITIVE_CONTENT: 1026,
    ErrorCode.INTERNAL: 1000,
}
"""Canonical error -> ``base_resp.status_code``."""

STATUS_NAMES: dict[TaskStatus, str] = {
    TaskStatus.QUEUED: "Queueing",
    TaskStatus.PREPARING: "Preparing",
    TaskStatus.PROCESSING: "Processing",
    TaskStatus.SUCCESS: "Success",
    TaskStatus.FAIL: "Fail",
}

OK = {"status_code": 0, "status_msg": "success"}

SUBMIT_PATH = "/v1/video_generation"
QUERY_PATH = "/v1/query/video_generation"
RETRIEVE_PATH = "/v1/files/retrieve"
RETRIEVE_CONTENT_PATH = "/v1/files/retrieve_content"
"""The routes, as every MiniMax client (and conch's SDK) calls them."""


def base_resp(error: ConchError) -> dict[str, Any]:
    return {"status_code": STATUS_CODES[error.code], "status_msg": error.message()}


def render_error(error: ConchError, _request: Request) -> Response:
    # MiniMax answers business errors with HTTP 200; the code is in base_resp.
    return JSONResponse({"base_resp": base_resp(error)})


# -- wire schemas ---------------------------------------------------------------------------


class SubjectReference(BaseModel):
    type: str = Field("character", description='Always "character"')
    image: list[str] = Field(description="Exactly one image: an https URL or a data URL")


class VideoGenerationBody(BaseModel):
    """``POST /v1/video_generation``: one endpoint, four modes."""

    model_config = ConfigDict(extra="ignore")

    model: str = Field(description="e.g. MiniMax-Hailuo-02, MiniMax-Hailuo-2.3, S2V-01")
    prompt: str | None = Field(None, description="At most 2000 characters; [camera commands]")
    first_frame_image: str | None = None
    last_frame_image: str | None = None
    subject_reference: list[SubjectReference] | None = None
    prompt_optimizer: bool | None = Field(None, description="true by default")
    fast_pretreatment: bool | None = Field(None, description="false by default")
    duration: Seconds | None = Field(None, description="Seconds; 6 by default")
    resolution: str | None = Field(None, description="512P, 720P, 768P or 1080P")
    callback_url: str | None = None
    aigc_watermark: bool | None = Field(None, description="false by default")

    def to_request(self) -> GenerationRequest:
        return GenerationRequest(
            **given(
                model=self.model,
                prompt=self.prompt,
                first_frame_image=self.first_frame_image,
                last_frame_image=self.last_frame_image,
                subject_image=_subject_image(self.subject_reference),
                prompt_optimizer=self.prompt_optimizer,
                fast_pretreatment=self.fast_pretreatment,
                duration=self.duration,
                resolution=self.resolution,
                callback_url=self.callback_url,
                aigc_watermark=self.aigc_watermark,
            )
        )


def _subject_image(references: list[SubjectReference] | None) -> str | None:
    if references is None:
        return None
    if len(references) != 1 or references[0].type != "character" or len(references[0].image) != 1:
        raise InvalidParams(
            'must be [{"type": "character", "image": ["<one image URL>"]}]',
            field=ImageRole.SUBJECT,
        )
    return references[0].image[0]


class BaseResp(BaseModel):
    status_code: int
    status_msg: str


class SubmitAnswer(BaseModel):
    task_id: str
    base_resp: BaseResp


class QueryAnswer(BaseModel):
    task_id: str
    status: str = Field(description="Preparing | Queueing | Processing | Success | Fail")
    file_id: str = Field(description='The video\'s file id on Success, else ""')
    video_width: int | None = None
    video_height: int | None = None
    base_resp: BaseResp


class FileObject(BaseModel):
    file_id: int
    bytes: int
    created_at: int
    filename: str
    purpose: str
    download_url: str


class RetrieveAnswer(BaseModel):
    file: FileObject
    base_resp: BaseResp


# -- translation ----------------------------------------------------------------------------


def query_body(task: Task) -> dict[str, Any]:
    """A task as MiniMax's query answers it (the callback pushes reuse it)."""
    body: dict[str, Any] = {
        "task_id": task.task_id,
        "status": STATUS_NAMES[task.status],
        "file_id": "",
        "base_resp": OK,
    }
    if task.output is not None:
        body["file_id"] = str(task.output.file_id)
        body["video_width"] = task.output.width
        body["video_height"] = task.output.height
    if task.status is TaskStatus.FAIL:
        code = ErrorCode(task.error_code or ErrorCode.INTERNAL)
        body["base_resp"] = {"status_code": STATUS_CODES[code], "status_msg": task.error_message}
    return body


def _file_id(value: str) -> int:
    if not value.strip():
        raise InvalidParams("is required", field="file_id")
    file_id = parse_id(value)
    if file_id is None:
        raise InvalidParams(f"must be a number, got {value!r}", field="file_id")
    return file_id


def router(tag: str = "MiniMax") -> APIRouter:
    """The MiniMax routes (included once at the root and once under ``/minimax``)."""
    # Some clients omit Content-Type (curl -d sends a form type): read their bodies as JSON.
    # Callers authenticate by a header no cross-site form can send, so no CSRF hole opens.
    routes = APIRouter(
        route_class=dialect_route(render_error), strict_content_type=False, tags=[tag]
    )

    @routes.post(SUBMIT_PATH, response_model=SubmitAnswer)
    async def video_generation(
        body: VideoGenerationBody,
        owner: Owner,
        found: Installation,
    ) -> dict[str, Any]:
        """Create a video task: text, first frame, first+last frame, or subject reference."""
        task = await submit(found, owner, body.to_request(), dialect=DIALECT)
        return {"task_id": task.task_id, "base_resp": OK}

    # Width and height exist only on success: typed clients break on a null.
    @routes.get(QUERY_PATH, response_model=QueryAnswer, response_model_exclude_none=True)
    def query_video_generation(
        task_id: Annotated[str, Query(description="The task_id that video_generation returned")],
        owner: Owner,
        found: Installation,
    ) -> dict[str, Any]:
        """A task's status; ``file_id`` and the video size once it succeeded."""
        return query_body(found.tasks.find(owner.id, task_id))

    @routes.get(RETRIEVE_PATH, response_model=RetrieveAnswer)
    def retrieve(
        request: Request,
        file_id: Annotated[str, Query(description="The file_id from the query")],
        owner: Owner,
        found: Installation,
    ) -> dict[str, Any]:
        """A file's details and a fresh signed download link."""
        record = found.tasks.file(owner.id, _file_id(file_id))
        file = {
            "file_id": record.id,
            "bytes": record.bytes,
            "created_at": int(record.created_at),
            "filename": record.filename,
            "purpose": record.purpose,
            "download_url": download_url(request, record),
        }
        return {"file": file, "base_resp": OK}

    @routes.get(RETRIEVE_CONTENT_PATH, response_class=FileResponse)
    def retrieve_content(
        file_id: Annotated[str, Query(description="The file_id from the query")],
        owner: Owner,
        found: Installation,
    ) -> Response:
        """The file's bytes (HTTP Range requests are served)."""
        record = found.tasks.file(owner.id, _file_id(file_id))
        path = found.media.path(record.storage_key)
        return FileResponse(path, media_type="video/mp4", filename=record.filename)

    return routes
