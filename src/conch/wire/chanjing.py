"""Chanjing's video API (``api-notes.md`` §4, ``chanjing-hailuo-02-submit.md``).

Wire facts kept exactly: an app trades ``app_id`` + ``secret_key`` for an ``access_token``
(``expire_in`` is a unix timestamp) and sends it in the ``access_token`` header; every answer
is ``{"trace_id", "code", "msg", "data"}``; ``clarity`` 720 is Hailuo's 768P tier; task
objects report ``progress_desc`` ``Queued | Ready | Generating | Success | Error`` and
``output_url`` as a list.

HTTP status: every Chanjing answer, errors included, is HTTP 200 and the outcome is ``code``.
Chanjing's page documents outcomes only as ``code`` values in the body, so its clients read
``code``; a 4xx or 5xx would make the common ``raise_for_status()`` clients lose ``msg``.
"""

from __future__ import annotations

import math
import re
from enum import IntEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from conch.domain.catalog import Resolution
from conch.domain.errors import ConchError, ErrorCode, InvalidParams
from conch.domain.request import GenerationRequest, ImageRole
from conch.domain.task import Task, TaskStatus
from conch.wire.fields import Seconds
from conch.wire.spelling import FieldNames, failure, wire_message

DIALECT = "chanjing"
TOKEN_PATH = "/open/v1/access_token"
SUBMIT_PATH = "/open/v1/ai_creation/task/submit"
TASK_PATH = "/open/v1/ai_creation/task"
PAGE_PATH = "/open/v1/ai_creation/task/page"
TOKEN_FIELD = "access_token"
APP_ID_FIELD = "app_id"
SECRET_FIELD = "secret_key"
"""The credential fields: the token call's body and answer, and the header calls send."""

VIDEO = 4
"""``creation_type`` (submit) and ``type`` (task objects, page filter) of a video creation."""

MODEL_CODES = ("MiniMax-Hailuo-02", "MiniMax-Hailuo-2.3", "MiniMax-Hailuo-2.3-Fast")
"""The model codes this dialect speaks: Hailuo models whose tiers ``clarity`` can name."""

MAX_PAGE_SIZE = 50
MAX_UNIQUE_IDS = 50
DEFAULT_PAGE_SIZE = 10
MAX_OFFSET = 2**53
"""More tasks than any page could skip (SQLite's OFFSET is a signed 64-bit number)."""
SUCCESS_MSG = "success"
NO_SUCH_MODEL = "模型不存在"


class Code(IntEnum):
    """Chanjing's ``code`` values."""

    OK = 0
    BAD_FORMAT = 400
    TOKEN_INVALID = 10400
    BAD_PARAMS = 40000
    QPS_LIMIT = 40001
    INTERNAL = 50000


CODES: dict[ErrorCode, Code] = {
    ErrorCode.INVALID_PARAMS: Code.BAD_PARAMS,
    ErrorCode.MALFORMED_REQUEST: Code.BAD_FORMAT,
    ErrorCode.NOT_FOUND: Code.BAD_PARAMS,
    ErrorCode.UNAUTHORIZED: Code.TOKEN_INVALID,
    ErrorCode.INVALID_API_KEY: Code.TOKEN_INVALID,
    ErrorCode.RATE_LIMITED: Code.QPS_LIMIT,
    ErrorCode.INSUFFICIENT_BALANCE: Code.BAD_PARAMS,
    ErrorCode.SENSITIVE_CONTENT: Code.BAD_PARAMS,
    ErrorCode.INTERNAL: Code.INTERNAL,
}
"""Canonical error -> Chanjing ``code``."""

PROGRESS_DESC: dict[TaskStatus, str] = {
    TaskStatus.QUEUED: "Queued",
    TaskStatus.PREPARING: "Ready",
    TaskStatus.PROCESSING: "Generating",
    TaskStatus.SUCCESS: "Success",
    TaskStatus.FAIL: "Error",
    TaskStatus.CANCELLED: "Error",
}

CLARITY_TIERS: dict[int, Resolution] = {720: Resolution.R768, 1080: Resolution.R1080}
"""``clarity`` -> Hailuo's tier (Chanjing names the 768P tier 720)."""

FRAME_FIELDS: FieldNames = {
    ImageRole.FIRST_FRAME.value: "start_frame",
    ImageRole.LAST_FRAME.value: "end_frame",
}
LIST_FIELDS: FieldNames = {
    ImageRole.FIRST_FRAME.value: "ref_img_url[0]",
    ImageRole.LAST_FRAME.value: "ref_img_url[1]",
}
FIELD_NAMES: FieldNames = {
    "model": "model_code",
    "prompt": "ref_prompt",
    "duration": "video_duration",
    "resolution": "clarity",
    "callback_url": "callback",
    "task_id": "unique_id",
    **FRAME_FIELDS,
}
"""Canonical field -> Chanjing's name (the images as ``start_frame`` / ``end_frame``)."""


def error_message(error: ConchError, names: FieldNames = FIELD_NAMES) -> str:
    """The error's message with fields as the caller spelt them and tiers as ``clarity``."""
    message = wire_message(error, names)
    if error.field in ("duration", "resolution"):
        message = clarity_spelling(message)
    return message


def clarity_spelling(message: str) -> str:
    """Tiers as Chanjing callers name them: 768P is ``clarity 720`` (words, not URLs)."""
    for clarity, tier in CLARITY_TIERS.items():
        standalone = re.compile(rf"(?<![\w/.-]){tier.value}(?![\w/-])")
        message = standalone.sub(f"clarity {clarity} ({tier.value})", message)
    return message


class Envelope(BaseModel):
    trace_id: str
    code: int = Field(description="0 on success; else 400, 10400, 40000, 40001 or 50000")
    msg: str


# -- requests and answers -------------------------------------------------------------------


class TokenBody(BaseModel):
    """``POST /open/v1/access_token``."""

    app_id: str
    secret_key: str


class ChanjingSubmitBody(BaseModel):
    """``POST /open/v1/ai_creation/task/submit`` for Hailuo models."""

    model_config = ConfigDict(extra="ignore")

    start_frame: str | None = Field(
        default=None, description="The first frame: a URL or a data URL"
    )
    end_frame: str | None = Field(default=None, description="The last frame")
    ref_img_url: list[str] | str | None = Field(
        default=None, description="[first frame, last frame], instead of start_frame / end_frame"
    )
    ref_prompt: str = Field(description="The prompt; camera commands in [...]")
    creation_type: int = Field(default=VIDEO, description="4: video generation")
    clarity: int = Field(default=720, description="720 (Hailuo's 768P) or 1080")
    video_duration: Seconds = Field(description="Seconds: 6 or 10 (6 only at clarity 1080)")
    model_code: str = Field(description="MiniMax-Hailuo-02 (case-sensitive)")
    callback: str | None = Field(default=None, description="A URL told of every status change")
    aspect_ratio: Any = Field(default=None, description="Accepted and ignored by Hailuo models")
    quality_mode: Any = Field(default=None, description="Accepted and ignored by Hailuo models")

    def field_names(self) -> FieldNames:
        """How this caller spells each field (the images depend on the form it used)."""
        return {**FIELD_NAMES, **(LIST_FIELDS if self._image_list() else FRAME_FIELDS)}

    def to_request(self) -> GenerationRequest:
        if self.creation_type != VIDEO:
            raise InvalidParams(
                f"must be {VIDEO} (video generation), got {self.creation_type}",
                field="creation_type",
            )
        if self.model_code not in MODEL_CODES:
            raise InvalidParams(
                f"{NO_SUCH_MODEL}: no model {self.model_code!r}; model codes are "
                f"case-sensitive: {', '.join(MODEL_CODES)}",
                field="model",
            )
        first, last = self._frames()
        return GenerationRequest(
            model=self.model_code,
            prompt=self.ref_prompt,
            first_frame_image=first,
            last_frame_image=last,
            duration=self.video_duration,
            resolution=self._tier().value,
            callback_url=self.callback,
        )

    def _tier(self) -> Resolution:
        try:
            return CLARITY_TIERS[self.clarity]
        except KeyError:
            allowed = " or ".join(f"{c} ({tier.value})" for c, tier in CLARITY_TIERS.items())
            raise InvalidParams(f"must be {allowed}, got {self.clarity}", field="clarity") from None

    def _image_list(self) -> list[str]:
        given = self.ref_img_url
        images = [given] if isinstance(given, str) else list(given or [])
        return [image for image in images if image]

    def _frames(self) -> tuple[str | None, str | None]:
        images = self._image_list()
        if not images:
            return self.start_frame, self.end_frame
        if self.start_frame or self.end_frame:
            raise InvalidParams(
                "give the frames either as start_frame / end_frame or as ref_img_url, not both",
                field="ref_img_url",
            )
        if len(images) > 2:
            raise InvalidParams(
                f"takes at most 2 images (first frame, last frame), got {len(images)}",
                field="ref_img_url",
            )
        return images[0], (images[1] if len(images) == 2 else None)


class PageBody(BaseModel):
    """``POST /open/v1/ai_creation/task/page``."""

    model_config = ConfigDict(extra="ignore")

    unique_ids: list[str] | None = Field(default=None, description=f"At most {MAX_UNIQUE_IDS}")
    type: int | None = Field(default=None, description="4: video creations (the only kind here)")
    page: int = Field(default=1, description="From 1")
    page_size: int = Field(default=DEFAULT_PAGE_SIZE, description=f"1 to {MAX_PAGE_SIZE}")
    is_success: bool | None = Field(default=None, description="true: only successful creations")

    @property
    def offset(self) -> int:
        """How many tasks come before this page: clamped, as a database counts in 64 bits
        (a page past the last is simply empty)."""
        return min((self.page - 1) * self.page_size, MAX_OFFSET)

    def check(self) -> None:
        if self.page < 1:
            raise InvalidParams(f"must be 1 or more, got {self.page}", field="page")
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise InvalidParams(
                f"must be from 1 to {MAX_PAGE_SIZE}, got {self.page_size}", field="page_size"
            )
        if self.unique_ids is not None and len(self.unique_ids) > MAX_UNIQUE_IDS:
            raise InvalidParams(
                f"takes at most {MAX_UNIQUE_IDS} ids, got {len(self.unique_ids)}",
                field="unique_ids",
            )


class AccessTokenData(BaseModel):
    access_token: str
    expire_in: int = Field(description="When the token expires: a unix timestamp")


class AccessTokenAnswer(Envelope):
    data: AccessTokenData


class ChanjingSubmitAnswer(Envelope):
    data: str = Field(description="The task's unique_id")


class MotionInfo(BaseModel):
    photo_path_url: str = Field(description="The first frame as given")
    ref_prompt: str
    clarity: int | None
    quality_mode: str
    style: str
    aspect_ratio: str
    video_duration: int | None


class TaskObject(BaseModel):
    id: int
    unique_id: str
    create_time: int = Field(description="Unix seconds")
    type: int = Field(description="4: video")
    progress_desc: str = Field(description="Queued | Ready | Generating | Success | Error")
    progress: int = Field(description="Percent done (denoising steps, or frames rendered)")
    err_msg: str = Field(description='Why the task failed, else ""')
    output_url: list[str] = Field(description="Fresh signed links to the video on Success")
    motion_info: MotionInfo
    ref_img_url: list[str]
    model_code: str
    model_name: str


class TaskAnswer(Envelope):
    data: TaskObject


class PageInfo(BaseModel):
    page: int
    size: int
    total_count: int
    total_page: int


class Page(BaseModel):
    # "list" on the wire; a field named list would shadow the builtin in this class
    tasks: list[TaskObject] = Field(alias="list", description="Newest first")
    total: int
    page_info: PageInfo


class PageAnswer(Envelope):
    data: Page


class ErrorAnswer(Envelope):
    data: None = None


# -- translation ----------------------------------------------------------------------------


def answered(trace_id: str) -> dict[str, Any]:
    """The envelope fields of a successful answer."""
    return {"trace_id": trace_id, "code": int(Code.OK), "msg": SUCCESS_MSG}


def error_answer(error: ConchError, trace_id: str, names: FieldNames = FIELD_NAMES) -> ErrorAnswer:
    """``error`` in Chanjing's envelope, fields named as the caller spelt them."""
    return ErrorAnswer(
        trace_id=trace_id, code=int(CODES[error.code]), msg=error_message(error, names)
    )


def task_object(task: Task, urls: list[str]) -> TaskObject:
    """A task as Chanjing's query calls answer it (and its callback pushes)."""
    spec = task.spec
    frames = (ImageRole.FIRST_FRAME, ImageRole.LAST_FRAME)
    images = [spec.image_sources[role] for role in frames if role in spec.image_sources]
    motion = MotionInfo(
        photo_path_url=images[0] if images else "",
        ref_prompt=spec.prompt,
        clarity=_clarity(spec.resolution),
        quality_mode="",
        style="",
        aspect_ratio="",
        video_duration=spec.duration,
    )
    return TaskObject(
        id=task.id,
        unique_id=task.uuid,
        create_time=int(task.created_at),
        type=VIDEO,
        progress_desc=PROGRESS_DESC[task.status],
        # Chanjing's other task objects report progress in percent; Hailuo's page has room.
        progress=round(task.progress * 100),
        err_msg=failure(task, FIELD_NAMES),
        output_url=urls,
        motion_info=motion,
        ref_img_url=images,
        model_code=task.model,
        model_name=task.model.replace("-", " "),
    )


def page(objects: list[TaskObject], total: int, body: PageBody) -> Page:
    """One page of task objects, as the page call answers it."""
    info = PageInfo(
        page=body.page,
        size=body.page_size,
        total_count=total,
        total_page=math.ceil(total / body.page_size),
    )
    return Page.model_validate({"list": objects, "total": total, "page_info": info})


def _clarity(tier: Resolution) -> int:
    """A tier as ``clarity``; tiers outside Chanjing's two (from other dialects) by height."""
    for clarity, known in CLARITY_TIERS.items():
        if known is tier:
            return clarity
    return tier.short_side
