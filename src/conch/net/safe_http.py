"""Outbound requests to URLs users name: GETs for images, POSTs for callbacks.

Every exchange here:

- resolves the host once and connects only to an address the policy allowed
  (:mod:`conch.net.targets`); the name travels in the ``Host`` header and, for https, in
  TLS SNI and certificate verification;
- runs under one overall deadline (``asyncio.timeout``) that covers the lookup, every
  redirect hop and every byte of every body, so a server trickling bytes cannot stretch
  it; the connect step also has its own, shorter timeout;
- reads at most a byte cap of body, refusing a larger ``Content-Length`` up front, and reads
  it raw: conch asks for ``Accept-Encoding: identity`` and a GET refuses any other
  ``Content-Encoding`` (a few KB of gzip can inflate to gigabytes past the cap);
- ignores proxy and netrc settings from the environment (a proxy would do its own lookup);
- uses a fresh connection per hop, so no connection verified for one name serves another.

GETs follow up to ``max_redirects`` redirects, each hop pinned and checked anew; POSTs
never follow one (the caller sees the 3xx). A POST's answer is decided by its status: once
the status is in, a body over the cap or still arriving at the deadline is cut short
(``OutboundResponse.cut_short``) rather than failing the exchange. Failures are
:mod:`conch.net.errors`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, replace

import httpx

from conch.net.errors import (
    BadStatus,
    BadUrl,
    BlockedAddress,
    ConnectFailed,
    DeadlineExceeded,
    EncodedBody,
    TooLarge,
    TooManyRedirects,
    TransferFailed,
)
from conch.net.policy import OutboundPolicy
from conch.net.targets import Target, display_url, pin

DEFAULT_MAX_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
"""Statuses that redirect (with a Location); 300, 304 and 305 do not."""
IDENTITY = frozenset({"", "identity"})


def is_success(status: int) -> bool:
    """Whether ``status`` is a 2xx."""
    return 200 <= status < 300


def is_redirect(status: int) -> bool:
    """Whether ``status`` redirects (a 304 Not Modified does not)."""
    return status in REDIRECT_STATUSES


@dataclass(frozen=True)
class OutboundResponse:
    """A POST's answer: its status, headers and (up to its cap) raw body."""

    status: int
    headers: httpx.Headers
    body: bytes
    """As sent: never decompressed, at most the cap."""
    cut_short: str | None = None
    """Why ``body`` is not the whole body ("over the limit of 4096 bytes"), or None."""

    @property
    def is_success(self) -> bool:
        return is_success(self.status)

    @property
    def is_redirect(self) -> bool:
        return is_redirect(self.status)

    @property
    def content_encoding(self) -> str | None:
        """The body's Content-Encoding unless it is none or identity."""
        return _encoding(self.headers)


async def fetch(
    url: str,
    policy: OutboundPolicy,
    *,
    max_bytes: int,
    deadline: float,
    max_redirects: int = DEFAULT_MAX_REDIRECTS,
) -> bytes:
    """GET ``url`` and return its body; only a 2xx at the end of the redirects counts."""
    async with _overall_deadline(deadline):
        current: str | httpx.URL = url
        for hop in range(max_redirects + 1):
            target = await _pin_hop(current, policy, hop)
            async with _exchange(target, policy, deadline, "GET") as response:
                location = _redirect_location(response)
                if location is None:
                    _require_success(response)
                    _require_identity(response)
                    return await _read_capped(response, max_bytes, policy)
            current = _join(target.url, location)
        raise TooManyRedirects(
            f"more than {max_redirects} redirects, starting at {display_url(url)}"
        )


async def post_json(
    url: str,
    body: bytes,
    policy: OutboundPolicy,
    *,
    deadline: float,
    max_response_bytes: int,
    headers: Mapping[str, str] | None = None,
) -> OutboundResponse:
    """POST ``body`` (JSON) to ``url``; any status is returned, no redirect is followed.

    The answer's body is read raw, up to ``max_response_bytes`` and within the deadline;
    past either, reading stops and ``cut_short`` says why: the status has decided.
    """
    sent_headers = httpx.Headers({"Content-Type": "application/json"})
    sent_headers.update(headers or {})
    head: OutboundResponse | None = None
    try:
        async with _overall_deadline(deadline):
            target = await pin(url, policy)
            async with _exchange(
                target, policy, deadline, "POST", content=body, headers=sent_headers
            ) as response:
                head = OutboundResponse(response.status_code, response.headers, b"")
                answer, cut_short = await _read_up_to(response.aiter_raw(), max_response_bytes)
                return replace(head, body=answer, cut_short=cut_short)
    except DeadlineExceeded:
        if head is None:
            raise
        return replace(head, cut_short=f"still arriving after {deadline:g} s")
    except TransferFailed as broken:
        if head is None:
            raise
        return replace(head, cut_short=f"broken off ({broken.reason})")


@asynccontextmanager
async def _overall_deadline(seconds: float) -> AsyncIterator[None]:
    try:
        async with asyncio.timeout(seconds):
            yield
    except TimeoutError:
        raise DeadlineExceeded(f"the exchange did not finish within {seconds:g} s") from None


async def _pin_hop(url: str | httpx.URL, policy: OutboundPolicy, hop: int) -> Target:
    try:
        return await pin(url, policy)
    except (BadUrl, BlockedAddress) as exc:
        if hop == 0:
            raise
        raise type(exc)(f"redirected to {display_url(url)}: {exc.reason}") from None


@asynccontextmanager
async def _exchange(
    target: Target,
    policy: OutboundPolicy,
    deadline: float,
    method: str,
    *,
    content: bytes | None = None,
    headers: Mapping[str, str] | None = None,
) -> AsyncIterator[httpx.Response]:
    """One request to the first checked address that accepts a connection, streamed."""
    with _httpx_errors_translated():
        async with _client(policy, deadline) as client:
            response = await _send(client, target, policy, method, content, headers)
            try:
                yield response
            finally:
                await response.aclose()


def _client(policy: OutboundPolicy, deadline: float) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        verify=policy.tls_context(),
        trust_env=False,
        follow_redirects=False,
        timeout=httpx.Timeout(deadline, connect=policy.connect_timeout),
        limits=httpx.Limits(max_keepalive_connections=0),
        headers={"User-Agent": policy.user_agent, "Accept-Encoding": "identity"},
    )


async def _send(
    client: httpx.AsyncClient,
    target: Target,
    policy: OutboundPolicy,
    method: str,
    content: bytes | None,
    headers: Mapping[str, str] | None,
) -> httpx.Response:
    request_headers = httpx.Headers(headers)
    request_headers["Host"] = target.host_header  # the name, while the URL holds the address
    failures = []
    for address in target.addresses:
        request = client.build_request(
            method,
            target.url_for(address),
            content=content,
            headers=request_headers,
            extensions=target.extensions,
        )
        try:
            return await client.send(request, stream=True)
        except httpx.ConnectTimeout:
            failures.append(f"{address} did not answer within {policy.connect_timeout:g} s")
        except httpx.ConnectError as exc:
            failures.append(f"{address}: {exc or 'connection failed'}")
    raise ConnectFailed(f"could not connect to {target.host} ({'; '.join(failures)})")


@contextmanager
def _httpx_errors_translated() -> Iterator[None]:
    try:
        yield
    except httpx.TimeoutException as exc:  # read/write/pool: only reachable at the deadline
        raise DeadlineExceeded(f"the server stopped answering ({type(exc).__name__})") from None
    except httpx.HTTPError as exc:
        raise TransferFailed(f"the exchange broke off: {exc or type(exc).__name__}") from None


def _redirect_location(response: httpx.Response) -> str | None:
    if not is_redirect(response.status_code):
        return None
    location: str | None = response.headers.get("Location")
    return location


def _join(base: httpx.URL, location: str) -> httpx.URL:
    try:
        return base.join(location)
    except httpx.InvalidURL as exc:
        raise BadUrl(f"the server redirected to an invalid URL {location[:80]!r}: {exc}") from None


def _require_success(response: httpx.Response) -> None:
    if not is_success(response.status_code):
        status = response.status_code
        answer = f"HTTP {status} {response.reason_phrase}".rstrip()
        raise BadStatus(f"the server answered {answer}", status)


def _encoding(headers: httpx.Headers) -> str | None:
    encodings = ", ".join(headers.get_list("Content-Encoding")).strip().lower()
    return None if encodings in IDENTITY else encodings


def _require_identity(response: httpx.Response) -> None:
    encoding = _encoding(response.headers)
    if encoding is not None:
        raise EncodedBody(
            f"the server sent the body with Content-Encoding {encoding!r}; conch asks for "
            "identity and reads only unencoded bodies, whose size its byte cap can bound"
        )


async def _read_capped(response: httpx.Response, max_bytes: int, policy: OutboundPolicy) -> bytes:
    """The raw body, refused as soon as it is known to exceed ``max_bytes``, or to arrive
    slower than the policy's minimum rate."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise TooLarge(f"the response declares {declared} bytes, over the limit of {max_bytes}")
    chunks = _kept_up(response.aiter_raw(), policy) if policy.min_rate else response.aiter_raw()
    body, cut_short = await _read_up_to(chunks, max_bytes)
    if cut_short:
        raise TooLarge(f"the response is over the limit of {max_bytes} bytes")
    return body


async def _kept_up(chunks: AsyncIterator[bytes], policy: OutboundPolicy) -> AsyncIterator[bytes]:
    """``chunks``, as long as they keep up the policy's minimum rate: each must arrive by the
    time the bytes so far, plus one, are due (a trickle is cut long before the deadline)."""
    loop = asyncio.get_running_loop()
    due_from = loop.time() + policy.rate_grace
    received = 0
    while True:
        try:
            async with asyncio.timeout_at(due_from + (received + 1) / policy.min_rate):
                chunk = await anext(chunks)
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise TransferFailed(
                f"the body arrived slower than {policy.min_rate:g} bytes a second "
                f"({received} bytes in all)"
            ) from None
        received += len(chunk)
        yield chunk


async def _read_up_to(chunks: AsyncIterator[bytes], max_bytes: int) -> tuple[bytes, str | None]:
    """At most ``max_bytes`` of the raw (never decompressed) body, and why it stopped short."""
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > max_bytes:
            return bytes(body[:max_bytes]), f"over the limit of {max_bytes} bytes"
    return bytes(body), None
