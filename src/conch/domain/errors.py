"""The one error tree of conch.

Every error a caller can see is a :class:`ConchError`. Each subclass carries a canonical
:class:`ErrorCode`; each dialect holds one table mapping those codes to its own wire codes
(MiniMax ``base_resp.status_code``, Modelverse HTTP status + ``error.type``, Chanjing
``code``). Nothing outside ``conch.api`` knows a wire code.

    ConchError
    ├── InvalidParams          the request breaks a documented rule (2013)
    │   ├── MalformedRequest   the body is not JSON, or not the documented shape
    │   └── EngineCannotServe  no configured engine can serve this model and mode
    ├── Unauthorized           no credentials at all (1004)
    ├── InvalidApiKey          credentials given but unknown, revoked or expired (2049)
    ├── RateLimited            too many requests (1002)
    ├── InsufficientBalance    the key's quota is spent (1008)
    ├── SensitiveContent       the input was refused by a content check (1026)
    ├── NotFound               no such task or file for this caller
    └── Internal               conch failed; the caller did nothing wrong (1000)

A message says what was wrong and what is allowed. When the error concerns one request
field, ``field`` names it canonically (MiniMax's spelling) and ``detail`` says the rest, so
that a dialect can name the field the way its callers spell it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar


class ErrorCode(StrEnum):
    """Canonical error codes; dialects map these, never the classes' names."""

    INVALID_PARAMS = "invalid_params"
    MALFORMED_REQUEST = "malformed_request"
    UNAUTHORIZED = "unauthorized"
    INVALID_API_KEY = "invalid_api_key"
    RATE_LIMITED = "rate_limited"
    INSUFFICIENT_BALANCE = "insufficient_balance"
    SENSITIVE_CONTENT = "sensitive_content"
    NOT_FOUND = "not_found"
    INTERNAL = "internal"


class ConchError(Exception):
    """Base of every error a caller can see."""

    code: ClassVar[ErrorCode] = ErrorCode.INTERNAL

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field

    def message(self, field_name: str | None = None) -> str:
        """The full message, naming the field as ``field_name`` (default: canonical)."""
        name = field_name or self.field
        return f"{name}: {self.detail}" if name else self.detail


class InvalidParams(ConchError):
    """The request breaks a documented rule."""

    code = ErrorCode.INVALID_PARAMS


class MalformedRequest(InvalidParams):
    """The body could not be read as the documented JSON at all."""

    code = ErrorCode.MALFORMED_REQUEST


class EngineCannotServe(InvalidParams):
    """The model and mode are legal, but no engine configured here can produce them."""


class Unauthorized(ConchError):
    """No credentials were sent."""

    code = ErrorCode.UNAUTHORIZED


class InvalidApiKey(ConchError):
    """Credentials were sent but are unknown, revoked or expired."""

    code = ErrorCode.INVALID_API_KEY


class RateLimited(ConchError):
    """The caller sent more requests than its limit allows; ``retry_after`` is how many
    seconds until it may try again, when known."""

    code = ErrorCode.RATE_LIMITED

    def __init__(self, detail: str, *, retry_after: float | None = None, **options: Any) -> None:
        # Cooperative: the SDK mixes this class with its ProviderError, which takes more.
        super().__init__(detail, **options)
        self.retry_after = retry_after


class InsufficientBalance(ConchError):
    """The caller's quota is spent."""

    code = ErrorCode.INSUFFICIENT_BALANCE


class SensitiveContent(ConchError):
    """A content check refused the input."""

    code = ErrorCode.SENSITIVE_CONTENT


class NotFound(ConchError):
    """No such task or file is visible to this caller."""

    code = ErrorCode.NOT_FOUND


class Internal(ConchError):
    """conch failed; the caller did nothing wrong."""

    code = ErrorCode.INTERNAL
