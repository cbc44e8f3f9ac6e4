"""The outbound policy: which addresses conch may connect to, and how it connects.

By default only globally routable addresses are allowed (see :mod:`conch.net.addresses`).
``allow_private`` lifts that rule, and ``allowed_networks`` lifts it for the networks named.

An IPv6 address that carries IPv4 addresses (IPv4-mapped, NAT64, 6to4, Teredo, and the
deprecated forms) passes when it is itself in an allowed network, or when *every* IPv4
address it carries would pass on its own: a Teredo address whose client is allowed but
whose server is loopback is refused.

Cloud metadata endpoints are the one exception to both lifts: an operator who lets conch
reach a LAN image server has not thereby agreed to hand out the host's cloud credentials.
Only an ``allowed_networks`` entry naming exactly that address (``/32`` or ``/128``) opens
one; ``100.64.0.0/10``, ``fd00::/8`` or ``0.0.0.0/0`` do not.

A refusal names the address when the URL spelled it; when a host *name* resolved to it,
the refusal names only the range (``... resolves to an address that is private
(10.0.0.0/8)``), so that probing names cannot map the internal network.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from functools import cache
from ipaddress import IPv4Address
from typing import TYPE_CHECKING

import certifi

from conch import __version__
from conch.net.addresses import (
    METADATA_ADDRESSES,
    IPAddress,
    IPNetwork,
    carried_reason,
    embedded_ipv4,
    is_deprecated_form,
    is_metadata,
    not_global_reason,
    parse_networks,
    with_embedded,
)
from conch.net.errors import BlockedAddress
from conch.net.resolver import Resolver, system_resolver

if TYPE_CHECKING:
    from conch.config import Settings

ALLOW_HINT = "set CONCH_ALLOW_PRIVATE_URLS or CONCH_ALLOWED_NETWORKS to allow it"
METADATA_HINT = "only a CONCH_ALLOWED_NETWORKS entry naming exactly that address allows it"


@dataclass(frozen=True)
class OutboundPolicy:
    """How conch talks to URLs its users name."""

    allow_private: bool = False
    allowed_networks: tuple[IPNetwork, ...] = ()
    connect_timeout: float = 5.0
    min_rate: float = 0.0
    """Bytes a second a downloaded body must keep up, on average, after ``rate_grace``
    seconds; 0: only the deadline bounds it."""
    rate_grace: float = 2.0
    resolver: Resolver = system_resolver
    ssl_context: ssl.SSLContext | None = None
    """Trust for https; None means the public CAs (certifi's bundle)."""
    user_agent: str = f"conch/{__version__}"

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        resolver: Resolver | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> OutboundPolicy:
        """The policy the operator configured (``CONCH_ALLOW_PRIVATE_URLS`` and friends)."""
        return cls(
            allow_private=settings.allow_private_urls,
            allowed_networks=parse_networks(settings.allowed_networks),
            connect_timeout=settings.fetch_connect_timeout,
            min_rate=settings.fetch_min_rate,
            resolver=resolver or system_resolver,
            ssl_context=ssl_context,
        )

    def tls_context(self) -> ssl.SSLContext:
        """The context https connections verify with."""
        return self.ssl_context or _public_ca_context()


def check_address(address: IPAddress, policy: OutboundPolicy, *, host: str | None = None) -> None:
    """Raise :class:`BlockedAddress` unless ``policy`` lets conch connect to ``address``.

    ``host`` is the name that resolved to it, if any: the refusal then names the host and
    the range, not the address.
    """
    subject = f"{host} resolves to an address that" if host else f"address {address}"
    if is_metadata(address) and not _names_metadata(address, policy.allowed_networks):
        kind = "is a cloud metadata endpoint"
        raise BlockedAddress(f"{subject} {kind}; {METADATA_HINT}")
    reason = _refusal(address, policy, show_carried=host is None)
    if reason:
        raise BlockedAddress(f"{subject} {reason}; {ALLOW_HINT}")


def _refusal(address: IPAddress, policy: OutboundPolicy, *, show_carried: bool) -> str | None:
    """Why the policy refuses ``address`` (metadata aside), or None."""
    networks = policy.allowed_networks
    if policy.allow_private or _listed(address, networks):
        return None
    if isinstance(address, IPv4Address):
        return not_global_reason(address)
    carried = embedded_ipv4(address)
    if not carried:
        return not_global_reason(address)

    def judge(ipv4: IPv4Address) -> str | None:
        return _refusal(ipv4, policy, show_carried=show_carried)

    refused = carried_reason(carried, show=show_carried, judge=judge)
    if refused:
        return refused
    # Every carried address passes. An allowed IPv4 network also admits the IPv6 forms
    # that carry its addresses; otherwise a deprecated form is still not global itself.
    if all(_listed(ipv4, networks) for _, ipv4 in carried) or not is_deprecated_form(carried):
        return None
    return not_global_reason(address, show_carried=show_carried)


def _listed(address: IPAddress, networks: tuple[IPNetwork, ...]) -> bool:
    return any(address in network for network in networks)


def _names_metadata(address: IPAddress, networks: tuple[IPNetwork, ...]) -> bool:
    """Whether an entry names ``address``, or every metadata address it carries, exactly."""
    named = {network.network_address for network in networks if network.num_addresses == 1}
    if address in named:
        return True
    carried = [candidate for candidate in with_embedded(address) if candidate in METADATA_ADDRESSES]
    return all(candidate in named for candidate in carried)


@cache
def _public_ca_context() -> ssl.SSLContext:
    # Built once: loading the CA bundle costs more than a whole local request.
    return ssl.create_default_context(cafile=certifi.where())
