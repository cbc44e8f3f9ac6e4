"""From a URL to a pinned target: the host resolved once, every address checked.

Host forms decided here:

- a dotted-quad IPv4 or a bracketed IPv6 literal is used as it is, without a lookup;
- any other host whose last label is a number (``2130706433``, ``0x7f.1``, ``127.1``,
  ``010.0.0.1``) is refused: resolvers read these legacy forms differently, and no
  legitimate client writes them;
- an IPv6 zone id (``[fe80::1%25eth0]``) is refused: it names a local interface;
- a name is resolved once by the policy's resolver, and refused if *any* of its
  addresses is forbidden (a name that mixes public and private answers is an attack).

The request is then sent to a checked address, never to the name, so a second lookup
(DNS rebinding) has nothing to act on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import ip_address

import httpx

from conch.net.addresses import IPAddress
from conch.net.errors import BadUrl, ConnectFailed
from conch.net.policy import OutboundPolicy, check_address

SCHEMES = {"http": 80, "https": 443}
_NUMERIC_LABEL = re.compile(r"(0x[0-9a-f]*|[0-9]+)", re.IGNORECASE)


@dataclass(frozen=True)
class Target:
    """A URL whose host has been resolved and whose addresses passed the policy."""

    url: httpx.URL
    host: str
    """The host in ASCII (IDNA) form, without brackets."""
    addresses: tuple[IPAddress, ...]

    def url_for(self, address: IPAddress) -> httpx.URL:
        """The URL with its host replaced by ``address``: where the request really goes."""
        return self.url.copy_with(host=str(address))

    @property
    def host_header(self) -> str:
        return self.url.netloc.decode("ascii")

    @property
    def extensions(self) -> dict[str, str]:
        """httpcore request extensions: TLS SNI and certificate checks use the name."""
        return {"sni_hostname": self.host} if self.url.scheme == "https" else {}


def parse_url(url: str | httpx.URL) -> httpx.URL:
    """``url`` parsed, if it is an absolute http(s) URL with a host form we accept."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise BadUrl(f"{str(url)[:80]!r} is not a valid URL: {exc}") from None
    if parsed.scheme not in SCHEMES:
        raise BadUrl(f"the URL scheme must be http or https, got {parsed.scheme or 'none'!r}")
    if not parsed.raw_host:
        raise BadUrl("the URL has no host")
    if b"%" in parsed.raw_host:  # httpx percent-encodes what a host name cannot hold
        if b":" in parsed.raw_host:
            raise BadUrl("IPv6 zone ids (fe80::1%25eth0) are not allowed in URLs")
        raise BadUrl(f"the host {parsed.raw_host.decode('ascii')[:80]!r} is not a valid name")
    return parsed


def display_url(url: str | httpx.URL) -> str:
    """``url`` fit for a log line or a message: no userinfo, query or fragment.

    Those are where URLs carry secrets (``https://user:pass@...``, ``?token=...``).
    """
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return "<an invalid URL>"
    if not parsed.scheme or not parsed.host:
        return "<a URL without a host>"
    shown = parsed.copy_with(username=None, password=None, query=None, fragment=None)
    return str(shown)


def literal_address(host: str) -> IPAddress | None:
    """The address ``host`` spells, if it is an IP literal; legacy numeric forms refused."""
    try:
        return ip_address(host)
    except ValueError:
        pass
    last_label = host.rstrip(".").rsplit(".", 1)[-1]
    if _NUMERIC_LABEL.fullmatch(last_label):
        raise BadUrl(
            f"host {host!r} is not a standard IP address; write IPv4 as four decimal "
            "numbers (a.b.c.d) and IPv6 in brackets"
        )
    return None


async def pin(url: str | httpx.URL, policy: OutboundPolicy) -> Target:
    """Parse, resolve once, and check every address of ``url``'s host against ``policy``."""
    parsed = parse_url(url)
    host = parsed.raw_host.decode("ascii")
    literal = literal_address(host)
    port = parsed.port or SCHEMES[parsed.scheme]
    addresses = (literal,) if literal else await _lookup(host, port, policy)
    for address in addresses:
        check_address(address, policy, host=None if literal else host)
    return Target(url=parsed, host=host, addresses=addresses)


async def _lookup(host: str, port: int, policy: OutboundPolicy) -> tuple[IPAddress, ...]:
    try:
        addresses = tuple(await policy.resolver(host, port))
    except OSError as exc:
        raise ConnectFailed(f"could not resolve {host}: {exc.strerror or exc}") from None
    if not addresses:
        raise ConnectFailed(f"{host} has no addresses")
    return addresses
