"""MiniMax's v2 API (:mod:`conch.wire.minimax_v2`): ``content[]`` creates, the task at
``task``, its video at ``content.url`` (a link to fetch as it is), errors on HTTP statuses
or in ``base_resp``, a list paged by number, and DELETE to cancel."""

from __future__ import annotations

from typing import Any

from typing_extensions import override

from conch.client.adapters.base import (
    Adapter,
    ApiKeyHeader,
    Link,
    json_object,
    member,
    raised,
    submitted_id,
)
from conch.client.adapters.minimax import READ_CODES
from conch.client.effects import Answer, Call
from conch.client.status import Failure, Page, State, Status, state_of
from conch.domain.errors import ErrorCode
from conch.domain.request import GenerationRequest
from conch.wire import minimax_v2 as wire
from conch.wire.minimax import OK

_BY_HTTP_STATUS = {
    400: ErrorCode.INVALID_PARAMS,
    401: ErrorCode.INVALID_API_KEY,
    404: ErrorCode.NOT_FOUND,
    429: ErrorCode.RATE_LIMITED,
}


class MiniMaxV2Adapter(Adapter):
    """v2 calls."""

    dialect = wire.DIALECT

    def __init__(self, api_key: str) -> None:
        self.credentials = ApiKeyHeader(api_key)

    def submit_call(self, request: GenerationRequest) -> Call:
        content: list[dict[str, Any]] = [{"type": "text", "text": request.prompt}]
        for role, url in (
            ("first_frame", request.first_frame_image),
            ("last_frame", request.last_frame_image),
            ("reference_image", request.subject_image),
        ):
            if url is not None:
                content.append({"type": "image_url", "image_url": {"url": url}, "role": role})
        body = {
            "model": request.model,
            "content": content,
            "resolution": request.resolution,
            "duration": request.duration,
            "ratio": request.ratio,
            "callback_url": request.callback_url,
            "aigc_watermark": request.aigc_watermark or None,
            "generate_audio": request.generate_audio or None,
        }
        return Call("POST", wire.CREATE_PATH, json={k: v for k, v in body.items() if v is not None})

    def submitted(self, answer: Answer) -> str:
        return submitted_id(self._checked(answer).get("task_id"), "task_id", self.dialect, answer)

    def status_call(self, task_id: str) -> Call:
        return Call("GET", wire.QUERY_PATH.format(task_id=task_id))

    def status(self, task_id: str, answer: Answer) -> Status:
        task = self._checked(answer).get("task")
        return task_status(task if isinstance(task, dict) else {}, task_id)

    def link_call(self, status: Status) -> Call:
        return self.status_call(status.task_id)  # every query signs a fresh link

    @override
    def link(self, status: Status, answer: Answer) -> Link:
        url = member(member(self._checked(answer).get("task"), "content"), "url")
        if not isinstance(url, str) or not url:
            raise raised(
                ErrorCode.NOT_FOUND, "the task has no content.url", self.dialect, None, answer
            )
        return Link(url)

    def list_call(self, limit: int, after: str | None) -> Call:
        # v2 pages by number: the cursor counts the tasks of the pages before.
        size = max(1, min(limit, wire.MAX_PAGE_SIZE))
        page = _seen(after) // size + 1
        return Call("GET", wire.LIST_PATH, params={"page_num": str(page), "page_size": str(size)})

    def listed(self, answer: Answer, after: str | None = None) -> Page:
        body = self._checked(answer)
        items = body.get("items")
        listed = items if isinstance(items, list) else []
        found = [task_status(item, "") for item in listed if isinstance(item, dict)]
        seen = _seen(after) + len(found)
        total = body.get("total")
        more = isinstance(total, int) and bool(found) and seen < total
        return Page(found, str(seen) if more else None)

    def cancel_call(self, task_id: str) -> Call:
        return Call("DELETE", wire.TASK_PATH.format(task_id=task_id))

    def cancelled(self, task_id: str, answer: Answer) -> Status:
        body = self._checked(answer)
        status = str(body.get("status", ""))
        failure = Failure(status, None, status) if status else None
        return Status(
            str(body.get("task_id") or task_id),
            state_of(status, wire.STATUS_NAMES),
            status,
            body,
            failure=failure,
        )

    def _checked(self, answer: Answer) -> dict[str, Any]:
        body = json_object(answer, self.dialect)
        base = body.get("base_resp")
        code = member(base, "status_code")
        if answer.http_status < 400 and code in (None, OK.status_code):
            return body
        canonical = READ_CODES.get(code) if isinstance(code, int) else None
        canonical = canonical or _BY_HTTP_STATUS.get(answer.http_status, ErrorCode.INTERNAL)
        message = str(member(base, "status_msg") or f"HTTP {answer.http_status}")
        raise raised(
            canonical, message, self.dialect, code if isinstance(code, int) else None, answer
        )


def _seen(after: str | None) -> int:
    return int(after) if after is not None and after.isdigit() else 0


def task_status(task: dict[str, Any], task_id: str) -> Status:
    """A v2 task object as a status."""
    provider_status = str(task.get("status", ""))
    state = state_of(provider_status, wire.STATUS_NAMES)
    url = member(task.get("content"), "url")
    failure = None
    if state is State.FAILED:
        error = task.get("error")
        message = str(member(error, "message") or provider_status)
        failure = Failure(message, None, member(error, "code") or provider_status)
    duration = task.get("duration")
    return Status(
        task_id=str(task.get("id") or task_id),
        state=state,
        provider_status=provider_status,
        raw=task,
        video_urls=(url,) if isinstance(url, str) and url else (),
        failure=failure,
        model=task.get("model") if isinstance(task.get("model"), str) else None,
        duration=duration if isinstance(duration, int) else None,
        resolution=task.get("resolution") if isinstance(task.get("resolution"), str) else None,
        created_at=task.get("created_at") if isinstance(task.get("created_at"), int) else None,
    )
