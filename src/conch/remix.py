"""A remix: a new request with a finished task's inputs and settings and a new prompt.

The inputs are sent again as data URLs of the bytes the first task stored, so the remix
passes every check a submit makes and keeps copies of its own (deleting either task leaves
the other whole). A callback URL is not carried over: the remix is the caller's new request.
"""

from __future__ import annotations

from conch.domain.errors import InvalidParams
from conch.domain.request import GenerationRequest
from conch.domain.task import Task, TaskStatus
from conch.media.resend import stored_request
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
    return stored_request(task, media, prompt=prompt, remixed_from=task.id)
