"""conch's own task list and cancel (:mod:`conch.wire.native`), for dialects that have no
such call of their own (MiniMax, QuickRouter, Modelverse; Chanjing has no cancel) when the
server is conch."""

from __future__ import annotations

from pydantic import ValidationError

from conch.client.adapters.base import json_object, member, raised
from conch.client.effects import Answer, Call
from conch.client.errors import Unsupported
from conch.client.status import STATES, Failure, Page, State, Status
from conch.domain.errors import ErrorCode
from conch.domain.task import TaskStatus
from conch.wire.native import CANCEL_PATH, MAX_PAGE_SIZE, TASKS_PATH, TaskPage, TaskView

_CODES = {code.value: code for code in ErrorCode}
_STATUSES = {status.value: status for status in TaskStatus}


def list_call(limit: int, after: str | None) -> Call:
    """The call for one page of at most ``limit`` tasks, after task ``after``."""
    params = {"limit": str(max(1, min(limit, MAX_PAGE_SIZE)))}
    if after is not None:
        params["after"] = after
    return Call("GET", TASKS_PATH, params=params)


def listed(answer: Answer, dialect: str) -> Page:
    """The page in a task-list answer; Unsupported when the server has no such call."""
    body = _checked(answer, dialect, ("task list", f"GET {TASKS_PATH}", "lists tasks"))
    try:
        page = TaskPage.model_validate(body)
    except ValidationError as invalid:
        shown = f"not a task list: {invalid}"
        raise raised(ErrorCode.INTERNAL, shown, dialect, None, answer) from None
    return Page([_status(view) for view in page.tasks], page.next_after)


def cancel_call(task_id: str) -> Call:
    """The call that cancels task ``task_id``."""
    return Call("POST", CANCEL_PATH.format(task_id=task_id))


def cancelled(answer: Answer, dialect: str) -> Status:
    """The task a cancel answered with; Unsupported when the server has no such call."""
    body = _checked(answer, dialect, ("cancel call", f"POST {CANCEL_PATH}", "cancels tasks"))
    try:
        view = TaskView.model_validate(body)
    except ValidationError as invalid:
        shown = f"not a task: {invalid}"
        raise raised(ErrorCode.INTERNAL, shown, dialect, None, answer) from None
    return _status(view)


def _checked(answer: Answer, dialect: str, missing: tuple[str, str, str]) -> object:
    """The answer's body, or the refusal in it raised; Unsupported for a 404 that is not
    conch's (the server has no such call: ``missing`` names it, its route, what it does)."""
    name, call, does = missing
    body = json_object(answer, dialect) if answer.http_status != 404 else answer.body
    error = member(body, "error")
    if answer.http_status == 404 and not isinstance(error, dict):
        raise Unsupported(
            f"the server has no {name} ({call} answered 404): the {dialect} dialect has no "
            f"call that {does}, and only conch adds one"
        )
    if answer.http_status >= 400:
        code = _CODES.get(str(member(error, "code")), ErrorCode.INTERNAL)
        message = str(member(error, "message") or f"HTTP {answer.http_status}")
        raise raised(code, message, dialect, member(error, "code"), answer)
    return body


def _status(view: TaskView) -> Status:
    status = _STATUSES.get(view.status)
    state = STATES[status] if status is not None else State.RUNNING
    failure = None
    if view.error is not None:
        failure = Failure(view.error.message, _CODES.get(view.error.code), view.error.code)
    return Status(
        task_id=view.task_id,
        state=state,
        provider_status=view.status,
        raw=view.model_dump(),
        file_id=view.file_id,
        progress=view.progress / 100,
        failure=failure,
        model=view.model,
        mode=view.mode,
        prompt=view.prompt,
        duration=view.duration,
        resolution=view.resolution,
        created_at=view.created_at,
    )
