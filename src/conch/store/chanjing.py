"""Chanjing app credentials and access tokens (``api-notes.md`` §4).

``conch keys create --chanjing`` binds an app pair (``app_id``, ``secret_key``) to an API key.
The app trades its pair for an access token, which lasts a day by default; issuing a token
replaces the app's previous one, as Chanjing does. Every call made with a token acts as the
key the app is bound to, so a task is the same task whichever dialect asks about it.

Secrets and tokens are stored as SHA-256 only: each carries at least 128 random bits, so a
fast hash is enough (as for API keys).
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, Row, insert, or_, select, update

from conch.domain.errors import InvalidApiKey
from conch.store.db import reader
from conch.store.keys import ApiKey, KeyStore, hash_key
from conch.store.tables import chanjing_apps
from conch.wire.chanjing import APP_ID_FIELD, SECRET_FIELD, TOKEN_FIELD, TOKEN_PATH

DEFAULT_TOKEN_TTL = 24 * 3600
"""Seconds an access token lives unless configured otherwise (Chanjing's: about a day)."""


@dataclass(frozen=True)
class ChanjingApp:
    """A new app pair; the secret is shown once and never stored."""

    app_id: str
    secret_key: str
    key_id: int


@dataclass(frozen=True)
class AccessToken:
    """A freshly issued token and the unix second it expires at."""

    token: str
    expires_at: int


class ChanjingStore:
    """The chanjing_apps table: app pairs, and each app's one live token."""

    def __init__(
        self,
        engine: Engine,
        *,
        token_ttl: float = DEFAULT_TOKEN_TTL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.reads = reader(engine)
        self.keys = KeyStore(engine)
        self.token_ttl = token_ttl
        self.clock = clock

    def create_app(self, key_id: int) -> ChanjingApp:
        """A new app pair bound to the API key ``key_id``."""
        app = ChanjingApp(secrets.token_hex(8), secrets.token_hex(16), key_id)
        values = {
            "app_id": app.app_id,
            "key_id": key_id,
            "secret_hash": hash_key(app.secret_key),
            "created_at": self.clock(),
        }
        with self.engine.begin() as conn:
            conn.execute(insert(chanjing_apps).values(values))
        return app

    def issue_token(self, app_id: str, secret_key: str) -> AccessToken:
        """A new token for the app, replacing its previous one; InvalidApiKey if refused."""
        row = self._find(chanjing_apps.c.app_id == app_id)
        if row is None:
            raise InvalidApiKey(f"no app {app_id!r}; check the app_id", field=APP_ID_FIELD)
        if not hmac.compare_digest(row.secret_hash, hash_key(secret_key)):
            raise InvalidApiKey(
                f"does not match app {app_id!r}; check the secret_key", field=SECRET_FIELD
            )
        self._bound_key(row)
        now = self.clock()
        token = secrets.token_hex(32)
        with self.engine.begin() as conn:
            conn.execute(
                update(chanjing_apps)
                .where(chanjing_apps.c.app_id == app_id)
                .values(
                    # evaluated against the row as it was: the old token becomes the previous
                    previous_token_hash=chanjing_apps.c.token_hash,
                    token_hash=hash_key(token),
                    token_issued_at=now,
                    token_expires_at=now + self.token_ttl,
                )
            )
        return AccessToken(token, int(now + self.token_ttl))

    def authenticate(self, token: str) -> ApiKey:
        """The active API key behind ``token``; InvalidApiKey saying why otherwise."""
        hashed = hash_key(token)
        row = self._find(
            or_(chanjing_apps.c.token_hash == hashed, chanjing_apps.c.previous_token_hash == hashed)
        )
        if row is None:
            raise InvalidApiKey(f"is not valid; get one from POST {TOKEN_PATH}", field=TOKEN_FIELD)
        if row.token_hash != hashed:
            # Chanjing keeps one live token per app; processes sharing an app trip on this.
            raise InvalidApiKey(
                f"was replaced by a newer token issued at {_when(row.token_issued_at)}; an app "
                "has one live token at a time, so share it or use one app per process",
                field=TOKEN_FIELD,
            )
        if row.token_expires_at <= self.clock():
            raise InvalidApiKey(
                f"expired at {_when(row.token_expires_at)}; get a new one from POST {TOKEN_PATH}",
                field=TOKEN_FIELD,
            )
        return self._bound_key(row)

    def apps_of(self, key_id: int) -> list[str]:
        """The app ids bound to a key."""
        with self.reads.begin() as conn:
            rows = conn.execute(
                select(chanjing_apps.c.app_id)
                .where(chanjing_apps.c.key_id == key_id)
                .order_by(chanjing_apps.c.created_at)
            ).all()
        return [row.app_id for row in rows]

    def _find(self, condition: Any) -> Row[Any] | None:
        with self.reads.begin() as conn:
            return conn.execute(select(chanjing_apps).where(condition)).first()

    def _bound_key(self, row: Row[Any]) -> ApiKey:
        key = self.keys.get(row.key_id)
        if key is None or not key.active:
            raise InvalidApiKey(
                f"the API key that app {row.app_id!r} is bound to has been revoked",
                field=TOKEN_FIELD,
            )
        return key


def _when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
