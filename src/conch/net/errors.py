"""The outbound guard's own exceptions.

Every failure of an outbound request is an :class:`OutboundError` whose ``reason`` reads as
the end of a sentence ("address 10.0.0.5 is private (10.0.0.0/8)"). They never reach an API
caller as they are: each caller translates them into its own terms (the image fetcher into
``InvalidParams``, the callback code into a refused handshake).

    OutboundError
    ├── BadUrl             not an absolute http(s) URL, or a host form we refuse to guess at
    ├── BlockedAddress     the host resolves to an address the policy forbids
    ├── ConnectFailed      the name did not resolve, or no checked address accepted a
    │                      connection (refused, connect timeout, TLS failure)
    ├── TransferFailed     the connection broke or the peer spoke broken HTTP
    ├── DeadlineExceeded   the whole exchange outlasted its deadline
    ├── TooLarge           the response body is over its byte cap
    ├── EncodedBody        the body came compressed (Content-Encoding), which is refused
    ├── BadStatus          the final response is not a 2xx (``status`` holds it)
    └── TooManyRedirects   a GET was redirected more often than allowed
"""

from __future__ import annotations


class OutboundError(Exception):
    """Base of every outbound failure; ``reason`` says what went wrong, for a human."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BadUrl(OutboundError):
    """The URL is not one the guard will request."""


class BlockedAddress(OutboundError):
    """The host resolves to an address the policy forbids."""


class ConnectFailed(OutboundError):
    """No connection could be made to a checked address."""


class TransferFailed(OutboundError):
    """The connection broke, or the peer's HTTP could not be read."""


class DeadlineExceeded(OutboundError):
    """The exchange did not finish within its overall deadline."""


class TooLarge(OutboundError):
    """The response body is larger than its byte cap."""


class EncodedBody(OutboundError):
    """The body came with a Content-Encoding (gzip, ...): its decoded size is unbounded."""


class BadStatus(OutboundError):
    """The final response's status is not a success."""

    def __init__(self, reason: str, status: int) -> None:
        super().__init__(reason)
        self.status = status


class TooManyRedirects(OutboundError):
    """A GET was redirected more often than allowed."""
