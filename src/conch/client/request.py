"""What a caller asks for, as conch's canonical :class:`GenerationRequest`.

Images may be given as URLs (sent as they are), or as local files or bytes, which are sent
inline as data URLs: the provider never needs to reach the caller's machine.
"""

from __future__ import annotations

import base64
from pathlib import Path

from conch.domain.errors import InvalidParams
from conch.domain.request import GenerationRequest, ImageRole

DEFAULT_MODEL = "MiniMax-Hailuo-02"
"""The one model that every dialect offers and that takes a first and a last frame."""

ImageSource = str | Path | bytes
"""An image: an http(s) URL or data URL, a local file's path, or the file's bytes."""

_URL_SCHEMES = ("http://", "https://", "data:")

# The formats every provider accepts, told by their first bytes (not by a file's name).
_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"WEBP", 8, "image/webp"),
)


def image_reference(source: ImageSource, role: ImageRole) -> str:
    """``source`` as a request sends it: URLs unchanged, files and bytes as data URLs."""
    if isinstance(source, bytes):
        return data_url(source, role)
    if isinstance(source, str) and source.startswith(_URL_SCHEMES):
        return source
    path = Path(source).expanduser()
    if not path.is_file():
        raise InvalidParams(f"no such image file: {path}", field=role)
    return data_url(path.read_bytes(), role)


def data_url(image: bytes, role: ImageRole) -> str:
    """A ``data:image/...;base64,`` URL holding ``image`` (JPEG, PNG or WebP)."""
    for signature, offset, media_type in _SIGNATURES:
        if image[offset : offset + len(signature)] == signature:
            return f"data:{media_type};base64,{base64.b64encode(image).decode('ascii')}"
    raise InvalidParams("is not a JPEG, PNG or WebP image", field=role)


def build_request(
    *,
    model: str = DEFAULT_MODEL,
    prompt: str = "",
    first_frame: ImageSource | None = None,
    last_frame: ImageSource | None = None,
    subject: ImageSource | None = None,
    duration: int | None = None,
    resolution: str | None = None,
    prompt_optimizer: bool = True,
    fast_pretreatment: bool = False,
    watermark: bool = False,
    callback_url: str | None = None,
) -> GenerationRequest:
    """A request from the SDK's keyword names; ``duration`` and ``resolution`` default
    to the model's (the provider decides)."""

    def reference(source: ImageSource | None, role: ImageRole) -> str | None:
        return None if source is None else image_reference(source, role)

    return GenerationRequest(
        model=model,
        prompt=prompt,
        first_frame_image=reference(first_frame, ImageRole.FIRST_FRAME),
        last_frame_image=reference(last_frame, ImageRole.LAST_FRAME),
        subject_image=reference(subject, ImageRole.SUBJECT),
        prompt_optimizer=prompt_optimizer,
        fast_pretreatment=fast_pretreatment,
        duration=duration,
        resolution=resolution,
        callback_url=callback_url,
        aigc_watermark=watermark,
    )
