"""What the SDK raises: conch's one error tree (:mod:`conch.domain.errors`), extended.

When a provider refuses a call, the SDK raises the canonical class for the provider's code
(``InvalidParams``, ``InvalidApiKey``, ``RateLimited``, ...), as a :class:`ProviderError`
that also carries what the provider said. The rest are the client's own::

    ConchError
    ├── InvalidParams, InvalidApiKey, ... (and each of them also a ProviderError when a
    │                                      provider answered it: dialect, provider_code,
    │                                      detail (the provider's message), http_status, raw)
    ├── TaskFailed            the task ended failed; why, in the provider's words
    ├── WaitTimeout           the task had not ended when the wait ran out: wait again later
    ├── DownloadFailed        the video could not be fetched, even from fresh links
    ├── ServiceUnreachable    the service did not answer, through every retry
    │   └── SubmitUnconfirmed a submit got no answer, or a failure (5xx, timeout, internal
    │                         error) that does not say it was refused: the task may exist
    └── Unsupported           the dialect has no such call (MiniMax cannot list tasks)

So ``except InvalidApiKey`` catches a bad key from any provider, and ``except ProviderError``
anything a provider refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conch.client.status import Status
from conch.domain.errors import (
    ConchError,
    ErrorCode,
    InsufficientBalance,
    Internal,
    InvalidApiKey,
    InvalidParams,
    MalformedRequest,
    NotFound,
    RateLimited,
    SensitiveContent,
    Unauthorized,
)

CANONICAL: Mapping[ErrorCode, type[ConchError]] = {
    error.code: error
    for error in (
        InvalidParams,
        MalformedRequest,
        Unauthorized,
        InvalidApiKey,
        RateLimited,
        InsufficientBalance,
        SensitiveContent,
        NotFound,
        Internal,
    )
}
"""Each canonical code's class."""

TRANSIENT = frozenset({ErrorCode.INTERNAL, ErrorCode.RATE_LIMITED})
"""Refusals that asking again later can cure (on reads only: a resubmit pays twice)."""


class ProviderError(ConchError):
    """A refusal in the provider's words; raised as the canonical class too.

    ``provider_code`` is the provider's own code (``2049``, ``"invalid_api_key"``, ``10400``),
    ``detail`` its message, ``http_status`` the answer's HTTP status and ``raw`` the answer.
    """

    def __init__(
        self,
        detail: str,
        *,
        dialect: str,
        provider_code: int | str | None,
        http_status: int,
        raw: Any,
    ) -> None:
        super().__init__(detail)
        self.dialect = dialect
        self.provider_code = provider_code
        self.http_status = http_status
        self.raw = raw

    @property
    def transient(self) -> bool:
        """Whether asking again later may succeed."""
        return self.code in TRANSIENT

    def __str__(self) -> str:
        return f"{self.dialect} refused the call ({self.provider_code}): {self.detail}"

    def __reduce__(self) -> tuple[Any, ...]:
        # The class is made at run time: pickle the recipe, not the class.
        return (
            _rebuild,
            (self.code, self.detail, self.dialect, self.provider_code, self.http_status, self.raw),
        )


_PROVIDER_CLASSES: dict[type[ConchError], type[ProviderError]] = {}


def _provider_class(canonical: type[ConchError]) -> type[ProviderError]:
    """``canonical`` and ProviderError in one class, made once."""
    if canonical not in _PROVIDER_CLASSES:
        name = canonical.__name__
        made = type(name, (canonical, ProviderError), {"__doc__": canonical.__doc__})
        made.__module__ = __name__
        _PROVIDER_CLASSES[canonical] = made
    return _PROVIDER_CLASSES[canonical]


def provider_error(
    code: ErrorCode,
    message: str,
    *,
    dialect: str,
    provider_code: int | str | None,
    http_status: int,
    raw: Any,
) -> ProviderError:
    """The canonical error for ``code``, carrying what the provider answered."""
    cls = _provider_class(CANONICAL.get(code, Internal))
    return cls(
        message, dialect=dialect, provider_code=provider_code, http_status=http_status, raw=raw
    )


def _rebuild(
    code: ErrorCode,
    message: str,
    dialect: str,
    provider_code: int | str | None,
    http_status: int,
    raw: Any,
) -> ProviderError:
    return provider_error(
        code,
        message,
        dialect=dialect,
        provider_code=provider_code,
        http_status=http_status,
        raw=raw,
    )


class TaskFailed(ConchError):
    """The task ended failed; ``status.failure`` says why, as the provider put it."""

    def __init__(self, status: Status) -> None:
        failure = status.failure
        reason = failure.message if failure and failure.message else "no reason given"
        super().__init__(f"task {status.task_id} failed: {reason}")
        self.status = status
        self.task_id = status.task_id
        self.reason = failure.reason if failure else None
        self.provider_code = failure.provider_code if failure else None


class WaitTimeout(ConchError):
    """The task had not ended in time. It is still the provider's: wait for it again."""

    def __init__(self, task_id: str, waited: float, last: Status | None) -> None:
        seen = f"; it was {last.state} ({last.provider_status})" if last else ""
        super().__init__(
            f"task {task_id} had not ended after {waited:.0f} s{seen}; wait for it again "
            "with its task id rather than submitting again (a new task is paid again)"
        )
        self.task_id = task_id
        self.last = last


class DownloadFailed(ConchError):
    """The video could not be downloaded (refused even from fresh links, or cut short)."""


class ServiceUnreachable(ConchError):
    """The service did not answer (connection or timeout), through every retry."""


class SubmitUnconfirmed(ServiceUnreachable):
    """A submit was sent but neither accepted nor refused: its answer was lost, or was a
    failure (a 5xx, a timeout, an internal error) that does not say the task was not made.

    It is never retried, and must not be by the caller either: the task may exist, and a
    second submit is a second task, paid for again. Look for it first (``conch tasks
    list``, or the provider's console).
    """


class Unsupported(ConchError):
    """The dialect has no call for this (e.g. listing tasks on MiniMax or Modelverse)."""
