"""A stored task as a request again: its settings as validated, and its images as data URLs
of the bytes conch stored, so the request needs no access to conch nor to the caller's URLs
(a remix, and what the relay sends upstream)."""

from __future__ import annotations

import base64

from conch.domain.request import GenerationRequest, ImageRole
from conch.domain.task import Task
from conch.media.storage import MediaStore


def stored_request(
    task: Task,
    media: MediaStore,
    *,
    model: str | None = None,
    prompt: str | None = None,
    remixed_from: int | None = None,
) -> GenerationRequest:
    """``task``'s request with its stored images inline; ``model`` and ``prompt`` replace
    its own where given. No callback is carried over: whoever resends decides that."""
    spec = task.spec
    images = {role: data_url(media, task, role) for role in task.inputs}
    return GenerationRequest(
        model=spec.model if model is None else model,
        prompt=spec.prompt if prompt is None else prompt,
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
        remixed_from=remixed_from,
    )


def data_url(media: MediaStore, task: Task, role: ImageRole) -> str:
    """The data URL of the image ``task`` stored for ``role``."""
    image = task.inputs[role]
    payload = base64.b64encode(media.read(image.key)).decode("ascii")
    return f"data:image/{image.format};base64,{payload}"
