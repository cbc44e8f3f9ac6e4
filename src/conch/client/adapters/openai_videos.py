"""OpenAI's ``/v1/videos`` (:mod:`conch.wire.openai_videos`): JSON creates (``input_reference``
as ``{"image_url"}``, MiniMax's fields top-level), the video object's four statuses, errors on
real HTTP statuses as ``{"error": {...}}``, and the video at ``/v1/videos/{id}/content``,
fetched with the API key (it is the API's own path, not a signed link)."""

from __future__ import annotations

from typing import Any

from typing_extensions import override

from conch.client.adapters.base import (
    Adapter,
    ApiKeyHeader,
    Link,
    invert,
    json_object,
    member,
    raised,
    submitted_id,
)
from conch.client.effects import Answer, Call
from conch.client.status import Failure, Page, State, Status, state_of
from conch.domain.errors import ErrorCode
from conch.domain.request import GenerationRequest
from conch.wire import openai_videos as wire

BY_CODE = invert({code: error.code for code, error in wire.ERRORS.items()})
BY_HTTP_STATUS = invert({code: error.http_status for code, error in wire.ERRORS.items()})
_SIZE = 2


class OpenAIVideosAdapter(Adapter):
    """``/v1/videos`` calls."""

    dialect = wire.DIALECT

    def __init__(self, api_key: str) -> None:
        self.credentials = ApiKeyHeader(api_key)

    def submit_call(self, request: GenerationRequest) -> Call:
        body: dict[str, Any] = {
            "model": request.model,
            "prompt": request.prompt,
            "seconds": None if request.duration is None else str(request.duration),
            "input_reference": (
                {"image_url": request.first_frame_image} if request.first_frame_image else None
            ),
            "last_frame_image": request.last_frame_image,
            "subject_reference": request.subject_image,
            "resolution": request.resolution,
            "ratio": request.ratio,
            "callback_url": request.callback_url,
            "aigc_watermark": request.aigc_watermark or None,
            "prompt_optimizer": None if request.prompt_optimizer else False,
            "fast_pretreatment": request.fast_pretreatment or None,
            "generate_audio": request.generate_audio or None,
        }
        sent = {name: value for name, value in body.items() if value is not None}
        return Call("POST", wire.VIDEOS_PATH, json=sent)

    def submitted(self, answer: Answer) -> str:
        return submitted_id(self._checked(answer).get("id"), "id", self.dialect, answer)

    def status_call(self, task_id: str) -> Call:
        return Call("GET", wire.VIDEO_PATH.format(video_id=task_id))

    def status(self, task_id: str, answer: Answer) -> Status:
        return video_status(self._checked(answer), task_id)

    def link_call(self, status: Status) -> Call:
        return self.status_call(status.task_id)

    @override
    def link(self, status: Status, answer: Answer) -> Link:
        self._checked(answer)  # the video is still there
        path = wire.CONTENT_PATH.format(video_id=status.task_id)
        return Link(path, headers=self.credentials.headers())

    def list_call(self, limit: int, after: str | None) -> Call:
        params = {"limit": str(max(1, min(limit, wire.MAX_PAGE_SIZE)))}
        if after is not None:
            params["after"] = after
        return Call("GET", wire.VIDEOS_PATH, params=params)

    @override
    def listed(self, answer: Answer, after: str | None = None) -> Page:
        body = self._checked(answer)
        data = body.get("data")
        found = (
            [video_status(item, "") for item in data if isinstance(item, dict)]
            if isinstance(data, list)
            else []
        )
        last = body.get("last_id")
        more = body.get("has_more") is True and isinstance(last, str)
        return Page(found, last if more else None)

    def cancel_call(self, task_id: str) -> Call:
        # OpenAI's delete is the cancel: a running video is cancelled (and deleted).
        return Call("DELETE", wire.VIDEO_PATH.format(video_id=task_id))

    def cancelled(self, task_id: str, answer: Answer) -> Status:
        body = self._checked(answer)
        failure = Failure("cancelled", None, "cancelled")
        return Status(
            str(body.get("id") or task_id), State.FAILED, "deleted", body, failure=failure
        )

    def _checked(self, answer: Answer) -> dict[str, Any]:
        body = json_object(answer, self.dialect)
        if answer.http_status < 400:
            return body
        error = body.get("error")
        error = error if isinstance(error, dict) else {}
        code = str(error.get("code") or "")
        canonical = BY_CODE.get(code) or BY_HTTP_STATUS.get(answer.http_status)
        if canonical is None:
            canonical = ErrorCode.INVALID_PARAMS if answer.http_status < 500 else ErrorCode.INTERNAL
        message = str(error.get("message") or f"HTTP {answer.http_status}")
        raise raised(canonical, message, self.dialect, code or None, answer)


def video_status(video: dict[str, Any], task_id: str) -> Status:
    """A video object as a status."""
    provider_status = str(video.get("status", ""))
    state = state_of(provider_status, wire.STATUS_NAMES)
    error = video.get("error")
    failure = None
    if state is State.FAILED:
        code = member(error, "code")
        failure = Failure(str(member(error, "message") or ""), BY_CODE.get(str(code)), code)
    width, height = _size(video.get("size"))
    progress = video.get("progress")
    seconds = str(video.get("seconds", ""))
    return Status(
        task_id=str(video.get("id") or task_id),
        state=state,
        provider_status=provider_status,
        raw=video,
        width=width,
        height=height,
        progress=progress / 100 if isinstance(progress, int | float) else None,
        failure=failure,
        model=video.get("model") if isinstance(video.get("model"), str) else None,
        prompt=video.get("prompt") if isinstance(video.get("prompt"), str) else None,
        duration=int(seconds) if seconds.isdigit() else None,
        created_at=video.get("created_at") if isinstance(video.get("created_at"), int) else None,
    )


def _size(size: Any) -> tuple[int | None, int | None]:
    parts = size.split("x") if isinstance(size, str) else []
    if len(parts) == _SIZE and all(part.isdigit() for part in parts):
        return int(parts[0]), int(parts[1])
    return None, None
