"""The canonical generation request every dialect translates into, and its validation.

:func:`validate` applies every rule that needs no I/O: the catalog (model, mode, duration x
resolution), the prompt, the camera grammar, and the form of image and callback references.
Images are fetched and judged by content afterwards (``conch.media``), still before any
task exists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from conch.domain.camera import CameraPlan, parse_prompt
from conch.domain.catalog import Mode, ModelSpec, Resolution, model_spec
from conch.domain.errors import InvalidParams
from conch.domain.urls import UrlRefused, parse_url

MAX_PROMPT_CHARS = 2000
DATA_URL_PREFIX = "data:"
DEFAULT_DURATION = 6
MAX_URL_CHARS = 8192
"""The longest image or callback URL accepted (data URLs aside: their size is the image's)."""

DATA_URL_HEADER = re.compile(
    r"data:image/[a-z0-9.+-]+(;[a-z0-9!#$&^_.+-]+=[^;,]*)*;base64", re.IGNORECASE
)
"""``data:image/<type>[;param=value...];base64``: the one form of data URL accepted."""
_MAX_DATA_URL_HEADER = 256


class ImageRole(StrEnum):
    """The part an input image plays; the value is its canonical request field."""

    FIRST_FRAME = "first_frame_image"
    LAST_FRAME = "last_frame_image"
    SUBJECT = "subject_reference"


@dataclass(frozen=True)
class GenerationRequest:
    """What a caller asked for, in canonical names, before validation.

    ``duration`` and ``resolution`` are None when the caller left them out.
    """

    model: str
    prompt: str = ""
    first_frame_image: str | None = None
    last_frame_image: str | None = None
    subject_image: str | None = None
    prompt_optimizer: bool = True
    fast_pretreatment: bool = False
    duration: int | None = None
    resolution: str | None = None
    callback_url: str | None = None
    aigc_watermark: bool = False
    ratio: str | None = None
    """The output's aspect ratio (``"16:9"``, ``"adaptive"``), for models that take one."""
    generate_audio: bool = False
    """Whether the video must carry sound (the field as v2 and /v1/videos callers send it)."""
    remixed_from: int | None = None
    """The task whose inputs this request reuses with a new prompt (a remix)."""

    def image_sources(self) -> dict[ImageRole, str]:
        given = {
            ImageRole.FIRST_FRAME: self.first_frame_image,
            ImageRole.LAST_FRAME: self.last_frame_image,
            ImageRole.SUBJECT: self.subject_image,
        }
        return {role: source for role, source in given.items() if source}


@dataclass(frozen=True)
class TaskSpec:
    """A validated request: everything a runner needs except the image bytes."""

    model: str
    mode: Mode
    prompt: str
    prompt_text: str
    camera_plan: CameraPlan
    resolution: Resolution
    duration: int
    image_sources: dict[ImageRole, str] = field(default_factory=dict)
    prompt_optimizer: bool = True
    fast_pretreatment: bool = False
    aigc_watermark: bool = False
    callback_url: str | None = None
    ratio: str | None = None
    """The aspect ratio asked for; None: follow the frame (16:9 without one)."""
    audio: bool = False
    """The caller asked for sound."""
    remixed_from: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "mode": self.mode.value,
            "prompt": self.prompt,
            "prompt_text": self.prompt_text,
            "camera_plan": self.camera_plan.to_wire(),
            "resolution": self.resolution.value,
            "duration": self.duration,
            "image_sources": {role.value: src for role, src in self.image_sources.items()},
            "prompt_optimizer": self.prompt_optimizer,
            "fast_pretreatment": self.fast_pretreatment,
            "aigc_watermark": self.aigc_watermark,
            "callback_url": self.callback_url,
            "ratio": self.ratio,
            "audio": self.audio,
            "remixed_from": self.remixed_from,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TaskSpec:
        return cls(
            model=data["model"],
            mode=Mode(data["mode"]),
            prompt=data["prompt"],
            prompt_text=data["prompt_text"],
            camera_plan=CameraPlan.from_wire(data["camera_plan"]),
            resolution=Resolution(data["resolution"]),
            duration=data["duration"],
            image_sources={ImageRole(r): s for r, s in data["image_sources"].items()},
            prompt_optimizer=data["prompt_optimizer"],
            fast_pretreatment=data["fast_pretreatment"],
            aigc_watermark=data["aigc_watermark"],
            callback_url=data["callback_url"],
            # Added later: tasks stored before have none.
            ratio=data.get("ratio"),
            audio=data.get("audio", False),
            remixed_from=data.get("remixed_from"),
        )


def validate(request: GenerationRequest) -> TaskSpec:
    """Check ``request`` against every rule that needs no I/O; raise InvalidParams."""
    _check_text(request)
    spec = model_spec(request.model)
    mode = _mode_of(request, spec)
    _check_prompt(request.prompt, mode)
    spec.check_mode(mode)
    resolution = (
        Resolution.parse(request.resolution)
        if request.resolution is not None
        else spec.default_resolution_for(mode)
    )
    duration = _check_duration(request.duration, spec.default_duration)
    spec.check(mode, resolution, duration)
    ratio = spec.check_ratio(mode, request.ratio)
    for role, source in request.image_sources().items():
        check_image_reference(source, role)
    if request.callback_url is not None:
        check_callback_url(request.callback_url)
    parsed = parse_prompt(request.prompt) if spec.camera_commands else None
    return TaskSpec(
        model=spec.name,
        mode=mode,
        prompt=request.prompt,
        prompt_text=parsed.text if parsed else request.prompt.strip(),
        camera_plan=parsed.plan if parsed else CameraPlan(),
        resolution=resolution,
        duration=duration,
        image_sources=request.image_sources(),
        prompt_optimizer=request.prompt_optimizer,
        fast_pretreatment=request.fast_pretreatment and spec.fast_pretreatment,
        aigc_watermark=request.aigc_watermark,
        callback_url=request.callback_url,
        ratio=ratio,
        audio=request.generate_audio,
        remixed_from=request.remixed_from,
    )


def _mode_of(request: GenerationRequest, spec: ModelSpec) -> Mode:
    if request.subject_image:
        if request.first_frame_image or request.last_frame_image:
            raise InvalidParams(
                "cannot be combined with first_frame_image or last_frame_image",
                field=ImageRole.SUBJECT,
            )
        return Mode.SUBJECT
    if request.last_frame_image:
        return Mode.FIRST_LAST
    if request.first_frame_image:
        return Mode.IMAGE
    if Mode.TEXT not in spec.modes:
        needs = {
            Mode.IMAGE: "first_frame_image",
            Mode.FIRST_LAST: "last_frame_image",
            Mode.SUBJECT: "subject_reference",
        }
        required = " or ".join(needs[m] for m in spec.modes if m in needs)
        raise InvalidParams(
            f"{spec.name} does not offer text-to-video; it requires {required}", field="model"
        )
    return Mode.TEXT


def _check_text(request: GenerationRequest) -> None:
    """Every text field is valid Unicode: JSON can carry an unpaired surrogate (``"\\ud800"``),
    which no answer, push or log could encode later."""
    fields = {
        "model": request.model,
        "prompt": request.prompt,
        "resolution": request.resolution,
        "callback_url": request.callback_url,
        "ratio": request.ratio,
        **{role.value: source for role, source in request.image_sources().items()},
    }
    for name, value in fields.items():
        if value is not None:
            _check_unicode(value, name)


def _check_unicode(value: str, name: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        code = ord(value[error.start])
        raise InvalidParams(
            f"must be valid Unicode text; it holds an unpaired surrogate (U+{code:04X}) at "
            f"character {error.start}",
            field=name,
        ) from None


def _check_prompt(prompt: str, mode: Mode) -> None:
    if mode is Mode.TEXT and not prompt.strip():
        raise InvalidParams("is required for text-to-video and must not be empty", field="prompt")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise InvalidParams(
            f"must be at most {MAX_PROMPT_CHARS} characters, got {len(prompt)}", field="prompt"
        )


def _check_duration(duration: int | None, default: int) -> int:
    if duration is None:
        return default
    if isinstance(duration, bool) or not isinstance(duration, int):
        raise InvalidParams(
            f"must be a whole number of seconds, got {duration!r}", field="duration"
        )
    return duration


def _describe(value: str, limit: int = 60) -> str:
    return repr(value if len(value) <= limit else value[:limit] + "...")


def is_data_url(source: str) -> bool:
    """Whether an image reference carries its bytes inline (``data:...``) rather than a URL."""
    return source.startswith(DATA_URL_PREFIX)


def check_image_reference(source: str, role: ImageRole) -> None:
    """An image must be an http(s) URL or a base64 ``data:image/...`` URL."""
    if is_data_url(source):
        data_url_payload_start(source, role)
        return
    _check_url(source, role, "must be an https URL, an http URL or a data:image/...;base64 URL")


def check_callback_url(url: str) -> None:
    """A callback must be an absolute http(s) URL."""
    _check_url(url, "callback_url", "must be an absolute http or https URL")


def data_url_payload_start(source: str, role: ImageRole) -> int:
    """Where the payload of a ``data:image/...;base64,`` URL starts; InvalidParams unless
    ``source`` has that form. Only the header is looked at: the payload may be megabytes."""
    comma = source.find(",", 0, _MAX_DATA_URL_HEADER)
    if comma < 0 or not DATA_URL_HEADER.fullmatch(source, 0, comma):
        header = source[:comma] if comma >= 0 else source
        raise InvalidParams(
            "a data URL must look like data:image/<jpeg|png|webp>;base64,<data>; got "
            + _describe(header),
            field=role,
        )
    return comma + 1


def _check_url(url: str, field: str, rule: str) -> None:
    # The same parse and host-form rules as the outbound guard that will request it.
    if len(url) > MAX_URL_CHARS:
        raise InvalidParams(
            f"{rule} of at most {MAX_URL_CHARS} characters, got {len(url)} characters",
            field=field,
        )
    try:
        parse_url(url)
    except UrlRefused as refused:
        raise InvalidParams(
            f"{rule}, got {_describe(url)} ({refused.reason})", field=field
        ) from None
