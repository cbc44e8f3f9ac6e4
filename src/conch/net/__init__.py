"""Outbound HTTP that cannot be turned against the host conch runs on.

Every request conch makes to a URL a user named goes through here: image downloads
(:func:`fetch`) and callbacks (:func:`post_json`). The rules live in
:class:`OutboundPolicy`; failures are :class:`OutboundError` (see :mod:`conch.net.errors`),
which callers translate into their own errors.
"""

from conch.net.errors import (
    BadStatus,
    BadUrl,
    BlockedAddress,
    ConnectFailed,
    DeadlineExceeded,
    EncodedBody,
    OutboundError,
    TooLarge,
    TooManyRedirects,
    TransferFailed,
)
from conch.net.policy import OutboundPolicy, check_address
from conch.net.resolver import Resolver, system_resolver
from conch.net.safe_http import OutboundResponse, fetch, post_json

__all__ = [
    "BadStatus",
    "BadUrl",
    "BlockedAddress",
    "ConnectFailed",
    "DeadlineExceeded",
    "EncodedBody",
    "OutboundError",
    "OutboundPolicy",
    "OutboundResponse",
    "Resolver",
    "TooLarge",
    "TooManyRedirects",
    "TransferFailed",
    "check_address",
    "fetch",
    "post_json",
    "system_resolver",
]
