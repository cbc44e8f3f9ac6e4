"""Standard Webhooks signatures on callback requests, for keys that have a signing secret.

A secret is ``whsec_`` followed by base64 of 32 random bytes; the bytes are the HMAC key.
Each signed request carries three headers: ``webhook-id`` (the push's id, the same on every
retry, so a receiver can drop duplicates), ``webhook-timestamp`` (unix seconds of this
attempt) and ``webhook-signature`` (``v1,`` + base64 of HMAC-SHA256 over
``"{id}.{timestamp}.{body}"``). MiniMax signs nothing; keys without a secret send none.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
SIGNATURE_VERSION = "v1"

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"


def new_secret() -> str:
    """A fresh signing secret, ``whsec_...``."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signature(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value for one request."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


def signed_headers(secret: str | None, webhook_id: str, body: bytes, now: float) -> dict[str, str]:
    """The three Standard Webhooks headers for ``body``, or none when ``secret`` is None."""
    if secret is None:
        return {}
    timestamp = int(now)
    return {
        ID_HEADER: webhook_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, webhook_id, timestamp, body),
    }
