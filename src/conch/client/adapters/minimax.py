"""The MiniMax dialect (``api-notes.md`` §1), and QuickRouter's copy of it under ``/minimax``.

Every answer is HTTP 200 with ``base_resp``; a non-zero ``status_code`` is a refusal, except
in the query of a task that ended ``Fail``, where it says why the task failed. The video is
named by ``file_id`` (a string in the query, a number in retrieve) and fetched through a
signed link from ``/v1/files/retrieve``, issued fresh on every call.
"""

from __future__ import annotations

from typing import Any

from typing_extensions import override

from conch.client.adapters import native
from conch.client.adapters.base import (
    Adapter,
    ApiKeyHeader,
    Link,
    invert,
    json_object,
    member,
    raised,
    submitted_id,
    without_defaults,
)
from conch.client.effects import Answer, Call
from conch.client.status import Failure, Page, State, Status, state_of
from conch.domain.errors import ErrorCode
from conch.domain.request import GenerationRequest
from conch.wire import minimax as wire

READ_CODES: dict[int, ErrorCode] = {
    **invert(wire.STATUS_CODES),
    # Codes only the real MiniMax sends (conch answers with the ones above).
    1001: ErrorCode.INTERNAL,  # timeout
    1013: ErrorCode.INTERNAL,
    1024: ErrorCode.INTERNAL,
    1027: ErrorCode.SENSITIVE_CONTENT,  # the output was refused
    1033: ErrorCode.INTERNAL,
    1039: ErrorCode.RATE_LIMITED,  # token limit
    1041: ErrorCode.RATE_LIMITED,  # connection limit
    2045: ErrorCode.RATE_LIMITED,  # rate growth limit
    2056: ErrorCode.INSUFFICIENT_BALANCE,  # usage limit exceeded
}
"""``base_resp.status_code`` -> canonical error."""

OK = wire.OK.status_code


class MiniMaxAdapter(Adapter):
    """MiniMax's calls; with ``prefix="/minimax"``, QuickRouter's on a server serving both."""

    dialect = wire.DIALECT

    def __init__(self, api_key: str, *, prefix: str = "", dialect: str = wire.DIALECT) -> None:
        self.credentials = ApiKeyHeader(api_key)
        self.prefix = prefix
        self.dialect = dialect

    def submit_call(self, request: GenerationRequest) -> Call:
        body = wire.VideoGenerationBody(
            model=request.model,
            prompt=request.prompt or None,
            first_frame_image=request.first_frame_image,
            last_frame_image=request.last_frame_image,
            subject_reference=_subject(request.subject_image),
            prompt_optimizer=request.prompt_optimizer,
            fast_pretreatment=request.fast_pretreatment,
            duration=request.duration,
            resolution=request.resolution,
            callback_url=request.callback_url,
            aigc_watermark=request.aigc_watermark,
        )
        return Call("POST", f"{self.prefix}{wire.SUBMIT_PATH}", json=without_defaults(body))

    def submitted(self, answer: Answer) -> str:
        return submitted_id(self._checked(answer).get("task_id"), "task_id", self.dialect, answer)

    def status_call(self, task_id: str) -> Call:
        path = f"{self.prefix}{wire.QUERY_PATH}"
        return Call("GET", path, params={"task_id": task_id})

    def status(self, task_id: str, answer: Answer) -> Status:
        body = json_object(answer, self.dialect)
        provider_status = str(body.get("status", ""))
        state = state_of(provider_status, wire.STATUS_NAMES)
        if not (provider_status and state is State.FAILED):
            self._checked(answer)  # on Fail, base_resp is why the task failed, not a refusal
        return Status(
            task_id=str(body.get("task_id") or task_id),
            state=state,
            provider_status=provider_status,
            raw=body,
            file_id=str(body["file_id"]) if body.get("file_id") else None,
            width=_size(body.get("video_width")),
            height=_size(body.get("video_height")),
            failure=self._failure(body) if state is State.FAILED else None,
        )

    def link_call(self, status: Status) -> Call:
        params = {"file_id": status.file_id or ""}
        return Call("GET", f"{self.prefix}{wire.RETRIEVE_PATH}", params=params)

    @override
    def link(self, status: Status, answer: Answer) -> Link:
        file = self._checked(answer).get("file")
        url = member(file, "download_url")
        if not isinstance(url, str) or not url:
            raise raised(ErrorCode.INTERNAL, "no download_url", self.dialect, None, answer)
        return Link(url, _size(member(file, "bytes")))

    def list_call(self, limit: int, after: str | None) -> Call:
        return native.list_call(limit, after)  # the dialect has none: conch's own

    @override
    def listed(self, answer: Answer, after: str | None = None) -> Page:
        return native.listed(answer, self.dialect)

    def cancel_call(self, task_id: str) -> Call:
        return native.cancel_call(task_id)  # the dialect has none: conch's own

    @override
    def cancelled(self, task_id: str, answer: Answer) -> Status:
        return native.cancelled(answer, self.dialect)

    def _checked(self, answer: Answer) -> dict[str, Any]:
        body = json_object(answer, self.dialect)
        base = body.get("base_resp")
        if not isinstance(base, dict):
            raise raised(
                ErrorCode.INTERNAL, "the answer has no base_resp", self.dialect, None, answer
            )
        code = base.get("status_code")
        if code != OK:
            canonical = READ_CODES.get(code, ErrorCode.INTERNAL) if isinstance(code, int) else None
            message = str(base.get("status_msg") or "")
            raise raised(canonical or ErrorCode.INTERNAL, message, self.dialect, code, answer)
        return body

    def _failure(self, body: dict[str, Any]) -> Failure:
        base = body.get("base_resp")
        code = member(base, "status_code")
        reason = READ_CODES.get(code) if isinstance(code, int) else None
        message = str(member(base, "status_msg") or "")
        return Failure(message, reason, code if code != OK else None)


def _subject(image: str | None) -> list[wire.SubjectReference] | None:
    return None if image is None else [wire.SubjectReference(type="character", image=[image])]


def _size(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
