"""A remix: a new request with a finished task's inputs and settings and a new prompt.

The inputs are sent again as data URLs of the bytes the first task stored, so the remix
passes every check a submit makes and keeps copies of its own (deleting either task leaves
the other whole). A callback URL is not carried over: the remix is the caller's new request.
"""

from __future__ import annotations

import base64

from conch.domain.errors import InvalidParams
from conch.domain.request import GenerationRequest, ImageRole
from conch.domain.task import Task, TaskStatus
from conch.media.storage import MediaStore


def remix_request(
    media: MediaStore, task: Task, prompt: str, *, shown_status: str
) -> GenerationRequest:
    """The request remixing ``task`` (which must have succeeded) with ``prompt``;
    ``shown_status`` is the task's status in the caller's words, for the refusal."""
    if task.status is not TaskStatus.SUCCESS:
        raise InvalidParams(
            f"video {task.task_id} is {shown_status}: only a completed video can be remixed",
            field="video_id",
        )
    images = {role: _data_url(media, task, role) for role in task.inputs}
    spec = task.spec
    return GenerationRequest(
        model=spec.model,
        prompt=prompt,
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
        remixed_from=task.id,
    )


def _data_url(media: MediaStore, task: Task, role: ImageRole) -> str:
    image = task.inputs[role]
    payload = base64.b64encode(media.read(image.key)).decode("ascii")
    return f"data:image/{image.format};base64,{payload}"
