"""The relay's HTTP: the SDK's flows performed through the outbound guard.

Every request to an upstream (its API and its download links, redirects included) goes to
an address the outbound policy allowed: the host is resolved once per request and each
address checked, as for image URLs, so a private upstream (a GPU box on the LAN) is reached
only when ``CONCH_ALLOWED_NETWORKS`` names it. Connections are pooled per host name, so no
connection verified for one name serves another.

Answers are read up to a cap; a video is streamed to disk up to the upstream's byte cap.
Nothing here logs a header or a body: they carry the upstream's credentials.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from typing import Any

import httpx

from conch.client.download import fetch_headers, open_part, write_plan
from conch.client.effects import Answer, Call, Effect, Fetch, Fetched, Flow, Sleep, T
from conch.client.transport import HEADERS, drive
from conch.domain.errors import ConchError, ErrorCode
from conch.net import BadUrl, BlockedAddress, ConnectFailed, OutboundPolicy
from conch.net.targets import Target, display_url, pin

MAX_ANSWER_BYTES = 8 * 1024 * 1024
"""The largest API answer read: task answers are a few KB."""


class Blocked(httpx.ConnectError):
    """The outbound guard refused the upstream's address: nothing was sent."""


class VideoTooLarge(ConchError):
    """The upstream's video is over the byte cap configured for it (not retried)."""

    code = ErrorCode.INTERNAL


class GuardedTransport(httpx.BaseTransport):
    """An httpx transport that sends each request only to addresses ``policy`` allows."""

    def __init__(self, policy: OutboundPolicy) -> None:
        self.policy = policy
        self._pools: dict[tuple[str, str, int | None], httpx.HTTPTransport] = {}
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        target = _pinned(request.url, self.policy)
        pool = self._pool(target)
        failures = []
        for address in target.addresses:
            extensions = {**request.extensions, **target.extensions}
            headers = httpx.Headers(request.headers)
            headers["Host"] = target.host_header
            sent = httpx.Request(
                request.method,
                target.url_for(address),
                headers=headers,
                stream=request.stream,
                extensions=extensions,
            )
            try:
                return pool.handle_request(sent)
            except httpx.ConnectError as error:
                failures.append(f"{address}: {error or 'connection failed'}")
        raise httpx.ConnectError(
            f"could not connect to {target.host} ({'; '.join(failures)})", request=request
        )

    def _pool(self, target: Target) -> httpx.HTTPTransport:
        key = (target.url.scheme, target.host, target.url.port)
        with self._lock:
            if key not in self._pools:
                self._pools[key] = httpx.HTTPTransport(
                    verify=self.policy.tls_context(),
                    trust_env=False,
                    limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
                )
            return self._pools[key]

    def close(self) -> None:
        with self._lock:
            for pool in self._pools.values():
                pool.close()
            self._pools.clear()


def _pinned(url: httpx.URL, policy: OutboundPolicy) -> Target:
    try:
        return asyncio.run(pin(url, policy))
    except (BadUrl, BlockedAddress) as refused:
        raise Blocked(f"{display_url(url)}: {refused.reason}") from None
    except ConnectFailed as failed:
        raise httpx.ConnectError(failed.reason) from None


Pause = Callable[[float], None]
"""Waits the given seconds (and may raise: the task was taken away, the runner stops)."""


class Session:
    """Performs the SDK's flows against one upstream, through the guard."""

    def __init__(self, base_url: str, policy: OutboundPolicy, *, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.http = httpx.Client(
            base_url=base_url,
            transport=GuardedTransport(policy),
            timeout=httpx.Timeout(60.0, connect=policy.connect_timeout),
            headers=HEADERS,
            follow_redirects=True,
            trust_env=False,
        )

    def run(self, flow: Flow[T], *, pause: Pause, timeout: float | None = None) -> T:
        """Perform ``flow``'s effects until it ends; its result. A transport error is
        thrown into the flow at the effect that failed, as the SDK's clients do; its
        pauses go to ``pause``; ``timeout`` bounds each of its calls."""
        return drive(flow, lambda effect: self._perform(effect, pause, timeout))

    def _perform(
        self, effect: Effect, pause: Pause, timeout: float | None
    ) -> Answer | Fetched | None:
        if isinstance(effect, Call):
            return self._call(effect, timeout)
        if isinstance(effect, Sleep):
            pause(effect.seconds)
            return None
        return self._fetch(effect)

    def _call(self, call: Call, timeout: float | None) -> Answer:
        extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
        request = self.http.build_request(
            call.method,
            call.path,
            params=dict(call.params) or None,
            json=call.json,
            headers=dict(call.headers),
            **extra,
        )
        response = self.http.send(request, stream=True)
        try:
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_ANSWER_BYTES:
                    raise httpx.RemoteProtocolError(
                        f"the answer is over {MAX_ANSWER_BYTES} bytes", request=request
                    )
        finally:
            response.close()
        text = body.decode("utf-8", errors="replace")
        return Answer(response.status_code, _json(text), text)

    def _fetch(self, fetch: Fetch) -> Fetched:
        headers = {**fetch.headers, **fetch_headers(fetch.offset)}
        with self.http.stream("GET", fetch.url, headers=headers) as response:
            plan = write_plan(response.status_code, response.headers, fetch.offset)
            if plan.start is None:
                return Fetched(response.status_code, False, fetch.offset, plan.total)
            if plan.total is not None and plan.total > self.max_bytes:
                raise self._too_large(plan.total)
            encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
            if encoding not in ("", "identity"):
                raise httpx.DecodingError(f"the video came with Content-Encoding {encoding!r}")
            size = plan.start
            with open_part(fetch.part, plan.start) as out:
                for chunk in response.iter_raw():
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise self._too_large(size)
                    out.write(chunk)
        return Fetched(response.status_code, True, size, plan.total)

    def _too_large(self, size: int) -> VideoTooLarge:
        return VideoTooLarge(
            f"the upstream's video has {size} bytes or more, over this upstream's cap of "
            f"{self.max_bytes} bytes (max_bytes)"
        )

    def close(self) -> None:
        self.http.close()


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None
