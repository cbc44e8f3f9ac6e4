"""The Modelverse dialect (``api-notes.md`` §3): the key without ``Bearer`` (as its video
examples send it), fields nested under ``input`` and ``parameters``, errors on real HTTP
codes as ``{"error": {"message", "type", "param", "code"}}``, and fresh signed ``urls`` in
every status answer of a task that succeeded."""

from __future__ import annotations

from typing import Any

from typing_extensions import override

from conch.client.adapters import native
from conch.client.adapters.base import (
    Adapter,
    ApiKeyHeader,
    Link,
    first,
    invert,
    json_object,
    member,
    raised,
    refuse_unsupported,
    submitted_id,
)
from conch.client.effects import Answer, Call
from conch.client.status import Failure, Page, State, Status, state_of
from conch.domain.errors import ErrorCode
from conch.domain.request import GenerationRequest
from conch.wire import modelverse as wire

BY_CODE = invert({code: error.code for code, error in wire.ERRORS.items()})
BY_TYPE: dict[str, ErrorCode] = {
    **invert({code: error.type for code, error in wire.ERRORS.items()}),
    # Types only the real Modelverse sends.
    "param_error": ErrorCode.INVALID_PARAMS,
    "model_error": ErrorCode.INVALID_PARAMS,
    "timeout": ErrorCode.INTERNAL,
    "gateway_timeout_error": ErrorCode.INTERNAL,
}
BY_HTTP_STATUS = invert({code: error.http_status for code, error in wire.ERRORS.items()})

CARRIED = {"prompt_optimizer", "fast_pretreatment", "aigc_watermark"}
"""The optional fields a Modelverse submit can carry."""


class ModelverseAdapter(Adapter):
    """Modelverse's calls."""

    dialect = wire.DIALECT

    def __init__(self, api_key: str) -> None:
        self.credentials = ApiKeyHeader(api_key, bearer=False)

    def submit_call(self, request: GenerationRequest) -> Call:
        refuse_unsupported(request, self.dialect, CARRIED)
        body = wire.ModelverseSubmitBody(
            model=request.model,
            input=wire.SubmitInput(
                prompt=request.prompt,
                first_frame_image=request.first_frame_image,
                last_frame_image=request.last_frame_image,
            ),
            parameters=wire.SubmitParameters(
                duration=request.duration,
                resolution=request.resolution,
                prompt_optimizer=request.prompt_optimizer,
                fast_pretreatment=request.fast_pretreatment,
                aigc_watermark=request.aigc_watermark,
            ),
        )
        return Call("POST", wire.SUBMIT_PATH, json=body.model_dump(exclude_none=True))

    def submitted(self, answer: Answer) -> str:
        task_id = member(self._checked(answer).get("output"), "task_id")
        return submitted_id(task_id, "output.task_id", self.dialect, answer)

    def status_call(self, task_id: str) -> Call:
        return Call("GET", wire.STATUS_PATH, params={"task_id": task_id})

    def status(self, task_id: str, answer: Answer) -> Status:
        body = self._checked(answer)
        output = body.get("output")
        output = output if isinstance(output, dict) else {}
        provider_status = str(output.get("task_status", ""))
        state = state_of(provider_status, wire.STATUS_NAMES)
        urls = output.get("urls")
        urls = urls if isinstance(urls, list) else []
        failure = Failure(str(output.get("error_message") or "")) if state is State.FAILED else None
        return Status(
            task_id=str(output.get("task_id") or task_id),
            state=state,
            provider_status=provider_status,
            raw=body,
            video_urls=tuple(url for url in urls if isinstance(url, str)),
            failure=failure,
        )

    def link_call(self, status: Status) -> Call:
        return self.status_call(status.task_id)  # every status answer signs fresh links

    @override
    def link(self, status: Status, answer: Answer) -> Link:
        url = first(member(self._checked(answer).get("output"), "urls"))
        if url is None:
            raise raised(
                ErrorCode.NOT_FOUND, "the task has no video urls", self.dialect, None, answer
            )
        return Link(url)

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
        error = body.get("error")
        if answer.http_status < 400 and not error:
            return body
        error = error if isinstance(error, dict) else {}
        code = str(error.get("code") or "")
        canonical = (
            BY_CODE.get(code)
            or BY_TYPE.get(str(error.get("type") or ""))
            or BY_HTTP_STATUS.get(answer.http_status)
            or (ErrorCode.INVALID_PARAMS if answer.http_status < 500 else ErrorCode.INTERNAL)
        )
        if answer.http_status in (408, 504):  # the provider's own timeouts pass
            canonical = ErrorCode.INTERNAL
        message = str(error.get("message") or f"HTTP {answer.http_status}")
        raise raised(canonical, message, self.dialect, code or error.get("type"), answer)
