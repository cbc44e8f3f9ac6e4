"""Reads counted against each key's read rate, a batch at a time.

A key's read rate is a bucket in the database (:mod:`conch.store.limits`), shared by every
server process, so counting a read is a write transaction. Counted one by one, a busy key's
polls queue for the write lock and cost several times the read itself. Here, the reads of
one key that arrive while its bucket is being written wait, and are then counted together
by one transaction, first come first served: a busy key costs one write per batch, and the
limit holds exactly as before (the bucket spends one request per read it allows, and a
refused read spends nothing).
"""

from __future__ import annotations

import asyncio

from starlette.concurrency import run_in_threadpool

from conch.quotas import Quotas
from conch.store.keys import ApiKey

Waiting = list[tuple[ApiKey, "asyncio.Future[None]"]]
"""A key's reads waiting to be counted: each read's key record (the newest carries the
limits in force) and the future its request awaits."""


class ReadCounter:
    """Counts reads in batches per key, on the event loop it is used from."""

    def __init__(self, quotas: Quotas) -> None:
        self.quotas = quotas
        self._waiting: dict[int, Waiting] = {}
        self._counting: set[asyncio.Task[None]] = set()  # held: the loop keeps weak references

    async def count(self, owner: ApiKey) -> None:
        """Count one read by ``owner``; RateLimited once its reads a minute are spent."""
        if self.quotas.read_rpm(owner) is None:
            return  # no limit, no I/O
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiting = self._waiting.get(owner.id)
        if waiting is None:  # nobody counts this key's reads now: start
            self._waiting[owner.id] = waiting = []
            counting = asyncio.create_task(self._count_waiting(owner.id))
            self._counting.add(counting)
            counting.add_done_callback(self._counting.discard)
        waiting.append((owner, turn))
        await turn

    async def _count_waiting(self, key_id: int) -> None:
        """Count the key's waiting reads, a batch per transaction, until none wait."""
        batch: Waiting = []
        try:
            while batch := self._waiting[key_id]:
                self._waiting[key_id] = []
                newest = batch[-1][0]
                try:
                    granted, refusal = await run_in_threadpool(
                        self.quotas.check_reads, newest, len(batch)
                    )
                except Exception as error:  # the store failed: so does every read waiting
                    _answer(batch, 0, error)
                    continue
                _answer(batch, granted, refusal)
        finally:  # normally none is left; when the server stops, none is left hanging
            for _, turn in batch + self._waiting.pop(key_id):
                turn.cancel()


def _answer(batch: Waiting, granted: int, refusal: Exception | None) -> None:
    """Let the first ``granted`` reads of ``batch`` go on; raise ``refusal`` in the rest."""
    for place, (_, turn) in enumerate(batch):
        if turn.done():  # its request was cancelled (the client left): counted all the same
            continue
        if place < granted or refusal is None:
            turn.set_result(None)
        else:
            turn.set_exception(refusal)
