"""From a URL to a pinned target: the host resolved once, every address checked.

The URL must be one conch will call (:mod:`conch.domain.urls`: http(s), no legacy numeric
host forms, no IPv6 zone ids). An IP literal is used as it is, without a lookup; a name is
resolved once by the policy's resolver, and refused if *any* of its addresses is forbidden
(a name that mixes public and private answers is an attack).

The request is then sent to a checked address, never to the name, so a second lookup
(DNS rebinding) has nothing to act on.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from conch.domain import urls
from conch.domain.urls import UrlRefused
from conch.net.addresses import IPAddress
from conch.net.errors import BadUrl, ConnectFailed
from conch.net.policy import OutboundPolicy, check_address


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
    """``url`` parsed, if it is one conch will call (:mod:`conch.domain.urls`); BadUrl if not."""
    try:
        return urls.parse_url(url)
    except UrlRefused as refused:
        raise BadUrl(refused.reason) from None


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


async def pin(url: str | httpx.URL, policy: OutboundPolicy) -> Target:
    """Parse, resolve once, and check every address of ``url``'s host against ``policy``."""
    parsed = parse_url(url)
    host = parsed.raw_host.decode("ascii")
    literal = urls.literal_address(host)  # checked by parse_url: refuses nothing here
    port = parsed.port or urls.SCHEMES[parsed.scheme]
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
