"""The deliverer: a thread of ``conch serve`` that sends the outbox's pushes.

Runners never send anything: a status change only writes an outbox row (in its own
transaction), so a slow or dead receiver can never hold up a render. The deliverer runs in
the server process, in a thread with its own event loop rather than in the API's loop:
its database calls and its waits on receivers never share a loop with API requests, and it
starts and stops with ``conch serve`` like the runner pool, independently of the ASGI app.

It claims due rows under a lease (:class:`conch.store.outbox.Outbox`), so several servers
on one database share the work without sending a push twice while a lease holds; it sends
up to ``CONCH_CALLBACK_CONCURRENCY`` pushes at once, each through :class:`Pusher`. When it
stops, pushes in flight are abandoned and released to be sent again.

When the database or the disk fails, it keeps going: it waits longer between claims while
the failure lasts, and logs it once a minute, not on every try (:class:`Outage`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading

import anyio

from conch.delivery.push import Pusher
from conch.net.targets import display_url
from conch.services import Services
from conch.store.outage import STORAGE_ERRORS, Outage
from conch.store.outbox import DeliveryClaim, Outbox

log = logging.getLogger(__name__)


class Deliverer:
    """Claims and sends pushes until stopped; :meth:`start` runs it in its own thread."""

    def __init__(self, services: Services) -> None:
        settings = services.settings
        self.outbox = Outbox(services.db)
        self.pusher = Pusher(services, self.outbox)
        self.name = f"{socket.gethostname()}:{os.getpid()}:deliverer"
        self.concurrency = settings.callback_concurrency
        # As often as runners look for tasks: a push goes out about as soon as it is due.
        self.poll_interval = settings.poll_interval
        # A push's lease covers its whole attempt with room to spare; a deliverer that
        # stalls longer than this loses the push to another.
        self.lease_seconds = 2 * settings.callback_timeout + 5
        # Pushes older than their retry window are given up unsent (after downtime, say).
        # A lease's worth of grace: the last attempt is scheduled at the window's very end,
        # and a busy or restarting deliverer may start it a little late.
        self.give_up_after = settings.callback_retry_window + self.lease_seconds
        self.outage = Outage("the deliverer", log)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="conch-deliverer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop claiming, abandon the pushes in flight (they are released), and wait."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        try:
            asyncio.run(self.run())
        except Exception:  # keep the server up; pushes wait in the outbox
            log.exception("the deliverer stopped on an error")

    async def run(self) -> None:
        """Claim and send pushes until :meth:`stop` is called."""
        in_flight: set[asyncio.Task[None]] = set()
        try:
            while not self._stopping.is_set():
                room = self.concurrency - len(in_flight)
                claims = await self._claim(room) if room > 0 else []
                for claim in claims:
                    sending = asyncio.create_task(self.deliver(claim))
                    in_flight.add(sending)
                    sending.add_done_callback(in_flight.discard)
                if len(claims) < room or room <= 0:
                    await asyncio.sleep(max(self.poll_interval, self.outage.delay))
        finally:
            for sending in in_flight:
                sending.cancel()
            await asyncio.gather(*in_flight, return_exceptions=True)

    async def deliver(self, claim: DeliveryClaim) -> None:
        """One attempt at ``claim``'s push; on any failure of conch's own, a later one."""
        try:
            verdict = await self.pusher.attempt(claim)
        except asyncio.CancelledError:
            self.outbox.release(claim)  # blocking, but the loop is only shutting down
            raise
        except Exception as error:
            self._fault(f"push {claim.delivery.webhook_id} could not be attempted", error)
            # Counted as a failed attempt, so a push conch cannot render still expires.
            # Should even that fail (the database is down), its lease runs out instead.
            try:
                verdict = await self.pusher.failed_internally(claim, error)
            except Exception as again:
                self._fault(f"push {claim.delivery.webhook_id}: not recorded", again)
                return
        delivery = claim.delivery
        if not verdict.recorded:
            return  # the pusher said why
        log.info(
            "push %s (task %s, %s) to %s: %s",
            delivery.webhook_id,
            delivery.task_id,
            delivery.event.value,
            display_url(delivery.url),  # no query or userinfo: receivers put tokens there
            verdict.outcome,
        )

    async def _claim(self, room: int) -> list[DeliveryClaim]:
        try:
            claims = await anyio.to_thread.run_sync(self._claim_now, room)
        except Exception as error:  # the database is unavailable: try again, later and later
            self.outage.failed(error)
            return []
        self.outage.succeeded()
        return claims

    def _fault(self, what: str, error: Exception) -> None:
        """Log a failed push: a storage outage once a minute, anything else each time."""
        if isinstance(error, STORAGE_ERRORS):
            self.outage.failed(error)
        else:
            log.error("%s", what, exc_info=error)

    def _claim_now(self, room: int) -> list[DeliveryClaim]:
        return self.outbox.claim(
            self.name,
            lease_seconds=self.lease_seconds,
            limit=room,
            give_up_after=self.give_up_after,
        )
