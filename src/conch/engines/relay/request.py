"""A stored task as the request sent upstream: its images as data URLs, its model renamed."""

from __future__ import annotations

import base64

from conch.domain.request import GenerationRequest, ImageRole
from conch.domain.task import Task
from conch.media.storage import MediaStore

_MEDIA_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


def upstream_request(task: Task, media: MediaStore, model: str) -> GenerationRequest:
    """What the upstream is asked for: the caller's request as validated, the images conch
    stored (so the upstream needs no access to conch, nor to the caller's URLs), and no
    callback (conch delivers the caller's callbacks itself)."""
    spec = task.spec
    images = {
        role: _data_url(media.read(image.key), image.format) for role, image in task.inputs.items()
    }
    return GenerationRequest(
        model=model,
        prompt=spec.prompt,
        first_frame_image=images.get(ImageRole.FIRST_FRAME),
        last_frame_image=images.get(ImageRole.LAST_FRAME),
        subject_image=images.get(ImageRole.SUBJECT),
        prompt_optimizer=spec.prompt_optimizer,
        fast_pretreatment=spec.fast_pretreatment,
        duration=spec.duration,
        resolution=spec.resolution.value,
        aigc_watermark=spec.aigc_watermark,
        ratio=spec.ratio,
        generate_audio=spec.audio,
    )


def _data_url(data: bytes, image_format: str) -> str:
    media_type = _MEDIA_TYPES.get(image_format, "image/jpeg")
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"
