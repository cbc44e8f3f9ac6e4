"""Signed download links to conch's own media: made and checked here, served by the API.

A link names a file and an expiry time and carries an HMAC-SHA256 of both under the
installation's secret, so it needs no API key (a browser or a CDN can fetch it) and cannot
be altered or extended. Every retrieve issues a fresh link. No HTTP happens here: the API
serves the path (``conch.api.files``), pushes carry links too (``conch.delivery.links``).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address, ip_address
from urllib.parse import urlencode

from conch.config import Settings

DOWNLOAD_PATH = "/downloads/{file_id}/{filename}"

Clock = Callable[[], float]
"""Unix seconds now."""


def sign_link(secret: bytes, file_id: int, expires: int) -> str:
    """The signature of a link to ``file_id`` that expires at ``expires`` (unix seconds)."""
    message = f"{file_id}.{expires}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class LinkSigner:
    """Makes and checks signed links under one secret; each lives ``ttl`` seconds."""

    secret: bytes = field(repr=False)
    ttl: int
    clock: Clock = time.time

    def url(self, base_url: str, file_id: int, filename: str) -> str:
        """A fresh signed link to the file under ``base_url``."""
        expires = int(self.clock() + self.ttl)
        path = DOWNLOAD_PATH.format(file_id=file_id, filename=filename)
        query = urlencode(
            {"expires": expires, "signature": sign_link(self.secret, file_id, expires)}
        )
        return f"{base_url.rstrip('/')}{path}?{query}"

    def problem(self, file_id: int, expires: int | None, signature: str | None) -> str | None:
        """Why a link is refused, or None when it is good."""
        if expires is None or signature is None:
            return "the download link is incomplete: it needs its expires and signature parameters"
        expected = sign_link(self.secret, file_id, expires)
        # Bytes, not str: compare_digest refuses non-ASCII str (a crafted link would be a 500).
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            return "the download link's signature does not match; use the link exactly as issued"
        if expires < self.clock():
            return "the download link has expired; retrieve the file again for a fresh link"
        return None


def link_base(settings: Settings) -> str:
    """Where links start: ``CONCH_PUBLIC_URL``, else the address conch listens on (never the
    Host header a request came with, which a caller can set to anything)."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    host = settings.host
    address = _address(host)
    if address is not None and address.version == 6 and not host.startswith("["):
        host = f"[{host}]"  # unbracketed, its colons would read as a port
    return f"http://{host}:{settings.port}"


def link_base_problem(settings: Settings) -> str | None:
    """Why links may not reach conch from elsewhere, for a warning at start; None when
    ``CONCH_PUBLIC_URL`` is set or conch listens on loopback only."""
    if settings.public_url:
        return None
    address = _address(settings.host)
    if address is not None and address.is_loopback:
        return None
    base = link_base(settings)
    if address is not None and address.is_unspecified:
        return (
            f"download links would start at {base}, which no client can call; set CONCH_PUBLIC_URL"
        )
    return (
        f"download links start at {base}, the address conch listens on; set CONCH_PUBLIC_URL "
        "if clients reach conch by another name"
    )


def _address(host: str) -> IPv4Address | IPv6Address | None:
    try:
        return ip_address(host.strip("[]"))
    except ValueError:
        return None
