"""The Chanjing dialect (``api-notes.md`` §4, ``chanjing-hailuo-02-submit.md``).

Wire facts kept exactly: an app trades ``app_id`` + ``secret_key`` for an ``access_token``
(``expire_in`` is a unix timestamp) and sends it in the ``access_token`` header; every answer
is ``{"trace_id", "code", "msg", "data"}``; ``clarity`` 720 is Hailuo's 768P tier; task
objects report ``progress_desc`` ``Queued | Ready | Generating | Success | Error`` and
``output_url`` as a list. This module only translates.

HTTP status: every Chanjing answer, errors included, is HTTP 200 and the outcome is ``code``.
Chanjing's page documents outcomes only as ``code`` values in the body, so its clients read
``code``; a 4xx or 5xx would make the common ``raise_for_status()`` clients lose ``msg``.
"""

from __future__ import annotations

import math
import re
from enum import IntEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from conch.api.auth import Installation, services
from conch.api.fields import Seconds
from conch.api.files import video_urls
from conch.api.routing import dialect_route
from conch.api.spelling import FieldNames, failure, wire_message
from conch.api.tracing import trace_id
from conch.domain.catalog import Resolution
from conch.domain.errors import ConchError, ErrorCode, InvalidParams, Unauthorized
from conch.domain.request import GenerationRequest, ImageRole
from conch.domain.task import Task, TaskStatus
from conch.services import Services
from conch.store.chanjing import TOKEN_FIELD, ChanjingStore
from conch.store.keys import ApiKey
from conch.submission import submit

DIALECT = "chanjing"
TOKEN_PATH = "/open/v1/access_token"
SUBMIT_PATH = "/open/v1/ai_creation/task/submit"
TASK_PATH = "/open/v1/ai_creation/task"
PAGE_PATH = "/open/v1/ai_creation/task/page"
VIDEO = 4
"""``creation_type`` (submit) and ``type`` (task objects, page filter) of a video creation."""

MODEL_CODES = ("MiniMax-Hailuo-02", "MiniMax-Hailuo-2.3", "MiniMax-Hailuo-2.3-Fast")
"""The model codes this dialect speaks: Hailuo models whose tiers ``clarity`` can name."""

MAX_PAGE_SIZE = 50
MAX_UNIQUE_IDS = 50
DEFAULT_PAGE_SIZE = 10
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


def render_error(error: ConchError, request: Request) -> Response:
    # The submit call records which image spelling the caller used (see ChanjingSubmitBody).
    names: FieldNames = getattr(request.state, "chanjing_fields", FIELD_NAMES)
    message = wire_message(error, names)
    if error.field in ("duration", "resolution"):
        message = _clarity_spelling(message)
    # Always HTTP 200: see the module's docstring.
    return JSONResponse(envelope(request, None, code=CODES[error.code], msg=message))


def _clarity_spelling(message: str) -> str:
    """Tiers as Chanjing callers name them: 768P is ``clarity 720`` (words, not URLs)."""
    for clarity, tier in CLARITY_TIERS.items():
        standalone = re.compile(rf"(?<![\w/.-]){tier.value}(?![\w/-])")
        message = standalone.sub(f"clarity {clarity} ({tier.value})", message)
    return message


def envelope(
    request: Request, data: Any, *, code: Code = Code.OK, msg: str = SUCCESS_MSG
) -> dict[str, Any]:
    """Chanjing's envelope around ``data``."""
    return {"trace_id": trace_id(request), "code": int(code), "msg": msg, "data": data}


# -- credentials ----------------------------------------------------------------------------

_token_header = APIKeyHeader(name=TOKEN_FIELD, auto_error=False, scheme_name="access_token")


def chanjing_store(request: Request) -> ChanjingStore:
    """The installation's Chanjing apps and tokens (a FastAPI dependency)."""
    found = services(request)
    return found.chanjing


def require_token(request: Request, token: Annotated[str | None, Depends(_token_header)]) -> ApiKey:
    """The API key behind the ``access_token`` header (a FastAPI dependency); 10400 otherwise."""
    # Reverse proxies such as nginx drop headers with underscores by default: accept the
    # dashed spelling too.
    token = token or request.headers.get("access-token")
    if not token or not token.strip():
        raise Unauthorized(
            "the access_token header is missing; get a token from POST /open/v1/access_token"
        )
    return chanjing_store(request).authenticate(token.strip())


TokenOwner = Annotated[ApiKey, Depends(require_token)]
Apps = Annotated[ChanjingStore, Depends(chanjing_store)]


# -- wire schemas ---------------------------------------------------------------------------


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


class Envelope(BaseModel):
    trace_id: str
    code: int = Field(description="0 on success; else 400, 10400, 40000, 40001 or 50000")
    msg: str


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


# -- translation ----------------------------------------------------------------------------


def task_object(task: Task, urls: list[str]) -> dict[str, Any]:
    """A task as Chanjing's query calls answer it."""
    spec = task.spec
    sources = spec.get("image_sources", {})
    frames = (ImageRole.FIRST_FRAME.value, ImageRole.LAST_FRAME.value)
    images = [sources[role] for role in frames if role in sources]
    clarity = _clarity(spec.get("resolution"))
    return {
        "id": task.id,
        "unique_id": task.uuid,
        "create_time": int(task.created_at),
        "type": VIDEO,
        "progress_desc": PROGRESS_DESC[task.status],
        # Chanjing's other task objects report progress in percent; Hailuo's page has room.
        "progress": round(task.progress * 100),
        "err_msg": failure(task, FIELD_NAMES),
        "output_url": urls,
        "motion_info": {
            "photo_path_url": images[0] if images else "",
            "ref_prompt": spec.get("prompt", ""),
            "clarity": clarity,
            "quality_mode": "",
            "style": "",
            "aspect_ratio": "",
            "video_duration": spec.get("duration"),
        },
        "ref_img_url": images,
        "model_code": task.model,
        "model_name": task.model.replace("-", " "),
    }


def _clarity(tier: str | None) -> int | None:
    """A tier as ``clarity``; tiers outside Chanjing's two (from other dialects) by height."""
    if tier is None:
        return None
    for clarity, known in CLARITY_TIERS.items():
        if known.value == tier:
            return clarity
    return Resolution(tier).short_side


def _page(request: Request, found: Services, owner: ApiKey, body: PageBody) -> dict[str, Any]:
    tasks: list[Task] = []
    total = 0
    if body.type in (None, VIDEO):  # every creation here is a video
        tasks, total = found.tasks.list(
            owner.id,
            references=body.unique_ids,
            statuses=[TaskStatus.SUCCESS] if body.is_success else None,
            limit=body.page_size,
            offset=(body.page - 1) * body.page_size,
        )
    objects = [task_object(task, video_urls(request, task)) for task in tasks]
    page_info = {
        "page": body.page,
        "size": body.page_size,
        "total_count": total,
        "total_page": math.ceil(total / body.page_size),
    }
    return {"list": objects, "total": total, "page_info": page_info}


def router() -> APIRouter:
    """The Chanjing routes."""
    # Some clients omit Content-Type: read their bodies as JSON. Callers authenticate by a
    # header that no cross-site form can send, so this opens no CSRF hole.
    routes = APIRouter(
        route_class=dialect_route(render_error), strict_content_type=False, tags=["Chanjing"]
    )

    @routes.post(TOKEN_PATH, response_model=AccessTokenAnswer)
    def access_token(request: Request, body: TokenBody, apps: Apps) -> dict[str, Any]:
        """Trade an app's ``app_id`` + ``secret_key`` for a token; the previous one dies."""
        issued = apps.issue_token(body.app_id, body.secret_key)
        return envelope(request, {"access_token": issued.token, "expire_in": issued.expires_at})

    @routes.post(SUBMIT_PATH, response_model=ChanjingSubmitAnswer)
    async def submit_task(
        request: Request, body: ChanjingSubmitBody, owner: TokenOwner, found: Installation
    ) -> dict[str, Any]:
        """Create a video task; ``data`` is its ``unique_id``."""
        request.state.chanjing_fields = body.field_names()
        task = await submit(found, owner, body.to_request(), dialect=DIALECT)
        return envelope(request, task.uuid)

    @routes.get(TASK_PATH, response_model=TaskAnswer)
    def get_task(
        request: Request,
        unique_id: Annotated[str, Query(description="The id that task/submit returned")],
        owner: TokenOwner,
        found: Installation,
    ) -> dict[str, Any]:
        """One task."""
        task = found.tasks.find(owner.id, unique_id)
        return envelope(request, task_object(task, video_urls(request, task)))

    @routes.post(PAGE_PATH, response_model=PageAnswer)
    def page_tasks(
        request: Request, body: PageBody, owner: TokenOwner, found: Installation
    ) -> dict[str, Any]:
        """The caller's tasks, newest first, filtered and paged."""
        body.check()
        return envelope(request, _page(request, found, owner, body))

    return routes
