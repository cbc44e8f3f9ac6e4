"""API keys: created, listed, revoked, and checked on every call.

A key is shown once, when created; the table keeps only its SHA-256 (a key carries 256
random bits, so a fast hash is enough) and a short prefix to recognise it by.

A key once verified is trusted for :data:`VERIFIED_KEY_TTL` seconds without hashing it or
asking the database again (:class:`VerifiedKeys`), and a revocation, made by any process,
takes effect within that second. A busy caller's key is looked up again halfway through, by
one of its requests while the others go on trusting it: its requests never all find it
expired at once, and none waits for the lookup but that one.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Row, bindparam, delete, func, insert, select, update

from conch.domain.errors import InvalidApiKey
from conch.store.db import reader
from conch.store.limits import NO_LIMITS, KeyLimits
from conch.store.tables import api_keys, key_limits, signing_secrets

KEY_PREFIX = "sk-conch-"
_SHOWN_CHARS = len(KEY_PREFIX) + 6
_WITH_LIMITS = select(
    api_keys, key_limits.c.submit_rpm, key_limits.c.read_rpm, key_limits.c.concurrency
).outerjoin(key_limits, key_limits.c.key_id == api_keys.c.id)
"""Keys with the limits they set (read with the key: a verified key carries them)."""
_KEY_BY_HASH = _WITH_LIMITS.where(api_keys.c.key_hash == bindparam("key_hash"))
VERIFIED_KEY_TTL = 1.0
"""Seconds a verified key is trusted before the database is asked again."""
VERIFIED_KEYS_KEPT = 10_000
"""The most verified keys kept at once; the oldest is dropped first."""


@dataclass(frozen=True)
class ApiKey:
    """A stored key (never the key itself)."""

    id: int
    name: str
    prefix: str
    created_at: float
    revoked_at: float | None
    limits: KeyLimits = NO_LIMITS

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class VerifiedKeys:
    """Keys verified lately, each trusted for ``ttl`` seconds of ``clock``, and due for a
    fresh look after half of them.

    Only accepted keys are kept: an unknown or revoked key is looked up every time.
    """

    def __init__(
        self,
        *,
        ttl: float = VERIFIED_KEY_TTL,
        kept: int = VERIFIED_KEYS_KEPT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.kept = kept
        self.clock = clock
        self._trusted: dict[str, tuple[float, ApiKey]] = {}
        self._refreshing: set[str] = set()
        self._lock = threading.Lock()

    def get(self, key: str) -> ApiKey | None:
        """The record ``key`` was verified as, while it is still trusted and nobody is
        looking it up again."""
        found = self._trusted.get(key)
        if found is None or self.clock() >= found[0] or key in self._refreshing:
            return None
        return found[1]

    def recent(self, key: str) -> ApiKey | None:
        """The record ``key`` was verified as, while it is still trusted; but None for the
        first caller after it is due for a fresh look, who is to look it up again (through
        :meth:`KeyStore.authenticate`) while every other caller goes on trusting it."""
        found = self._trusted.get(key)
        now = self.clock()
        if found is None or now >= found[0]:
            return None
        if now >= found[0] - self.ttl / 2 and key not in self._refreshing:
            with self._lock:
                if key not in self._refreshing:  # this caller is the first: it looks
                    self._refreshing.add(key)
                    return None
        return found[1]

    def trust(self, key: str, record: ApiKey) -> None:
        """``key`` was just verified as ``record``."""
        with self._lock:
            self._trusted.pop(key, None)  # re-inserted last: the dict keeps insertion order
            self._trusted[key] = (self.clock() + self.ttl, record)
            self._refreshing.discard(key)
            while len(self._trusted) > self.kept:
                self._refreshing.discard(oldest := next(iter(self._trusted)))
                del self._trusted[oldest]

    def refused(self, key: str) -> None:
        """``key`` was just looked up and refused (revoked, or unknown): stop trusting it."""
        with self._lock:
            self._trusted.pop(key, None)
            self._refreshing.discard(key)

    def forget(self, key_id: int) -> None:
        """Stop trusting every key of record ``key_id`` (it was revoked here)."""
        with self._lock:
            for key, (_, record) in list(self._trusted.items()):
                if record.id == key_id:
                    del self._trusted[key]
                    self._refreshing.discard(key)


class KeyStore:
    """The api_keys table."""

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Callable[[], float] = time.time,
        verified: VerifiedKeys | None = None,
    ) -> None:
        self.engine = engine
        self.reads = reader(engine)
        self.clock = clock
        self.verified = verified or VerifiedKeys()

    def create(self, name: str) -> tuple[ApiKey, str]:
        """A new key: its record and the key itself, which is not stored."""
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        values = {
            "name": name,
            "key_hash": hash_key(key),
            "prefix": key[:_SHOWN_CHARS],
            "created_at": self.clock(),
        }
        with self.engine.begin() as conn:
            row = conn.execute(insert(api_keys).values(values).returning(*api_keys.c)).one()
        return _key(row), key

    def authenticate(self, key: str) -> ApiKey:
        """The active key record for ``key``; InvalidApiKey otherwise."""
        trusted = self.verified.get(key)
        if trusted is not None:
            return trusted
        with self.reads.begin() as conn:
            row = conn.execute(_KEY_BY_HASH, {"key_hash": hash_key(key)}).one_or_none()
        if row is None or row.revoked_at is not None:
            self.verified.refused(key)
        if row is None:
            raise InvalidApiKey("the API key is not valid; check the key you sent")
        if row.revoked_at is not None:
            raise InvalidApiKey("the API key has been revoked; create a new one")
        record = _key(row)
        self.verified.trust(key, record)
        return record

    def get(self, key_id: int) -> ApiKey | None:
        with self.reads.begin() as conn:
            row = conn.execute(_WITH_LIMITS.where(api_keys.c.id == key_id)).one_or_none()
        return _key(row) if row else None

    def list(self) -> list[ApiKey]:
        with self.reads.begin() as conn:
            rows = conn.execute(_WITH_LIMITS.order_by(api_keys.c.id)).all()
        return [_key(row) for row in rows]

    def revoke(self, key_id: int) -> bool:
        """Revoke a key; False if there is no such active key."""
        with self.engine.begin() as conn:
            result = conn.execute(
                update(api_keys)
                .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=self.clock())
            )
        self.verified.forget(key_id)
        return result.rowcount == 1

    def count_active(self) -> int:
        with self.reads.begin() as conn:
            query = select(func.count()).where(api_keys.c.revoked_at.is_(None))
            return int(conn.execute(query).scalar_one())

    def set_signing_secret(self, key_id: int, secret: str) -> None:
        """Sign this key's callback pushes with ``secret`` from now on (replacing any other)."""
        with self.engine.begin() as conn:
            conn.execute(delete(signing_secrets).where(signing_secrets.c.key_id == key_id))
            values = {"key_id": key_id, "secret": secret, "created_at": self.clock()}
            conn.execute(insert(signing_secrets).values(values))

    def signing_secret(self, key_id: int) -> str | None:
        """The secret this key's pushes are signed with; None when they are not signed."""
        with self.reads.begin() as conn:
            query = select(signing_secrets.c.secret).where(signing_secrets.c.key_id == key_id)
            secret: str | None = conn.execute(query).scalar()
        return secret


def _key(row: Row[Any]) -> ApiKey:
    found = row._mapping
    limits = KeyLimits(found.get("submit_rpm"), found.get("read_rpm"), found.get("concurrency"))
    return ApiKey(row.id, row.name, row.prefix, row.created_at, row.revoked_at, limits)
