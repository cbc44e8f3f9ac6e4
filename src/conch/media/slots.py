"""How many image URLs are downloaded at once: a few per key, and a cap for everyone.

A key whose URLs are slow (or made slow on purpose) waits on its own slots: it can hold at
most ``per_key`` of the ``total``, so other keys' downloads go on. Data URLs need no
download and take no slot.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio


class FetchSlots:
    """Download slots: ``per_key`` for each key, ``total`` for all keys together."""

    def __init__(self, per_key: int, total: int) -> None:
        self.per_key = per_key
        self._total = anyio.CapacityLimiter(total)
        self._keys: dict[int, anyio.CapacityLimiter] = {}

    @asynccontextmanager
    async def held(self, key_id: int) -> AsyncIterator[None]:
        """A slot of key ``key_id``'s, and one of everyone's, for the duration."""
        own = self._keys.setdefault(key_id, anyio.CapacityLimiter(self.per_key))
        try:
            async with own, self._total:
                yield
        finally:
            if own.borrowed_tokens == 0 and not own.statistics().tasks_waiting:
                self._keys.pop(key_id, None)  # forget keys with nothing in flight
