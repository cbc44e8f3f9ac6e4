"""What the caller is told when an upstream refuses or fails, and what the operator is told.

The caller sees conch's own error in its dialect: the upstream's sensitive-content codes as
its sensitive code, an invalid-parameter answer as invalid params, and for everything that
is the operator's business (a bad key, no balance, an upstream that never finished) a
generic failure. The upstream's own words go to the log and to the call's record (``conch
tasks show``), never to the caller when they concern the operator's account.
"""

from __future__ import annotations

from conch.client.errors import ProviderError
from conch.client.status import Failure
from conch.domain.errors import (
    ConchError,
    ErrorCode,
    Internal,
    InvalidParams,
    SensitiveContent,
)

THE_CALLERS = frozenset({ErrorCode.INVALID_PARAMS, ErrorCode.SENSITIVE_CONTENT})
"""Refusals about the request itself: another upstream would refuse it too."""
THE_OPERATORS = frozenset(
    {ErrorCode.INVALID_API_KEY, ErrorCode.UNAUTHORIZED, ErrorCode.INSUFFICIENT_BALANCE}
)
"""Refusals about the operator's account with the upstream."""

GENERIC = "the video could not be made: the upstream service could not take the task"


class RelayGaveUp(ConchError):
    """A relayed task that ends failed for a reason retrying here would not change: the
    upstream refused the operator's account, never finished, or may hold the task."""

    code = ErrorCode.INTERNAL


def callers_error(code: ErrorCode | None, detail: str) -> ConchError | None:
    """The caller's error for an upstream refusal about the request itself, else None."""
    if code is ErrorCode.SENSITIVE_CONTENT:
        return SensitiveContent(f"the upstream refused the content: {detail}".rstrip(": "))
    if code is ErrorCode.INVALID_PARAMS:
        return InvalidParams(f"the upstream refused the request: {detail}".rstrip(": "))
    return None


def operator_reason(upstream: str, error: BaseException) -> str:
    """The upstream's refusal in words for the operator (no credentials: the SDK's errors
    carry the provider's message and code, never the request's headers)."""
    if isinstance(error, ProviderError):
        code, status = error.provider_code, error.http_status
        return f"{upstream} refused ({code}, HTTP {status}): {error.detail}"
    return f"{upstream}: {type(error).__name__}: {error}"


def failed_upstream(failure: Failure | None) -> ConchError:
    """The caller's error for an upstream task that ended failed."""
    reason = failure.reason if failure else None
    words = failure.message if failure and failure.message else "no reason given"
    mapped = callers_error(reason, words)
    if mapped is not None:
        return mapped
    if reason in THE_OPERATORS:
        return RelayGaveUp(GENERIC)
    return Internal(f"the upstream task failed ({words}); it may be tried again")
