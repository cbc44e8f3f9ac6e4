"""What every dialect's adapter offers, and the parts they share.

An adapter translates and never does I/O: it builds :class:`Call` s from conch's canonical
request and reads :class:`Answer` s back into :class:`Status`, :class:`Link` or errors. The
wire tables it reads with (status names, error codes) are the server's own, imported from
``conch.api``, so the SDK and the server cannot disagree.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel
from typing_extensions import override

from conch.client.effects import Answer, Call, Sleep
from conch.client.errors import ProviderError, provider_error
from conch.client.status import Page, Status
from conch.domain.errors import ErrorCode, InvalidParams
from conch.domain.request import GenerationRequest, ImageRole

W = TypeVar("W", bound=Hashable)

PREFERENCE: tuple[ErrorCode, ...] = (
    ErrorCode.INVALID_PARAMS,
    ErrorCode.INVALID_API_KEY,
    ErrorCode.RATE_LIMITED,
    ErrorCode.INSUFFICIENT_BALANCE,
    ErrorCode.SENSITIVE_CONTENT,
    ErrorCode.NOT_FOUND,
    ErrorCode.INTERNAL,
    ErrorCode.MALFORMED_REQUEST,
    ErrorCode.UNAUTHORIZED,
)
"""Which canonical code a wire code reads back as when it stands for several: the most
general first, and a bad key over a missing one (the SDK always sends credentials)."""


def invert(table: Mapping[ErrorCode, W]) -> dict[W, ErrorCode]:
    """A dialect's table (canonical -> wire) read backwards (wire -> canonical)."""
    inverted: dict[W, ErrorCode] = {}
    for code in PREFERENCE:
        if code in table:
            inverted.setdefault(table[code], code)
    return inverted


@dataclass(frozen=True)
class Link:
    """Where the video can be downloaded from now, and its size when the provider says.

    ``headers`` go with the download: empty for a signed link (which may point at a CDN
    that must not see the key); the credentials for a path of the API itself (/v1/videos'
    content)."""

    url: str
    size: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)


class Credentials(Protocol):
    """How calls prove who makes them; some (Chanjing's) need a call of their own first.

    Fetching them is single-flight: while one call fetches, the others wait for its result
    rather than fetch their own (Chanjing's newest token kills the one before it).
    """

    def renewal(self) -> Call | Sleep | None:
        """What the next call needs first: None (nothing), a pause while another call
        fetches the credentials, or a call that fetches them. Whoever is given the call
        passes its answer to :meth:`renewed` and then, whatever happened, calls
        :meth:`renewal_over`."""

    def renewed(self, answer: Answer) -> None:
        """Take the renewal's answer (raise if it was refused)."""

    def renewal_over(self) -> None:
        """The renewal handed out by :meth:`renewal` ended (answered, refused or cut off):
        let the calls waiting for it go on."""

    def headers(self) -> dict[str, str]:
        """Headers that authenticate the next call."""

    def refused(self, answer: Answer, sent: Mapping[str, str]) -> bool:
        """Whether ``answer`` refused credentials that renewing can cure; a renewal is
        then prepared and the call is made once more."""


@dataclass(frozen=True)
class ApiKeyHeader(Credentials):
    """A static key in the ``Authorization`` header, with or without ``Bearer``."""

    key: str = field(repr=False)
    bearer: bool = True

    def renewal(self) -> Call | Sleep | None:
        return None

    @override
    def renewed(self, answer: Answer) -> None:
        raise AssertionError("a static key is never renewed")

    def renewal_over(self) -> None:
        pass

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}" if self.bearer else self.key}

    @override
    def refused(self, answer: Answer, sent: Mapping[str, str]) -> bool:
        return False


class Adapter(Protocol):
    """One dialect's translation of the SDK's calls."""

    dialect: str
    credentials: Credentials

    def submit_call(self, request: GenerationRequest) -> Call: ...

    def submitted(self, answer: Answer) -> str:
        """The task id in a submit answer; Internal when it has none."""

    def status_call(self, task_id: str) -> Call: ...

    def status(self, task_id: str, answer: Answer) -> Status: ...

    def link_call(self, status: Status) -> Call:
        """A call whose answer holds a fresh link to the video of a succeeded task."""

    def link(self, status: Status, answer: Answer) -> Link: ...

    def list_call(self, limit: int, after: str | None) -> Call:
        """A call for a page of the caller's tasks, newest first, after the cursor ``after``
        (a page's ``next_after``). Dialects without a list call of their own use conch's
        (:mod:`conch.client.adapters.native`)."""

    def listed(self, answer: Answer, after: str | None = None) -> Page:
        """The page a list call answered (``after``: the cursor it was asked with)."""

    def cancel_call(self, task_id: str) -> Call:
        """A call that cancels the task (conch's own, for dialects without one)."""

    def cancelled(self, task_id: str, answer: Answer) -> Status:
        """The task as the cancel left it; the refusal raised (a task that had ended)."""


def json_object(answer: Answer, dialect: str) -> dict[str, Any]:
    """The answer's JSON object; the error its HTTP status stands for when it is not one."""
    if isinstance(answer.body, dict):
        return answer.body
    shown = " ".join(answer.text.split())[:200] or "an empty body"
    code = _BY_HTTP_STATUS.get(answer.http_status, ErrorCode.INTERNAL)
    raise raised(code, f"HTTP {answer.http_status} with {shown}", dialect, None, answer)


# A body that is not the dialect's JSON (a proxy's error page) is judged by its HTTP status.
_BY_HTTP_STATUS = {
    400: ErrorCode.INVALID_PARAMS,
    401: ErrorCode.INVALID_API_KEY,
    403: ErrorCode.INVALID_API_KEY,
    404: ErrorCode.NOT_FOUND,
    429: ErrorCode.RATE_LIMITED,
}


def raised(
    code: ErrorCode, message: str, dialect: str, provider_code: int | str | None, answer: Answer
) -> ProviderError:
    """The canonical error for a provider's refusal."""
    return provider_error(
        code,
        message,
        dialect=dialect,
        provider_code=provider_code,
        http_status=answer.http_status,
        raw=answer.body if answer.body is not None else answer.text,
    )


def refuse_unsupported(request: GenerationRequest, dialect: str, carried: set[str]) -> None:
    """InvalidParams for the first field the dialect cannot carry that is not at its default.

    A dialect without a field would silently produce something else than was asked for.
    """
    asked = {
        ImageRole.SUBJECT.value: request.subject_image is not None,
        "prompt_optimizer": not request.prompt_optimizer,
        "fast_pretreatment": request.fast_pretreatment,
        "aigc_watermark": request.aigc_watermark,
        "callback_url": request.callback_url is not None,
    }
    for name, given in asked.items():
        if given and name not in carried:
            raise InvalidParams(f"cannot be sent in the {dialect} dialect", field=name)


def submitted_id(value: Any, named: str, dialect: str, answer: Answer) -> str:
    """The task id a submit was answered with; Internal when the answer has none (the task
    may exist all the same: the caller is told so, see :func:`conch.client.flows.submit`)."""
    if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
        raise raised(ErrorCode.INTERNAL, f"the submit answer has no {named}", dialect, None, answer)
    return str(value).strip()


def member(value: Any, name: str) -> Any:
    """``value[name]`` when ``value`` is a JSON object, else None: answers are read without
    trusting their shape."""
    return value.get(name) if isinstance(value, dict) else None


def first(items: Any) -> str | None:
    """The first string of a list (``urls``, ``output_url``), if any."""
    if isinstance(items, list) and items and isinstance(items[0], str):
        return items[0]
    return None


def without_defaults(body: BaseModel) -> dict[str, Any]:
    """A request body as JSON, leaving out top-level fields left at their defaults.

    Strict providers refuse fields a model does not take (``fast_pretreatment`` off the
    Hailuo models); nested values are kept whole (``{"type": "character", ...}``).
    """
    fields = type(body).model_fields
    left = {
        name
        for name, spec in fields.items()
        if not spec.is_required() and getattr(body, name) == spec.get_default()
    }
    return body.model_dump(exclude=left, exclude_none=True)
