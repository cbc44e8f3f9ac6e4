"""MiniMax's video API (``api-notes.md`` §1), which QuickRouter serves under ``/minimax``.

Wire facts kept exactly: answers are HTTP 200 with ``base_resp``; ``task_id`` is a string of
digits; ``file_id`` is a string in the query and a number in retrieve; statuses are
``Preparing | Queueing | Processing | Success | Fail``; a push is the query answer with the
lowercase push status in ``status``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from conch.domain.errors import ConchError, ErrorCode, InvalidParams
from conch.domain.ids import parse_id
from conch.domain.request import GenerationRequest, ImageRole
from conch.domain.task import Task, TaskStatus
from conch.wire.fields import Seconds, given

DIALECT = "minimax"
QUICKROUTER_PREFIX = "/minimax"

SUBMIT_PATH = "/v1/video_generation"
QUERY_PATH = "/v1/query/video_generation"
RETRIEVE_PATH = "/v1/files/retrieve"
RETRIEVE_CONTENT_PATH = "/v1/files/retrieve_content"
LIST_FILES_PATH = "/v1/files/list"
DELETE_FILE_PATH = "/v1/files/delete"
"""The routes, as every MiniMax client (and conch's SDK) calls them."""

VIDEO_PURPOSE = "video_generation"
"""The purpose of every file conch keeps: the videos it made."""
PURPOSES = ("voice_clone", "prompt_audio", "t2a_async", "t2a_async_input", VIDEO_PURPOSE)
"""The purposes MiniMax's file calls name."""
MAX_LISTED_FILES = 1000
"""The most files one list answers with (MiniMax's list call has no paging)."""

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
    TaskStatus.CANCELLED: "Fail",
}
"""Canonical status -> MiniMax's (a cancelled task is ``Fail``, its reason "cancelled")."""

SUCCESS_MSG = "success"


# -- requests -------------------------------------------------------------------------------


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


class DeleteFileBody(BaseModel):
    """``POST /v1/files/delete``."""

    model_config = ConfigDict(extra="ignore")

    file_id: int | str = Field(description="The file_id to delete (a number, or its digits)")
    purpose: str = Field(description="video_generation")


def check_purpose(purpose: str | None) -> None:
    """InvalidParams unless ``purpose`` names conch's files (``video_generation``)."""
    if purpose is None or not purpose.strip():
        raise InvalidParams(f"is required; conch keeps {VIDEO_PURPOSE} files", field="purpose")
    if purpose.strip() != VIDEO_PURPOSE:
        known = "one of MiniMax's purposes" if purpose.strip() in PURPOSES else "not a purpose"
        raise InvalidParams(
            f"{purpose!r} is {known}, but conch keeps only {VIDEO_PURPOSE} files (the videos "
            "it made)",
            field="purpose",
        )


def file_id(value: str) -> int:
    """The ``file_id`` query parameter as a number."""
    if not value.strip():
        raise InvalidParams("is required", field="file_id")
    parsed = parse_id(value)
    if parsed is None:
        raise InvalidParams(f"must be a number, got {value!r}", field="file_id")
    return parsed


# -- answers --------------------------------------------------------------------------------


class BaseResp(BaseModel):
    status_code: int
    status_msg: str


OK = BaseResp(status_code=0, status_msg=SUCCESS_MSG)


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


class ListFilesAnswer(BaseModel):
    files: list[FileObject] = Field(description="The key's videos, newest first")
    base_resp: BaseResp


class DeleteFileAnswer(BaseModel):
    file_id: int
    base_resp: BaseResp


class ErrorAnswer(BaseModel):
    base_resp: BaseResp


def base_resp(error: ConchError) -> BaseResp:
    return BaseResp(status_code=STATUS_CODES[error.code], status_msg=error.message())


def query_answer(task: Task) -> QueryAnswer:
    """A task as MiniMax's query answers it (the callback pushes reuse it)."""
    answer = QueryAnswer(
        task_id=task.task_id, status=STATUS_NAMES[task.status], file_id="", base_resp=OK
    )
    if task.output is not None:
        answer.file_id = str(task.output.file_id)
        answer.video_width = task.output.width
        answer.video_height = task.output.height
    if task.status is TaskStatus.FAIL:
        code = ErrorCode(task.error_code or ErrorCode.INTERNAL)
        message = task.error_message or ""
        answer.base_resp = BaseResp(status_code=STATUS_CODES[code], status_msg=message)
    elif task.status is TaskStatus.CANCELLED:
        # MiniMax has no code for a cancel: the query itself succeeded (0), and the reason
        # says why the task failed.
        answer.base_resp = BaseResp(status_code=OK.status_code, status_msg=task.failure_reason)
    return answer


def push_body(task: Task, event: str) -> dict[str, object]:
    """MiniMax's push: the query answer with the lowercase push status."""
    return {**query_answer(task).model_dump(exclude_none=True), "status": event}
