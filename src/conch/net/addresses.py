"""Which IP addresses are globally routable, judged without any policy.

The tables follow IANA's special-purpose address registries, written out here rather than
taken from :attr:`ipaddress.IPv4Address.is_global`, whose answers have changed between
Python patch releases (3.11.7 calls ``64:ff9b:1::1`` and ``::ffff:8.8.8.8`` global).

An IPv6 address that carries an IPv4 address (IPv4-mapped, NAT64, 6to4, Teredo) is judged
by the IPv4 address it carries, since that is where the packets end up. The two deprecated
forms (IPv4-compatible ``::a.b.c.d`` and IPv4-translated ``::ffff:0:a.b.c.d``) are decoded
too, so that a private or metadata address hidden in them is named as such, but they are
never global themselves: no public host is reached through them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network


def _table(*rows: tuple[str, str]) -> tuple[tuple[IPNetwork, str], ...]:
    return tuple((ip_network(network), label) for network, label in rows)


_SPECIAL_IPV4 = _table(
    ("0.0.0.0/8", "unspecified ('this network')"),
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "carrier-grade NAT space"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "reserved for IETF protocol assignments"),
    ("192.0.2.0/24", "reserved for documentation"),
    ("192.88.99.0/24", "the deprecated 6to4 relay anycast"),
    ("192.168.0.0/16", "private"),
    ("198.18.0.0/15", "reserved for benchmarking"),
    ("198.51.100.0/24", "reserved for documentation"),
    ("203.0.113.0/24", "reserved for documentation"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),  # includes the broadcast address 255.255.255.255
)

# Consulted after the IPv4-carrying forms are decoded; order matters (first match names it).
_SPECIAL_IPV6 = _table(
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("::/96", "IPv4-compatible (deprecated)"),
    ("::ffff:0:0:0/96", "IPv4-translated"),
    ("64:ff9b:1::/48", "local-use NAT64"),  # operator-chosen layout: cannot be decoded safely
    ("100::/64", "discard-only"),
    ("2001:db8::/32", "reserved for documentation"),
    ("2001::/23", "reserved for IETF protocol assignments"),
    ("3fff::/20", "reserved for documentation"),
    ("fc00::/7", "unique-local (private)"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "site-local (deprecated)"),
    ("ff00::/8", "multicast"),
)

_GLOBAL_UNICAST_V6 = ip_network("2000::/3")
_NAT64 = ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ip_network("::/96")
_NOT_COMPATIBLE = frozenset({ip_address("::"), ip_address("::1")})  # unspecified, loopback
_IPV4_TRANSLATED = ip_network("::ffff:0:0:0/96")
_DEPRECATED_FORMS = ("IPv4-compatible", "IPv4-translated")

METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    ip_address(address)
    for address in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, Oracle, DigitalOcean ...
        "169.254.170.2",  # AWS ECS task credentials
        "169.254.170.23",  # AWS EKS pod identity
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud (classic)
        "fd00:ec2::254",  # AWS IMDS over IPv6
        "fd00:ec2::23",  # AWS EKS pod identity over IPv6
        # GCP over IPv6 (Google's own k8s-config-connector sets GCE_METADATA_HOST to it)
        "fd20:ce::254",
    )
)
"""Cloud instance-metadata endpoints: credentials live there, so they get a rule of their own."""


def embedded_ipv4(address: IPv6Address) -> list[tuple[str, IPv4Address]]:
    """The IPv4 addresses an IPv6 address carries, each with the name of its form."""
    if address.ipv4_mapped is not None:
        return [("IPv4-mapped", address.ipv4_mapped)]
    if address in _NAT64:
        return [("NAT64", _low_32_bits(address))]
    if address.sixtofour is not None:
        return [("6to4", address.sixtofour)]
    if address.teredo is not None:
        server, client = address.teredo
        return [("Teredo server", server), ("Teredo client", client)]
    if address in _IPV4_COMPATIBLE and address not in _NOT_COMPATIBLE:
        return [("IPv4-compatible", _low_32_bits(address))]
    if address in _IPV4_TRANSLATED:
        return [("IPv4-translated", _low_32_bits(address))]
    return []


def with_embedded(address: IPAddress) -> list[IPAddress]:
    """``address`` followed by any IPv4 addresses it carries."""
    if isinstance(address, IPv4Address):
        return [address]
    return [address, *(ipv4 for _, ipv4 in embedded_ipv4(address))]


def not_global_reason(address: IPAddress, *, show_carried: bool = True) -> str | None:
    """Why ``address`` is not globally routable ("is private (10.0.0.0/8)"), or None.

    ``show_carried=False`` leaves out an IPv4 address carried inside an IPv6 one, keeping
    only its range (for refusals that must not reveal an internal address).
    """
    if isinstance(address, IPv6Address):
        carried = embedded_ipv4(address)
        if carried:
            reason = carried_reason(carried, show=show_carried)
            if reason or not is_deprecated_form(carried):
                return reason
        if address not in _GLOBAL_UNICAST_V6:
            return _table_reason(address, _SPECIAL_IPV6) or "is outside global unicast (2000::/3)"
        return _table_reason(address, _SPECIAL_IPV6) or _stdlib_reason(address)
    return _table_reason(address, _SPECIAL_IPV4) or _stdlib_reason(address)


def is_deprecated_form(carried: list[tuple[str, IPv4Address]]) -> bool:
    """Whether IPv4 is carried in a deprecated form, which is never global itself."""
    return any(form in _DEPRECATED_FORMS for form, _ in carried)


def carried_reason(
    carried: list[tuple[str, IPv4Address]],
    *,
    show: bool = True,
    judge: Callable[[IPv4Address], str | None] | None = None,
) -> str | None:
    """Why the first refused carried IPv4 address is refused (by ``judge``), or None."""
    for form, ipv4 in carried:
        reason = (judge or not_global_reason)(ipv4)
        if reason:
            named = f"{ipv4} ({form})" if show else f"an IPv4 address ({form})"
            return f"carries {named}, which {reason}"
    return None


def is_metadata(address: IPAddress) -> bool:
    """Whether ``address`` (or an IPv4 address it carries) is a cloud metadata endpoint."""
    return any(candidate in METADATA_ADDRESSES for candidate in with_embedded(address))


def _low_32_bits(address: IPv6Address) -> IPv4Address:
    return IPv4Address(int(address) & 0xFFFF_FFFF)


def _table_reason(address: IPAddress, table: tuple[tuple[IPNetwork, str], ...]) -> str | None:
    for network, label in table:
        if address in network:
            return f"is {label} ({network})"
    return None


def _stdlib_reason(address: IPAddress) -> str | None:
    # A safety net for registry entries newer than the tables above.
    return None if address.is_global else "is not globally routable"


def parse_networks(networks: Iterable[str]) -> tuple[IPNetwork, ...]:
    """CIDR strings as networks; a bad one is a configuration error (ValueError)."""
    parsed = []
    for network in networks:
        try:
            parsed.append(ip_network(network.strip(), strict=False))
        except ValueError as exc:
            raise ValueError(f"CONCH_ALLOWED_NETWORKS: {network!r} is not a network") from exc
    return tuple(parsed)
