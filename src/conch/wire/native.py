"""conch's own API, which no provider has: the task list and a task's callback deliveries.

Real HTTP statuses; errors as ``{"error": {"code": <canonical code>, "message": ...}}``.
Tasks are listed newest first and paged by cursor: ``after`` is the last task id of the page
before, ``next_after`` the one to send for the next page.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

TASKS_PATH = "/v1/tasks"
CANCEL_PATH = "/v1/tasks/{task_id}/cancel"
"""Cancel a task: for the dialects that have no cancel call of their own, on a conch."""
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


class ErrorDetail(BaseModel):
    code: str = Field(description="conch's canonical error code, or invalid_link")
    message: str


class ErrorAnswer(BaseModel):
    """Every refusal of conch's own routes."""

    error: ErrorDetail


class TaskError(BaseModel):
    """Why a task failed."""

    code: str = Field(
        description="conch's canonical error code, e.g. invalid_params; cancelled when cancelled"
    )
    message: str


class TaskView(BaseModel):
    """A task as conch's own API shows it, whichever dialect submitted it."""

    task_id: str
    status: str = Field(description="queued | preparing | processing | success | fail | cancelled")
    model: str
    mode: str = Field(
        description="text-to-video | image-to-video | first-last-frame | subject-reference"
    )
    duration: int = Field(description="Seconds of video")
    resolution: str = Field(description="512P | 720P | 768P | 1080P")
    prompt: str
    progress: int = Field(description="Percent done, 0-100")
    created_at: int = Field(description="Unix seconds")
    finished_at: int | None = Field(description="Unix seconds; null while it runs")
    file_id: str | None = Field(description="The video's file id once it succeeded")
    dialect: str = Field(description="The dialect it was submitted in")
    error: TaskError | None
    # Added later: defaults keep the SDK reading servers that predate them.
    queue_position: int | None = Field(
        None, description="Place in the queue while queued (1: runs next, whoever's); else null"
    )
    aigc_watermark: bool = Field(False, description="Whether the video carries the AIGC mark")
    has_audio: bool = Field(False, description="Whether the video carries a sound track")


class TaskPage(BaseModel):
    """One page of the caller's tasks, newest first."""

    tasks: list[TaskView]
    has_more: bool
    next_after: str | None = Field(description="Send as `after` for the next page")


class AttemptView(BaseModel):
    number: int
    started_at: float = Field(description="Unix seconds")
    duration: float = Field(description="Seconds the attempt took")
    http_status: int | None = Field(description="The receiver's answer; null when there was none")
    error: str | None = Field(description="Why there was no answer")


class DeliveryView(BaseModel):
    webhook_id: str = Field(description="The push's id: its webhook-id header when signed")
    event: str = Field(description="processing | success | failed")
    url: str
    state: str = Field(description="pending | delivered | gone | stopped | expired")
    outcome: str | None = Field(description="The last attempt or decision, in words")
    created_at: float = Field(description="When the status changed (unix seconds)")
    next_attempt_at: float | None = Field(description="While pending: when it is tried next")
    finished_at: float | None
    attempts: list[AttemptView]


class DeliveriesAnswer(BaseModel):
    task_id: str
    callback_url: str | None
    deliveries: list[DeliveryView]
