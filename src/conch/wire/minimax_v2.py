"""MiniMax's v2 video API (MiniMax-H3), as LiteLLM's MiniMax client and other public clients
write it (``more-dialects.md``, ``docs/dialects.md``).

Wire facts kept exactly: a create carries ``content[]`` items (``{"type": "text", "text"}``,
``{"type": "image_url", "image_url": {"url"}, "role": "first_frame" | "last_frame" |
"reference_image"}``, video and audio items) with ``resolution``, ``duration``, ``ratio``,
``callback_url`` and ``aigc_watermark``, and is answered ``{"task_id"}``; the query answers
``{"task": {...}}`` with ``status`` ``queued | running | succeeded | failed | cancelled``
and the video at ``content.url``; the list pages by ``page_num`` and ``page_size``; DELETE
cancels and answers ``{"task_id", "status"}``.

Where the sources are silent, conch decides (``docs/dialects.md``): every answer also
carries MiniMax's ``base_resp``, and errors come on real HTTP statuses (as LiteLLM reads
them) with ``base_resp`` holding MiniMax's code and the message.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from conch.domain.catalog import ADAPTIVE
from conch.domain.errors import ConchError, ErrorCode, InvalidParams
from conch.domain.request import GenerationRequest, ImageRole
from conch.domain.task import Task, TaskStatus
from conch.wire.fields import Seconds, given
from conch.wire.minimax import STATUS_CODES, BaseResp
from conch.wire.spelling import FieldNames, failure, wire_message

DIALECT = "minimax-v2"
CREATE_PATH = "/v2/video_generation"
TASK_PATH = "/v2/video_generation/{task_id}"
QUERY_PATH = "/v2/query/video_generation/{task_id}"
LIST_PATH = "/v2/query/video_generation"

DEFAULT_MODEL = "MiniMax-H3"
DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 50
MAX_OFFSET = 2**53

STATUS_NAMES: dict[TaskStatus, str] = {
    TaskStatus.QUEUED: "queued",
    TaskStatus.PREPARING: "running",
    TaskStatus.PROCESSING: "running",
    TaskStatus.SUCCESS: "succeeded",
    TaskStatus.FAIL: "failed",
    TaskStatus.CANCELLED: "cancelled",
}

FRAME_ROLES: dict[str, ImageRole] = {
    "first_frame": ImageRole.FIRST_FRAME,
    "last_frame": ImageRole.LAST_FRAME,
    "reference_image": ImageRole.SUBJECT,
}
"""An image item's role -> the part it plays."""

FIELD_NAMES: FieldNames = {
    "prompt": "content[type=text].text",
    ImageRole.FIRST_FRAME.value: "content[role=first_frame]",
    ImageRole.LAST_FRAME.value: "content[role=last_frame]",
    ImageRole.SUBJECT.value: "content[role=reference_image]",
}
"""Canonical field -> how v2 callers name it."""

NO_SOUND_IN = (
    "audio inputs are not accepted: no engine here takes sound in (it makes video from "
    "text and pictures)"
)
NO_VIDEO_IN = "video inputs are not accepted: no engine here takes a video in"


# -- requests -------------------------------------------------------------------------------


class MediaUrl(BaseModel):
    url: str = Field(description="An http(s) URL or a data URL")


class ContentItem(BaseModel):
    """One ``content[]`` item."""

    model_config = ConfigDict(extra="ignore")

    type: str = Field(description="text | image_url (video_url and audio_url are refused)")
    text: str | None = None
    image_url: MediaUrl | None = None
    video_url: MediaUrl | None = None
    audio_url: MediaUrl | None = None
    role: str | None = Field(None, description="first_frame | last_frame | reference_image")


class CreateBody(BaseModel):
    """``POST /v2/video_generation``."""

    model_config = ConfigDict(extra="ignore")

    model: str = Field(DEFAULT_MODEL, description="MiniMax-H3")
    content: list[ContentItem] = Field(
        min_length=1, description="A text item and image items with roles"
    )
    resolution: str | None = Field(None, description="768P (default) or 2K")
    duration: Seconds | None = Field(None, description="5 to 15 seconds; 5 by default")
    ratio: str | None = Field(None, description="21:9, 16:9, 4:3, 1:1, 3:4, 9:16; adaptive")
    callback_url: str | None = None
    aigc_watermark: bool | None = None
    generate_audio: bool | None = Field(None, description="Ask for sound (refused if silent)")

    def to_request(self) -> GenerationRequest:
        prompt, images = read_content(self.content)
        return GenerationRequest(
            **given(
                model=self.model,
                prompt=prompt,
                first_frame_image=images.get(ImageRole.FIRST_FRAME),
                last_frame_image=images.get(ImageRole.LAST_FRAME),
                subject_image=images.get(ImageRole.SUBJECT),
                duration=self.duration,
                resolution=self.resolution,
                ratio=self.ratio,
                callback_url=self.callback_url,
                aigc_watermark=self.aigc_watermark,
                generate_audio=self.generate_audio,
            )
        )


def read_content(items: list[ContentItem]) -> tuple[str, dict[ImageRole, str]]:
    """The prompt and the images (by the part each plays) of a ``content[]`` list."""
    texts: list[str] = []
    images: dict[ImageRole, str] = {}
    lone = sum(item.type == "image_url" for item in items) == 1
    for index, item in enumerate(items):
        if item.type == "text":
            texts.append(item.text or "")
        elif item.type == "image_url":
            role, url = _image(item, index, lone=lone)
            if role in images:
                raise InvalidParams(
                    f"content holds more than one image with role {item.role or 'first_frame'}"
                    "; give each role once",
                    field="content",
                )
            images[role] = url
        else:
            raise InvalidParams(_refused_item(item.type, index), field="content")
    if len(texts) > 1:
        raise InvalidParams(
            f"content holds {len(texts)} text items; put the whole prompt in one", field="content"
        )
    return (texts[0] if texts else ""), images


def _image(item: ContentItem, index: int, *, lone: bool) -> tuple[ImageRole, str]:
    if item.image_url is None or not item.image_url.url:
        raise InvalidParams(
            f'content[{index}]: an image_url item needs "image_url": {{"url"}}', field="content"
        )
    if item.role is None and lone:
        return ImageRole.FIRST_FRAME, item.image_url.url  # one image: the first frame
    role = FRAME_ROLES.get(item.role or "")
    if role is None:
        allowed = ", ".join(FRAME_ROLES)
        raise InvalidParams(
            f"content[{index}].role must be one of {allowed}, got {item.role!r}", field="content"
        )
    return role, item.image_url.url


def _refused_item(kind: str, index: int) -> str:
    if kind == "audio_url":
        return f"content[{index}]: {NO_SOUND_IN}"
    if kind == "video_url":
        return f"content[{index}]: {NO_VIDEO_IN}"
    return f"content[{index}].type must be text or image_url, got {kind!r}"


# -- answers --------------------------------------------------------------------------------


class CreateAnswer(BaseModel):
    task_id: str
    base_resp: BaseResp


class TaskError(BaseModel):
    code: str = Field(description="MiniMax's status code, as a string")
    message: str


class TaskContent(BaseModel):
    url: str = Field(description="A fresh signed link to the video")


class Usage(BaseModel):
    output_seconds: int = Field(description="Seconds of video made (0 until it succeeded)")
    input_image_count: int


class TaskObject(BaseModel):
    id: str
    model: str
    status: str = Field(description="queued | running | succeeded | failed | cancelled")
    error: TaskError | None
    created_at: int = Field(description="Unix seconds")
    updated_at: int = Field(description="Unix seconds")
    content: TaskContent | None = Field(description="The video, once it succeeded")
    resolution: str
    duration: int
    ratio: str
    usage: Usage
    task_type: Literal["generation"] = "generation"
    modality: Literal["video"] = "video"


class QueryAnswer(BaseModel):
    task: TaskObject
    base_resp: BaseResp


class ListAnswer(BaseModel):
    items: list[TaskObject] = Field(description="Newest first")
    total: int
    base_resp: BaseResp


class CancelAnswer(BaseModel):
    task_id: str
    status: str = Field(description="cancelled")
    base_resp: BaseResp


class ErrorAnswer(BaseModel):
    base_resp: BaseResp


def error_answer(error: ConchError, http_statuses: dict[ErrorCode, int]) -> tuple[int, ErrorAnswer]:
    """The HTTP status and body of ``error``: MiniMax's code and message in ``base_resp``."""
    message = wire_message(error, FIELD_NAMES)
    base = BaseResp(status_code=STATUS_CODES[error.code], status_msg=message)
    return http_statuses[error.code], ErrorAnswer(base_resp=base)


def task_object(task: Task, urls: list[str]) -> TaskObject:
    """A task as v2's query (and list) answers it; ``urls``: fresh links to its video."""
    spec = task.spec
    succeeded = task.status is TaskStatus.SUCCESS
    return TaskObject(
        id=task.task_id,
        model=task.model,
        status=STATUS_NAMES[task.status],
        error=_error(task),
        created_at=int(task.created_at),
        updated_at=int(task.updated_at),
        content=TaskContent(url=urls[0]) if succeeded and urls else None,
        resolution=spec.resolution.value,
        duration=spec.duration,
        ratio=spec.ratio or (ADAPTIVE if task.inputs else "16:9"),
        usage=Usage(
            output_seconds=spec.duration if succeeded else 0, input_image_count=len(task.inputs)
        ),
    )


def _error(task: Task) -> TaskError | None:
    if task.status is not TaskStatus.FAIL:
        return None  # a cancelled task says so in its status
    code = ErrorCode(task.error_code) if task.error_code in set(ErrorCode) else ErrorCode.INTERNAL
    return TaskError(code=str(STATUS_CODES[code]), message=failure(task, FIELD_NAMES))
