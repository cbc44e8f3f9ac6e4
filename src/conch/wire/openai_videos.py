"""OpenAI's videos API (``/v1/videos``), as the official ``openai`` package drives it
(``more-dialects.md``, ``docs/dialects.md``).

Wire facts kept exactly: a create is multipart/form-data (the SDK always sends it so, nested
fields flattened as ``metadata[first_frame_image]``) or JSON; ``input_reference`` is an
uploaded file, an image URL or data URL, or ``{"image_url": ...}``; the video object's
``status`` is exactly ``queued | in_progress | completed | failed`` (the SDK's poll loop
stops on any other word, so a cancelled task is ``failed`` with ``error.code`` "cancelled");
``seconds`` is a string and ``size`` ``WIDTHxHEIGHT``; lists page by cursor (``after`` the
last id, ``has_more``); errors are ``{"error": {"message", "type", "param", "code"}}`` on
real HTTP statuses. MiniMax's own fields ride along top-level (the SDK's ``extra_body``) or
inside ``metadata`` (new-api's convention), so first+last frame works here too.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from conch.domain.catalog import CATALOG, Mode, ratio_aspect, video_size
from conch.domain.errors import ConchError, ErrorCode, InvalidParams
from conch.domain.request import GenerationRequest, ImageRole
from conch.domain.task import CANCELLED_REASON, Task, TaskStatus
from conch.wire.fields import given
from conch.wire.spelling import FieldNames, failure, wire_field, wire_message

DIALECT = "openai-videos"
VIDEOS_PATH = "/v1/videos"
VIDEO_PATH = "/v1/videos/{video_id}"
CONTENT_PATH = "/v1/videos/{video_id}/content"
REMIX_PATH = "/v1/videos/{video_id}/remix"

DEFAULT_MODEL = "MiniMax-Hailuo-02"
"""The model of a create that names none (OpenAI's own default, sora-2, is not served)."""
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
RATIO_TOLERANCE = 0.02
"""How far a ``size``'s shape may be from a ratio and still be read as it (1366x768: 16:9)."""


class WireError(NamedTuple):
    """How /v1/videos answers one canonical error."""

    http_status: int
    type: str
    code: str


ERRORS: dict[ErrorCode, WireError] = {
    ErrorCode.INVALID_PARAMS: WireError(400, "invalid_request_error", "invalid_value"),
    ErrorCode.MALFORMED_REQUEST: WireError(400, "invalid_request_error", "invalid_body"),
    ErrorCode.NOT_FOUND: WireError(404, "invalid_request_error", "not_found"),
    ErrorCode.UNAUTHORIZED: WireError(401, "invalid_request_error", "missing_api_key"),
    ErrorCode.INVALID_API_KEY: WireError(401, "invalid_request_error", "invalid_api_key"),
    ErrorCode.RATE_LIMITED: WireError(429, "rate_limit_error", "rate_limit_exceeded"),
    ErrorCode.INSUFFICIENT_BALANCE: WireError(429, "insufficient_quota", "insufficient_quota"),
    ErrorCode.SENSITIVE_CONTENT: WireError(400, "invalid_request_error", "moderation_blocked"),
    ErrorCode.INTERNAL: WireError(500, "server_error", "internal_error"),
}
"""Canonical error -> HTTP status, ``error.type``, ``error.code`` (OpenAI's own words)."""

STATUS_NAMES: dict[TaskStatus, str] = {
    TaskStatus.QUEUED: "queued",
    TaskStatus.PREPARING: "in_progress",
    TaskStatus.PROCESSING: "in_progress",
    TaskStatus.SUCCESS: "completed",
    TaskStatus.FAIL: "failed",
    TaskStatus.CANCELLED: "failed",
}
"""Canonical status -> the four words the SDK's poll loop knows."""


class Variant(StrEnum):
    """What ``/content`` serves."""

    VIDEO = "video"
    THUMBNAIL = "thumbnail"
    SPRITESHEET = "spritesheet"


FIELD_NAMES: FieldNames = {"duration": "seconds", "resolution": "size"}
"""Canonical field -> this dialect's name, for a caller that sent OpenAI's fields."""

_SIZE = re.compile(r"\s*(\d{1,5})\s*[xX×]\s*(\d{1,5})\s*")


# -- requests -------------------------------------------------------------------------------


class ImageReference(BaseModel):
    """``input_reference`` as an object (the SDK's ``ImageInputReferenceParam``)."""

    model_config = ConfigDict(extra="ignore")

    image_url: str | None = Field(None, description="An http(s) URL or a data URL")
    file_id: str | None = Field(None, description="Not served: upload the image instead")


class MiniMaxFields(BaseModel):
    """MiniMax's request fields, accepted top-level (``extra_body``) and in ``metadata``."""

    model_config = ConfigDict(extra="ignore")

    first_frame_image: str | None = None
    last_frame_image: str | None = None
    subject_reference: str | list[dict[str, Any]] | None = Field(
        None, description='One image URL, or [{"type": "character", "image": [URL]}]'
    )
    callback_url: str | None = None
    aigc_watermark: bool | None = None
    prompt_optimizer: bool | None = None
    fast_pretreatment: bool | None = None
    resolution: str | None = Field(None, description="A tier: 512P, 720P, 768P, 1080P or 2K")
    ratio: str | None = Field(None, description="MiniMax-H3: 16:9, 9:16, 1:1, ...; adaptive")
    generate_audio: bool | None = Field(None, description="Ask for sound (refused if silent)")


class VideoCreateBody(MiniMaxFields):
    """``POST /v1/videos``, JSON or multipart (an uploaded ``input_reference`` is passed as
    a data URL by the route)."""

    model: str = Field(DEFAULT_MODEL, description="A conch model, e.g. MiniMax-Hailuo-02")
    prompt: str = Field("", description="At most 2000 characters")
    input_reference: str | ImageReference | None = Field(
        None, description="The first frame: an upload, an image URL or data URL, {image_url}"
    )
    seconds: str | int | None = Field(None, description='Seconds, as a string: "6"')
    size: str | None = Field(None, description="WIDTHxHEIGHT: picks the tier (1366x768: 768P)")
    metadata: MiniMaxFields | None = Field(None, description="MiniMax's fields (new-api)")

    def field_names(self) -> FieldNames:
        """How this caller spelt each field."""
        names = dict(FIELD_NAMES)
        if self.input_reference is not None:
            names[ImageRole.FIRST_FRAME.value] = "input_reference"
        if self.metadata is not None:
            for name in self.metadata.model_fields_set:
                names[name] = f"metadata.{name}"
        if self.resolution is not None or (self.metadata and self.metadata.resolution):
            names.pop("resolution")
        return names

    def to_request(self) -> GenerationRequest:
        extra = self._minimax()
        first = self._first_frame(extra.first_frame_image)
        model = self.model or DEFAULT_MODEL
        resolution, ratio = extra.resolution, extra.ratio
        if self.size is not None:
            mode = _mode_of(first, extra)
            size_tier, size_ratio = size_choice(self.size, model, mode)
            resolution = resolution or size_tier
            ratio = ratio or size_ratio
        return GenerationRequest(
            **given(
                model=model,
                prompt=self.prompt,
                first_frame_image=first,
                last_frame_image=extra.last_frame_image,
                subject_image=_subject(extra.subject_reference),
                prompt_optimizer=extra.prompt_optimizer,
                fast_pretreatment=extra.fast_pretreatment,
                duration=seconds(self.seconds),
                resolution=resolution,
                callback_url=extra.callback_url,
                aigc_watermark=extra.aigc_watermark,
                ratio=ratio,
                generate_audio=extra.generate_audio,
            )
        )

    def _minimax(self) -> MiniMaxFields:
        """MiniMax's fields, top-level and in ``metadata`` merged (top-level wins)."""
        inner = self.metadata.model_dump(exclude_unset=True) if self.metadata else {}
        outer = MiniMaxFields.model_validate(
            self.model_dump(include=set(MiniMaxFields.model_fields))
        )
        return MiniMaxFields(**{**inner, **outer.model_dump(exclude_none=True)})

    def _first_frame(self, first_frame_image: str | None) -> str | None:
        reference = self.input_reference
        if isinstance(reference, ImageReference):
            if reference.file_id is not None and reference.image_url is None:
                raise InvalidParams(
                    "file_id references are not served: upload the image as input_reference, "
                    'or give {"image_url": <an http(s) URL or data URL>}',
                    field="input_reference",
                )
            reference = reference.image_url
        if reference and first_frame_image:
            raise InvalidParams(
                "give the first frame once: as input_reference or as first_frame_image",
                field="input_reference",
            )
        return reference or first_frame_image


def _mode_of(first: str | None, extra: MiniMaxFields) -> Mode:
    if extra.subject_reference:
        return Mode.SUBJECT
    if extra.last_frame_image:
        return Mode.FIRST_LAST
    return Mode.IMAGE if first else Mode.TEXT


def _subject(reference: str | list[dict[str, Any]] | None) -> str | None:
    if reference is None or isinstance(reference, str):
        return reference
    images = reference[0].get("image") if len(reference) == 1 else None
    if not isinstance(images, list) or len(images) != 1 or not isinstance(images[0], str):
        raise InvalidParams(
            'must be one image URL, or [{"type": "character", "image": ["<one image URL>"]}]',
            field=ImageRole.SUBJECT,
        )
    return images[0]


def seconds(value: str | int | None) -> int | None:
    """``seconds`` ("6", or 6) as a whole number of seconds."""
    if value is None:
        return None
    text = str(value).strip()
    if isinstance(value, bool) or not text.isascii() or not text.isdigit():
        raise InvalidParams(
            f'must be a whole number of seconds such as "6", got {value!r}', field="seconds"
        )
    return int(text)


def size_choice(size: str, model: str, mode: Mode) -> tuple[str | None, str | None]:
    """The tier (and, for a model that takes ratios, the ratio) a ``WIDTHxHEIGHT`` stands
    for: the model's tier nearest the size's short side, the ratio within 2 % of its shape.
    (None, None) when the model or mode is unknown here: validation says so."""
    found = _SIZE.fullmatch(size)
    if found is None or 0 in (int(found[1]), int(found[2])):
        raise InvalidParams(f"must be WIDTHxHEIGHT such as 1366x768, got {size!r}", field="size")
    width, height = int(found[1]), int(found[2])
    spec = CATALOG.get(model)
    if spec is None or mode not in spec.matrix:
        return None, None
    tiers = list(spec.matrix[mode])
    tier = min(tiers, key=lambda t: (abs(t.short_side - min(width, height)), t.short_side))
    ratio = _nearest_ratio(width, height, spec.ratios) if spec.ratios else None
    return tier.value, ratio


def _nearest_ratio(width: int, height: int, ratios: tuple[str, ...]) -> str:
    shape = width / height
    best = min(ratios, key=lambda r: abs(_shape(r) - shape))
    if abs(_shape(best) - shape) / shape > RATIO_TOLERANCE:
        raise InvalidParams(
            f"{width}x{height} is not the shape of any ratio offered ({', '.join(ratios)})",
            field="size",
        )
    return best


def _shape(ratio: str) -> float:
    width, height = ratio_aspect(ratio)
    return width / height


class RemixBody(BaseModel):
    """``POST /v1/videos/{video_id}/remix``."""

    model_config = ConfigDict(extra="ignore")

    prompt: str = Field(description="The new prompt; the inputs and settings stay")


# -- answers --------------------------------------------------------------------------------


class VideoError(BaseModel):
    code: str = Field(description='Why it failed; "cancelled" when it was cancelled')
    message: str


class Video(BaseModel):
    """The video object."""

    id: str
    object: Literal["video"] = "video"
    model: str
    status: str = Field(description="queued | in_progress | completed | failed")
    progress: int = Field(description="Percent done, 0-100")
    created_at: int = Field(description="Unix seconds")
    completed_at: int | None = Field(description="Unix seconds, once it ended")
    expires_at: int | None = Field(description="null: conch keeps videos until deleted")
    error: VideoError | None
    prompt: str
    remixed_from_video_id: str | None
    seconds: str
    size: str = Field(description="WIDTHxHEIGHT")


class VideoList(BaseModel):
    object: Literal["list"] = "list"
    data: list[Video]
    first_id: str | None
    last_id: str | None
    has_more: bool


class VideoDeleted(BaseModel):
    id: str
    object: Literal["video.deleted"] = "video.deleted"
    deleted: bool = True


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None
    code: str


class ErrorAnswer(BaseModel):
    error: ErrorDetail


def error_answer(error: ConchError, names: FieldNames = FIELD_NAMES) -> tuple[int, ErrorAnswer]:
    """The HTTP status and body of ``error``, fields named as the caller sent them."""
    wire = ERRORS[error.code]
    detail = ErrorDetail(
        message=wire_message(error, names),
        type=wire.type,
        param=wire_field(error, names),
        code=wire.code,
    )
    return wire.http_status, ErrorAnswer(error=detail)


def video(task: Task) -> Video:
    """A task as the video object."""
    spec = task.spec
    ended = task.status.is_terminal
    return Video(
        id=task.task_id,
        model=task.model,
        status=STATUS_NAMES[task.status],
        progress=100 if task.status is TaskStatus.SUCCESS else round(task.progress * 100),
        created_at=int(task.created_at),
        completed_at=int(task.finished_at) if ended and task.finished_at else None,
        expires_at=None,
        error=_error(task),
        prompt=spec.prompt,
        remixed_from_video_id=None if spec.remixed_from is None else str(spec.remixed_from),
        seconds=str(spec.duration),
        size="{}x{}".format(*output_size(task)),
    )


def output_size(task: Task) -> tuple[int, int]:
    """The video's size: as made, or (before) as it will be made."""
    if task.output is not None:
        return task.output.width, task.output.height
    sizes = {role: (image.width, image.height) for role, image in task.inputs.items()}
    spec = task.spec
    first, last = sizes.get(ImageRole.FIRST_FRAME), sizes.get(ImageRole.LAST_FRAME)
    return video_size(spec.mode, spec.resolution, first, last, spec.ratio)


def _error(task: Task) -> VideoError | None:
    if task.status is TaskStatus.CANCELLED:
        return VideoError(code=CANCELLED_REASON, message=CANCELLED_REASON)
    if task.status is not TaskStatus.FAIL:
        return None
    code = ErrorCode(task.error_code) if task.error_code in set(ErrorCode) else ErrorCode.INTERNAL
    return VideoError(code=ERRORS[code].code, message=failure(task, FIELD_NAMES))


def video_list(tasks: list[Task], more: bool) -> VideoList:
    """One page of videos."""
    data = [video(task) for task in tasks]
    return VideoList(
        data=data,
        first_id=data[0].id if data else None,
        last_id=data[-1].id if data else None,
        has_more=more,
    )
