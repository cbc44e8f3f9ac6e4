"""One attempt at one push: render, sign, send through the guard, judge the answer.

The answer decides what happens next:

- 2xx: delivered;
- 410 Gone: this push ends ``gone``, and no later push to the same URL for the same key is
  sent (they end ``stopped``) unless the task was submitted after the 410, with a fresh
  handshake, which re-subscribes the URL;
- anything else (other statuses, redirects, which are never followed, timeouts, refused
  connections, addresses the guard refuses): tried again later (:mod:`conch.delivery.retry`)
  until the retry window closes, then ``expired``.

Only the status decides: once it is in, the answer's body is read up to a small cap (and
within the timeout) and never judged, so a receiver answering 200 with a large or slow body
has still accepted the push.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from functools import partial

import anyio

from conch.delivery.bodies import encode, push_body
from conch.delivery.links import VideoLinks
from conch.delivery.retry import RetryPolicy
from conch.delivery.signing import signed_headers
from conch.net import OutboundError, OutboundPolicy, post_json
from conch.net.safe_http import is_redirect, is_success
from conch.services import Services
from conch.store.outbox import Attempt, Delivery, DeliveryClaim, Outbox
from conch.store.pushes import DeliveryState

log = logging.getLogger(__name__)

GONE = 410
MAX_ANSWER_BYTES = 64 * 1024
"""A receiver's answer is read (and discarded) up to this size; a larger one still counts."""


@dataclass(frozen=True)
class Push:
    """A push ready to send: the exact bytes and their headers."""

    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class Verdict:
    """What an attempt led to."""

    state: DeliveryState
    outcome: str
    next_attempt_at: float | None = None
    recorded: bool = True
    """False when the claim had gone stale (its lease passed to another deliverer), so
    the outbox kept the other deliverer's record instead of this one."""


class Pusher:
    """Makes attempts at pushes and records them in the outbox."""

    def __init__(
        self,
        services: Services,
        outbox: Outbox,
        *,
        policy: OutboundPolicy | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        settings = services.settings
        self.services = services
        self.outbox = outbox
        self.policy = policy or services.outbound
        self.retry = retry or RetryPolicy.from_settings(settings)
        self.timeout = settings.callback_timeout
        self.links = VideoLinks(settings, services.links, services.tasks)

    async def attempt(self, claim: DeliveryClaim) -> Verdict:
        """Send ``claim``'s push once (or not at all, when its URL is gone); record it."""
        delivery = claim.delivery
        since = delivery.task().created_at
        gone = await anyio.to_thread.run_sync(
            self.outbox.gone_since, delivery.owner_id, delivery.url, since
        )
        if gone is not None:
            verdict = Verdict(
                DeliveryState.STOPPED,
                f"not sent: the URL answered 410 Gone to push {gone.webhook_id}",
            )
            return await self._settle(claim, verdict, None)
        push = await anyio.to_thread.run_sync(self.prepare, delivery)
        attempt = await self.send(delivery, push)
        return await self._settle(claim, self.judge(delivery, attempt), attempt)

    async def failed_internally(self, claim: DeliveryClaim, error: Exception) -> Verdict:
        """Record an attempt that conch itself could not make (it is retried like others)."""
        delivery = claim.delivery
        reason = f"conch could not send it: {type(error).__name__}: {error}"[:500]
        attempt = Attempt(delivery.attempts + 1, time.time(), 0.0, None, reason)
        return await self._settle(claim, self.judge(delivery, attempt), attempt)

    def prepare(self, delivery: Delivery) -> Push:
        """The push's body as its dialect renders it, signed when the key has a secret."""
        body = encode(push_body(delivery.task(), delivery.event, self.links))
        secret = self.services.keys.signing_secret(delivery.owner_id)
        return Push(body, signed_headers(secret, delivery.webhook_id, body, time.time()))

    async def send(self, delivery: Delivery, push: Push) -> Attempt:
        """POST the push once; the attempt as it went."""
        started, clock = time.time(), time.monotonic()
        status, error = None, None
        try:
            answer = await post_json(
                delivery.url,
                push.body,
                self.policy,
                deadline=self.timeout,
                headers=push.headers,
                max_response_bytes=MAX_ANSWER_BYTES,
            )
            status = answer.status
        except OutboundError as failure:
            error = failure.reason
        duration = time.monotonic() - clock
        return Attempt(delivery.attempts + 1, started, duration, status, error)

    def judge(self, delivery: Delivery, attempt: Attempt) -> Verdict:
        """Delivered, gone, or when to try again (expired when out of time)."""
        status = attempt.http_status
        if status is not None and is_success(status):
            return Verdict(DeliveryState.DELIVERED, f"delivered: HTTP {status}")
        if status == GONE:
            return Verdict(DeliveryState.GONE, "HTTP 410 Gone: no more pushes go to this URL")
        failed = _failure(attempt)
        at = self.retry.next_attempt(delivery.created_at, attempt.number, time.time())
        if at is None:
            window = f"{self.retry.window:g} s"
            return Verdict(
                DeliveryState.EXPIRED,
                f"gave up after {attempt.number} attempts, the retry window ({window}) "
                f"being over; the last: {failed}",
            )
        return Verdict(DeliveryState.PENDING, f"attempt {attempt.number}: {failed}", at)

    async def _settle(
        self, claim: DeliveryClaim, verdict: Verdict, attempt: Attempt | None
    ) -> Verdict:
        """Record ``verdict``; unrecorded when the claim went stale meanwhile."""
        settle = partial(
            self.outbox.settle,
            claim,
            verdict.state,
            verdict.outcome,
            attempt=attempt,
            next_attempt_at=verdict.next_attempt_at,
        )
        if await anyio.to_thread.run_sync(settle):
            return verdict
        # Its lease ran out while it was sent and another deliverer claimed it: that one's
        # record stands (the receiver may get the push twice: delivery is at least once).
        log.warning(
            "push %s: %s, not recorded: its lease had passed to another deliverer",
            claim.delivery.webhook_id,
            verdict.outcome,
        )
        return replace(verdict, recorded=False)


def _failure(attempt: Attempt) -> str:
    if attempt.http_status is None:
        return attempt.error or "no answer"
    if is_redirect(attempt.http_status):
        return f"HTTP {attempt.http_status} (a redirect; callbacks follow none)"
    return f"HTTP {attempt.http_status}"
