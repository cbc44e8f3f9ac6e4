"""The Chanjing dialect (``api-notes.md`` §4): an app's ``app_id`` + ``secret_key`` traded
for an ``access_token`` (kept, and renewed before its ``expire_in``), answers that are all
HTTP 200 with a ``code``, ``clarity`` 720 for Hailuo's 768P tier, and fresh signed
``output_url`` links in every query of a task that succeeded.

Issuing a token kills the app's previous one, so a token is fetched by one call at a time
(the others wait for it), and shared through a file with the other processes of this
machine that use the app (:mod:`conch.client.token_cache`). When a call is refused with
10400 all the same (another machine issued a token), a new one is issued and the call made
once more.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from typing_extensions import override

from conch.client.adapters import native
from conch.client.adapters.base import (
    Adapter,
    Credentials,
    Link,
    first,
    invert,
    json_object,
    member,
    raised,
    refuse_unsupported,
    submitted_id,
)
from conch.client.effects import Answer, Call, Sleep
from conch.client.status import Failure, Page, State, Status, state_of
from conch.client.token_cache import SharedToken, TokenFile
from conch.domain.catalog import Resolution
from conch.domain.errors import ErrorCode, InvalidParams
from conch.domain.request import DEFAULT_DURATION, GenerationRequest
from conch.wire import chanjing as wire
from conch.wire.chanjing import APP_ID_FIELD, SECRET_FIELD, TOKEN_FIELD

READ_CODES = invert({code: int(value) for code, value in wire.CODES.items()})
"""Chanjing ``code`` -> canonical error."""

CLARITIES: dict[Resolution, int] = {tier: clarity for clarity, tier in wire.CLARITY_TIERS.items()}
"""Hailuo's tier -> ``clarity``."""

CARRIED = {"callback_url"}
"""The optional fields a Chanjing submit can carry."""

RENEW_MARGIN = 300.0
"""Renew a token this many seconds before it expires (a tenth of its life if shorter)."""

RENEWAL_WAIT = Sleep(0.05)
"""The pause of a call waiting for a token another call (or process) is fetching."""


class ChanjingToken(Credentials):
    """An app's access token: issued on first use, renewed before it expires, fetched by
    one call at a time, and shared through ``shared`` with this machine's other processes.
    """

    def __init__(
        self,
        app_id: str,
        secret_key: str,
        *,
        shared: TokenFile | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app_id, self.secret_key, self.clock = app_id, secret_key, clock
        self.shared = shared
        self.token: str | None = None
        self.renew_at = 0.0
        self.renewing = False
        """Whether a call of this process is fetching a token now."""
        self._refused: str | None = None  # the last token refused: never taken from the file
        self._lock = threading.Lock()  # threads sharing a Client decide one at a time

    def __repr__(self) -> str:
        return f"ChanjingToken(app_id={self.app_id!r})"

    def renewal(self) -> Call | Sleep | None:
        with self._lock:
            if self.token is not None and self.clock() < self.renew_at:
                return None
            if self.renewing:
                return RENEWAL_WAIT  # another call of this process is fetching one
            if self.shared is not None:
                if not self.shared.lock():
                    return RENEWAL_WAIT  # another process is fetching one
                if self._adopt(self.shared.read()):
                    self.shared.unlock()
                    return None
            self.renewing = True  # the file's lock, if any, is held until renewal_over
        body = {APP_ID_FIELD: self.app_id, SECRET_FIELD: self.secret_key}
        return Call("POST", wire.TOKEN_PATH, json=body)

    def renewed(self, answer: Answer) -> None:
        data = member(checked(answer), "data")
        token, expires = member(data, TOKEN_FIELD), member(data, "expire_in")
        if not isinstance(token, str) or not isinstance(expires, int | float):
            raise raised(
                ErrorCode.INTERNAL, "no access_token in the answer", wire.DIALECT, None, answer
            )
        now = self.clock()
        self.token = token
        self.renew_at = expires - min(RENEW_MARGIN, max(0.0, expires - now) / 10)
        if self.shared is not None:
            self.shared.write(SharedToken(token, self.renew_at))

    def renewal_over(self) -> None:
        with self._lock:
            self.renewing = False
            if self.shared is not None:
                self.shared.unlock()

    def headers(self) -> dict[str, str]:
        return {TOKEN_FIELD: self.token or ""}

    def refused(self, answer: Answer, sent: Mapping[str, str]) -> bool:
        if member(answer.body, "code") != wire.Code.TOKEN_INVALID:
            return False
        with self._lock:
            if sent.get(TOKEN_FIELD) == self.token:
                self._refused = self.token
                self.token = None  # dead: issue another (unless a newer one already came)
        return True

    def _adopt(self, shared: SharedToken | None) -> bool:
        """Take the token another process shared, unless it was refused here or is due for
        renewal."""
        if shared is None or shared.token == self._refused or self.clock() >= shared.renew_at:
            return False
        self.token, self.renew_at = shared.token, shared.renew_at
        return True


class ChanjingAdapter(Adapter):
    """Chanjing's calls."""

    dialect = wire.DIALECT

    def __init__(self, app_id: str, secret_key: str, *, shared: TokenFile | None = None) -> None:
        self.credentials = ChanjingToken(app_id, secret_key, shared=shared)

    def submit_call(self, request: GenerationRequest) -> Call:
        refuse_unsupported(request, self.dialect, CARRIED)
        body = wire.ChanjingSubmitBody(
            start_frame=request.first_frame_image,
            end_frame=request.last_frame_image,
            ref_prompt=request.prompt,
            creation_type=wire.VIDEO,
            video_duration=request.duration or DEFAULT_DURATION,  # required by Chanjing
            model_code=request.model,
            callback=request.callback_url,
            clarity=_clarity(request.resolution),
        )
        return Call("POST", wire.SUBMIT_PATH, json=body.model_dump(exclude_none=True))

    def submitted(self, answer: Answer) -> str:
        return submitted_id(member(checked(answer), "data"), "data", self.dialect, answer)

    def status_call(self, task_id: str) -> Call:
        return Call("GET", wire.TASK_PATH, params={"unique_id": task_id})

    def status(self, task_id: str, answer: Answer) -> Status:
        data = member(checked(answer), "data")
        return task_status(data if isinstance(data, dict) else {}, task_id)

    def link_call(self, status: Status) -> Call:
        return self.status_call(status.task_id)  # every query signs fresh links

    @override
    def link(self, status: Status, answer: Answer) -> Link:
        url = first(member(member(checked(answer), "data"), "output_url"))
        if url is None:
            raise raised(
                ErrorCode.NOT_FOUND, "the task has no output_url", self.dialect, None, answer
            )
        return Link(url)

    def list_call(self, limit: int, after: str | None) -> Call:
        # Chanjing pages by number: the cursor is the number of the page to ask for.
        page = int(after) if after is not None and after.isdigit() else 1
        size = max(1, min(limit, wire.MAX_PAGE_SIZE))
        body = wire.PageBody(type=wire.VIDEO, page=page, page_size=size)
        return Call("POST", wire.PAGE_PATH, json=body.model_dump(exclude_none=True))

    @override
    def listed(self, answer: Answer, after: str | None = None) -> Page:
        data = member(checked(answer), "data")
        tasks = member(data, "list")
        listed = tasks if isinstance(tasks, list) else []
        found = [task_status(task, "") for task in listed if isinstance(task, dict)]
        return Page(found, _next_page(member(data, "page_info")))

    def cancel_call(self, task_id: str) -> Call:
        return native.cancel_call(task_id)  # Chanjing has none: conch's, with the token

    @override
    def cancelled(self, task_id: str, answer: Answer) -> Status:
        return native.cancelled(answer, self.dialect)


def task_status(task: dict[str, Any], task_id: str) -> Status:
    """A Chanjing task object as a status."""
    provider_status = str(task.get("progress_desc", ""))
    state = state_of(provider_status, wire.PROGRESS_DESC)
    urls = task.get("output_url")
    failure = Failure(str(task.get("err_msg") or "")) if state is State.FAILED else None
    motion = task.get("motion_info")
    return Status(
        task_id=str(task.get("unique_id") or task_id),
        state=state,
        provider_status=provider_status,
        raw=task,
        video_urls=_strings(urls),
        failure=failure,
        model=_text(task.get("model_code")),
        prompt=_text(member(motion, "ref_prompt")),
        duration=_number(member(motion, "video_duration")),
        created_at=_number(task.get("create_time")),
    )


def _next_page(page_info: Any) -> str | None:
    page, pages = _number(member(page_info, "page")), _number(member(page_info, "total_page"))
    return str(page + 1) if page is not None and pages is not None and page < pages else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _number(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _strings(items: Any) -> tuple[str, ...]:
    return tuple(item for item in items if isinstance(item, str)) if isinstance(items, list) else ()


def checked(answer: Answer) -> dict[str, Any]:
    """The answer's envelope when its ``code`` is 0; the refusal raised otherwise."""
    body = json_object(answer, wire.DIALECT)
    code = body.get("code")
    if code == wire.Code.OK:
        return body
    if not isinstance(code, int) or isinstance(code, bool):
        raise raised(ErrorCode.INTERNAL, "the answer has no code", wire.DIALECT, None, answer)
    message = str(body.get("msg") or "")
    raise raised(READ_CODES.get(code, ErrorCode.INTERNAL), message, wire.DIALECT, code, answer)


def _clarity(resolution: str | None) -> int:
    if resolution is None:  # the model's default tier
        default: int = wire.ChanjingSubmitBody.model_fields["clarity"].get_default()
        return default
    tier = Resolution.parse(resolution)
    if tier not in CLARITIES:
        named = ", ".join(f"{t.value} (clarity {c})" for t, c in CLARITIES.items())
        raise InvalidParams(f"Chanjing offers {named}, got {resolution}", field="resolution")
    return CLARITIES[tier]
