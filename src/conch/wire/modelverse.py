"""Modelverse's video API (``api-notes.md`` §3, ``modelverse-hailuo-2.3-i2v.md``).

Wire facts kept exactly: ``Authorization: <key>`` with or without ``Bearer``; a request nests
its fields under ``input`` and ``parameters``; statuses are ``Pending | Running | Success |
Failure``; times are unix seconds and ``urls`` is a list; errors travel on real HTTP codes as
``{"error": {"message", "type", "param", "code"}}`` with ``param`` the field as sent. Every
answer carries ``request_id`` (the request's trace id).
"""

from __future__ import annotations

from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from conch.domain.errors import ConchError, ErrorCode
from conch.domain.request import GenerationRequest, ImageRole
from conch.domain.task import Task, TaskStatus
from conch.wire.fields import Seconds, given
from conch.wire.spelling import FieldNames, failure, wire_field, wire_message

DIALECT = "modelverse"
SUBMIT_PATH = "/v1/tasks/submit"
STATUS_PATH = "/v1/tasks/status"


class WireError(NamedTuple):
    """How Modelverse answers one canonical error."""

    http_status: int
    type: str
    code: str


ERRORS: dict[ErrorCode, WireError] = {
    ErrorCode.INVALID_PARAMS: WireError(400, "invalid_request_error", "param_error"),
    ErrorCode.MALFORMED_REQUEST: WireError(400, "invalid_request_error", "invalid_json"),
    # Not in Modelverse's published table: an unknown task is what a REST caller calls 404.
    ErrorCode.NOT_FOUND: WireError(404, "invalid_request_error", "not_found"),
    ErrorCode.UNAUTHORIZED: WireError(401, "auth_error", "missing_api_key"),
    ErrorCode.INVALID_API_KEY: WireError(401, "auth_error", "invalid_api_key"),
    ErrorCode.RATE_LIMITED: WireError(429, "rate_limit_error", "rate_limit_exceeded"),
    ErrorCode.INSUFFICIENT_BALANCE: WireError(403, "permission_error", "quota_exceeded"),
    ErrorCode.SENSITIVE_CONTENT: WireError(400, "sensitive_check_error", "sensitive_content"),
    ErrorCode.INTERNAL: WireError(500, "internal_error", "internal_error"),
}
"""Canonical error -> HTTP status, ``error.type``, ``error.code``."""

STATUS_NAMES: dict[TaskStatus, str] = {
    TaskStatus.QUEUED: "Pending",
    TaskStatus.PREPARING: "Running",
    TaskStatus.PROCESSING: "Running",
    TaskStatus.SUCCESS: "Success",
    TaskStatus.FAIL: "Failure",
    TaskStatus.CANCELLED: "Failure",
}

FIELD_NAMES: FieldNames = {
    "prompt": "input.prompt",
    ImageRole.FIRST_FRAME.value: "input.first_frame_image",
    ImageRole.LAST_FRAME.value: "input.last_frame_image",
    "duration": "parameters.duration",
    "resolution": "parameters.resolution",
    "prompt_optimizer": "parameters.prompt_optimizer",
    "fast_pretreatment": "parameters.fast_pretreatment",
    "aigc_watermark": "parameters.aigc_watermark",
}
"""Canonical field -> Modelverse's dotted name (``param`` in errors)."""


# -- requests -------------------------------------------------------------------------------


class SubmitInput(BaseModel):
    model_config = ConfigDict(extra="ignore")

    prompt: str = Field(description="At most 2000 characters; camera commands in [...]")
    first_frame_image: str | None = Field(default=None, description="A public URL or a data URL")
    last_frame_image: str | None = Field(
        default=None, description="MiniMax-Hailuo-02: the last frame"
    )


class SubmitParameters(BaseModel):
    model_config = ConfigDict(extra="ignore")

    duration: Seconds | None = Field(default=None, description="Seconds; 6 by default")
    resolution: str | None = Field(default=None, description="768P or 1080P (512P on Hailuo-02)")
    prompt_optimizer: bool | None = Field(default=None, description="true by default")
    fast_pretreatment: bool | None = Field(default=None, description="false by default")
    aigc_watermark: bool | None = Field(default=None, description="false by default")


class ModelverseSubmitBody(BaseModel):
    """``POST /v1/tasks/submit``."""

    model_config = ConfigDict(extra="ignore")

    model: str = Field(description="MiniMax-Hailuo-2.3, MiniMax-Hailuo-2.3-Fast, MiniMax-Hailuo-02")
    input: SubmitInput
    parameters: SubmitParameters | None = None

    def to_request(self) -> GenerationRequest:
        parameters = self.parameters or SubmitParameters()
        return GenerationRequest(
            **given(
                model=self.model,
                prompt=self.input.prompt,
                first_frame_image=self.input.first_frame_image,
                last_frame_image=self.input.last_frame_image,
                prompt_optimizer=parameters.prompt_optimizer,
                fast_pretreatment=parameters.fast_pretreatment,
                duration=parameters.duration,
                resolution=parameters.resolution,
                aigc_watermark=parameters.aigc_watermark,
            )
        )


# -- answers --------------------------------------------------------------------------------


class SubmitOutput(BaseModel):
    task_id: str


class ModelverseSubmitAnswer(BaseModel):
    output: SubmitOutput
    request_id: str


class StatusOutput(BaseModel):
    task_id: str
    task_status: str = Field(description="Pending | Running | Success | Failure")
    urls: list[str] = Field(description="Fresh signed links to the video on Success, else []")
    submit_time: int = Field(description="Unix seconds")
    finish_time: int = Field(description="Unix seconds; 0 until the task ends")
    error_message: str = Field(description='Why the task failed, else ""')


class Usage(BaseModel):
    duration: int = Field(description="The video's length in seconds")


class StatusAnswer(BaseModel):
    output: StatusOutput
    usage: Usage
    request_id: str


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None
    code: str


class ErrorAnswer(BaseModel):
    error: ErrorDetail
    request_id: str


def error_answer(error: ConchError, request_id: str) -> tuple[int, ErrorAnswer]:
    """The HTTP status and body of ``error``, fields named as Modelverse callers send them."""
    wire = ERRORS[error.code]
    detail = ErrorDetail(
        message=wire_message(error, FIELD_NAMES),
        type=wire.type,
        param=wire_field(error, FIELD_NAMES),
        code=wire.code,
    )
    return wire.http_status, ErrorAnswer(error=detail, request_id=request_id)


def status_answer(task: Task, urls: list[str], request_id: str) -> StatusAnswer:
    """A task as Modelverse's status call answers it.

    Every field is present on every answer with a stable type (``finish_time`` 0 until the
    end, ``urls`` and ``error_message`` empty) because typed clients declare them so.
    """
    output = StatusOutput(
        task_id=task.task_id,
        task_status=STATUS_NAMES[task.status],
        urls=urls,
        submit_time=int(task.created_at),
        finish_time=int(task.finished_at or 0) if task.status.is_terminal else 0,
        error_message=failure(task, FIELD_NAMES),
    )
    usage = Usage(duration=task.spec.duration)
    return StatusAnswer(output=output, usage=usage, request_id=request_id)
