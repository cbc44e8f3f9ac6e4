"""Which URLs conch will call: an absolute http(s) URL whose host is a name, a dotted-quad
IPv4 or a bracketed IPv6 literal.

Refused here, before any lookup: other schemes, a missing host, an IPv6 zone id
(``[fe80::1%25eth0]`` names a local interface), and any host whose last label is a number
(``2130706433``, ``0x7f.1``, ``127.1``, ``010.0.0.1``): resolvers read these legacy forms
differently, and no legitimate client writes them. Validation applies these rules when a
request arrives; the outbound guard (``conch.net``) applies them again when it calls.
"""

from __future__ import annotations

import re
from ipaddress import IPv4Address, IPv6Address, ip_address

import httpx

SCHEMES = {"http": 80, "https": 443}
_NUMERIC_LABEL = re.compile(r"(0x[0-9a-f]*|[0-9]+)", re.IGNORECASE)


class UrlRefused(ValueError):
    """A URL conch will not call; ``reason`` says why, as the end of a sentence."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_url(url: str | httpx.URL) -> httpx.URL:
    """``url`` parsed, if it is an absolute http(s) URL with a host form we accept."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise UrlRefused(f"{str(url)[:80]!r} is not a valid URL: {exc}") from None
    if parsed.scheme not in SCHEMES:
        raise UrlRefused(f"the URL scheme must be http or https, got {parsed.scheme or 'none'!r}")
    if not parsed.raw_host:
        raise UrlRefused("the URL has no host")
    if b"%" in parsed.raw_host:  # httpx percent-encodes what a host name cannot hold
        if b":" in parsed.raw_host:
            raise UrlRefused("IPv6 zone ids (fe80::1%25eth0) are not allowed in URLs")
        raise UrlRefused(f"the host {parsed.raw_host.decode('ascii')[:80]!r} is not a valid name")
    literal_address(parsed.raw_host.decode("ascii"))
    return parsed


def literal_address(host: str) -> IPv4Address | IPv6Address | None:
    """The address ``host`` spells, if it is an IP literal; legacy numeric forms refused."""
    try:
        return ip_address(host)
    except ValueError:
        pass
    last_label = host.rstrip(".").rsplit(".", 1)[-1]
    if _NUMERIC_LABEL.fullmatch(last_label):
        raise UrlRefused(
            f"host {host!r} is not a standard IP address; write IPv4 as four decimal "
            "numbers (a.b.c.d) and IPv6 in brackets"
        )
    return None
