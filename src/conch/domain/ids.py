"""Ids that callers see: time-ordered int64s, below 2**53 so JavaScript reads them exactly.

MiniMax's ids look alike (``106916112212032``); a caller reads ``task_id`` as a string of
digits and ``file_id`` as a JSON number, and a JSON number above 2**53 would be rounded.
"""

from __future__ import annotations

import secrets
import time

EPOCH_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z
RANDOM_BITS = 12


def new_id() -> int:
    """A fresh id: milliseconds since 2024 followed by 12 random bits.

    Collisions need two ids in the same millisecond drawing the same bits; the tables'
    primary keys refuse a duplicate and the caller draws again.
    """
    millis = int(time.time() * 1000) - EPOCH_MS
    return (millis << RANDOM_BITS) | secrets.randbits(RANDOM_BITS)


MAX_ID_DIGITS = 18
"""More digits could not be an id conch made (they are below 2**53 < 10**16)."""


def parse_id(text: str) -> int | None:
    """The id ``text`` spells in ASCII digits, or None (``"²"`` and 30 digits are not ids)."""
    text = text.strip()
    if text.isascii() and text.isdigit() and len(text) <= MAX_ID_DIGITS:
        return int(text)
    return None
