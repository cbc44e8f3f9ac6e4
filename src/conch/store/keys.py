"""API keys: created, listed, revoked, and checked on every call.

A key is shown once, when created; the table keeps only its SHA-256 (a key carries 256
random bits, so a fast hash is enough) and a short prefix to recognise it by.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Row, delete, func, insert, select, update

from conch.domain.errors import InvalidApiKey
from conch.store.tables import api_keys, signing_secrets

KEY_PREFIX = "sk-conch-"
_SHOWN_CHARS = len(KEY_PREFIX) + 6


@dataclass(frozen=True)
class ApiKey:
    """A stored key (never the key itself)."""

    id: int
    name: str
    prefix: str
    created_at: float
    revoked_at: float | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class KeyStore:
    """The api_keys table."""

    def __init__(self, engine: Engine, *, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.clock = clock

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
        with self.engine.begin() as conn:
            row = conn.execute(
                select(api_keys).where(api_keys.c.key_hash == hash_key(key))
            ).one_or_none()
        if row is None:
            raise InvalidApiKey("the API key is not valid; check the key you sent")
        if row.revoked_at is not None:
            raise InvalidApiKey("the API key has been revoked; create a new one")
        return _key(row)

    def get(self, key_id: int) -> ApiKey | None:
        with self.engine.begin() as conn:
            row = conn.execute(select(api_keys).where(api_keys.c.id == key_id)).one_or_none()
        return _key(row) if row else None

    def list(self) -> list[ApiKey]:
        with self.engine.begin() as conn:
            rows = conn.execute(select(api_keys).order_by(api_keys.c.id)).all()
        return [_key(row) for row in rows]

    def revoke(self, key_id: int) -> bool:
        """Revoke a key; False if there is no such active key."""
        with self.engine.begin() as conn:
            result = conn.execute(
                update(api_keys)
                .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=self.clock())
            )
        return result.rowcount == 1

    def count_active(self) -> int:
        with self.engine.begin() as conn:
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
        with self.engine.begin() as conn:
            query = select(signing_secrets.c.secret).where(signing_secrets.c.key_id == key_id)
            secret: str | None = conn.execute(query).scalar()
        return secret


def _key(row: Row[Any]) -> ApiKey:
    return ApiKey(row.id, row.name, row.prefix, row.created_at, row.revoked_at)
