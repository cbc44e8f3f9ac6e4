"""The address table: every forbidden form refused, public ones allowed, and the lifts."""

from __future__ import annotations

from ipaddress import ip_address

import pytest
from pydantic import ValidationError

from conch.config import Settings
from conch.net import BlockedAddress, OutboundPolicy, check_address
from conch.net.policy import parse_networks

STRICT = OutboundPolicy()


def teredo(server: str, client: str) -> str:
    """A Teredo address: 2001:0::/32, the server, flags, port, the client inverted."""
    server_bits = int(ip_address(server))
    client_bits = int(ip_address(client)) ^ 0xFFFF_FFFF
    return str(ip_address((0x2001_0000 << 96) | (server_bits << 64) | client_bits))


FORBIDDEN = [
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("10.0.0.5", "private (10.0.0.0/8)"),
    ("172.16.0.1", "private (172.16.0.0/12)"),
    ("172.31.255.255", "private (172.16.0.0/12)"),
    ("192.168.1.1", "private (192.168.0.0/16)"),
    ("169.254.1.1", "link-local"),
    ("0.0.0.0", "unspecified"),
    ("0.1.2.3", "unspecified"),
    ("100.64.0.1", "carrier-grade NAT"),
    ("100.127.255.254", "carrier-grade NAT"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    ("192.0.0.8", "IETF protocol assignments"),
    ("192.0.2.1", "documentation"),
    ("198.18.0.1", "benchmarking"),
    ("198.51.100.7", "documentation"),
    ("203.0.113.9", "documentation"),
    ("192.88.99.1", "6to4 relay"),
    ("::", "unspecified"),
    ("::1", "loopback"),
    ("fe80::1", "link-local"),
    ("fc00::1", "unique-local"),
    ("fd12:3456::1", "unique-local"),
    ("fec0::1", "site-local"),
    ("ff02::1", "multicast"),
    ("100::1", "discard-only"),
    ("2001:db8::1", "documentation"),
    ("2001:2::1", "IETF protocol assignments"),
    ("3fff::1", "documentation"),
    ("4000::1", "outside global unicast"),
    # IPv4 hidden in IPv6, judged by the IPv4 it carries
    ("::ffff:127.0.0.1", "carries 127.0.0.1 (IPv4-mapped), which is loopback"),
    ("::ffff:10.0.0.5", "carries 10.0.0.5 (IPv4-mapped), which is private"),
    ("64:ff9b::10.0.0.5", "carries 10.0.0.5 (NAT64), which is private"),
    ("64:ff9b::127.0.0.1", "carries 127.0.0.1 (NAT64), which is loopback"),
    ("64:ff9b:1::808:808", "local-use NAT64"),
    ("2002:7f00:1::1", "carries 127.0.0.1 (6to4), which is loopback"),
    ("2002:c0a8:101::1", "carries 192.168.1.1 (6to4), which is private"),
    (teredo("8.8.8.8", "10.0.0.5"), "carries 10.0.0.5 (Teredo client), which is private"),
    (teredo("127.0.0.1", "8.8.8.8"), "carries 127.0.0.1 (Teredo server), which is loopback"),
    ("::127.0.0.1", "IPv4-compatible"),
    ("::8.8.8.8", "IPv4-compatible"),
    ("::ffff:0:8.8.8.8", "IPv4-translated"),
    # the deprecated forms are decoded: what they hide is named...
    ("::10.0.0.5", "carries 10.0.0.5 (IPv4-compatible), which is private (10.0.0.0/8)"),
    ("::ffff:0:127.0.0.1", "carries 127.0.0.1 (IPv4-translated), which is loopback"),
    ("::ffff:0:c0a8:101", "carries 192.168.1.1 (IPv4-translated), which is private"),
    # ...and a public address in them is still refused: the forms are not global
    ("::ffff:0:808:808", "is IPv4-translated (::ffff:0:0:0/96)"),
    ("::808:808", "is IPv4-compatible (deprecated) (::/96)"),
]

METADATA = [
    "169.254.169.254",
    "169.254.170.2",
    "169.254.170.23",
    "100.100.100.200",
    "192.0.0.192",
    "fd00:ec2::254",
    "fd00:ec2::23",
    "fd20:ce::254",  # GCP over IPv6
    "::ffff:169.254.169.254",
    "64:ff9b::a9fe:a9fe",
    "2002:a9fe:a9fe::1",
    # hidden in the deprecated forms, which allow_private would otherwise let through
    "::169.254.169.254",  # IPv4-compatible
    "::a9fe:a9fe",  # the same, as a URL parser prints it
    "::100.100.100.200",
    "::ffff:0:169.254.169.254",  # IPv4-translated
    "::ffff:0:6464:64c8",  # 100.100.100.200, translated
    teredo("169.254.169.254", "8.8.8.8"),
]

PUBLIC = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.216.34",
    "100.63.255.255",  # just below carrier-grade NAT
    "100.128.0.0",  # just above it
    "172.32.0.1",  # just above 172.16.0.0/12
    "2606:4700:4700::1111",
    "2a00:1450:4001:80b::200e",
    "::ffff:8.8.8.8",
    "64:ff9b::8.8.8.8",
    "2002:808:808::1",
    teredo("8.8.8.8", "8.8.4.4"),
]


@pytest.mark.parametrize(("address", "reason"), FORBIDDEN)
def test_forbidden_addresses_are_refused_with_their_reason(address: str, reason: str) -> None:
    with pytest.raises(BlockedAddress) as refused:
        check_address(ip_address(address), STRICT)
    assert reason in refused.value.reason
    assert "CONCH_ALLOW_PRIVATE_URLS" in refused.value.reason


@pytest.mark.parametrize("address", METADATA)
def test_metadata_endpoints_are_refused_even_when_private_addresses_are_allowed(
    address: str,
) -> None:
    for policy in (STRICT, OutboundPolicy(allow_private=True)):
        with pytest.raises(BlockedAddress, match="cloud metadata endpoint"):
            check_address(ip_address(address), policy)


def test_an_allowed_network_naming_a_metadata_endpoint_opens_it() -> None:
    policy = OutboundPolicy(allowed_networks=parse_networks(["169.254.169.254/32"]))
    for form in ("169.254.169.254", "::ffff:169.254.169.254", "::169.254.169.254"):
        check_address(ip_address(form), policy)
    with pytest.raises(BlockedAddress, match="cloud metadata endpoint"):
        check_address(ip_address("169.254.170.2"), policy)  # only the address named
    ipv6 = OutboundPolicy(allowed_networks=parse_networks(["fd00:ec2::254/128"]))
    check_address(ip_address("fd00:ec2::254"), ipv6)


# (allowed networks, a metadata address they contain but do not name exactly)
WIDE_ENTRIES = [
    ("100.64.0.0/10", "100.100.100.200"),  # Tailscale's range holds Alibaba's endpoint
    ("169.254.0.0/16", "169.254.169.254"),
    ("169.254.169.0/24", "169.254.169.254"),
    ("0.0.0.0/0", "169.254.169.254"),
    ("0.0.0.0/0", "::ffff:169.254.169.254"),
    ("0.0.0.0/0", "::169.254.169.254"),
    ("fd00::/8", "fd00:ec2::254"),
    ("fc00::/7", "fd20:ce::254"),
    ("::/0", "fd00:ec2::23"),
    ("::/0", "::ffff:0:169.254.169.254"),
    ("::ffff:0:0/96", "::ffff:169.254.169.254"),
    ("169.254.169.254/31", "169.254.169.254"),
]


@pytest.mark.parametrize(("networks", "address"), WIDE_ENTRIES)
def test_only_an_entry_naming_the_metadata_address_exactly_opens_it(
    networks: str, address: str
) -> None:
    for allow_private in (False, True):
        policy = OutboundPolicy(
            allow_private=allow_private, allowed_networks=parse_networks([networks])
        )
        with pytest.raises(BlockedAddress, match="cloud metadata endpoint") as refused:
            check_address(ip_address(address), policy)
        assert "naming exactly that address" in refused.value.reason


def test_a_wide_entry_still_opens_its_other_addresses() -> None:
    policy = OutboundPolicy(allowed_networks=parse_networks(["100.64.0.0/10", "fd00::/8"]))
    check_address(ip_address("100.100.100.201"), policy)
    check_address(ip_address("fd00:ec2::255"), policy)


def test_an_address_carrying_ipv4_passes_only_when_every_carried_address_does() -> None:
    ten = OutboundPolicy(allowed_networks=parse_networks(["10.0.0.0/8"]))
    check_address(ip_address(teredo("8.8.8.8", "10.0.0.5")), ten)  # public server, allowed client
    with pytest.raises(BlockedAddress, match=r"carries 127\.0\.0\.1 \(Teredo server\)"):
        check_address(ip_address(teredo("127.0.0.1", "10.0.0.5")), ten)
    both = OutboundPolicy(allowed_networks=parse_networks(["10.0.0.0/8", "127.0.0.1/32"]))
    check_address(ip_address(teredo("127.0.0.1", "10.0.0.5")), both)
    itself = OutboundPolicy(allowed_networks=parse_networks(["2001::/32"]))
    check_address(ip_address(teredo("127.0.0.1", "10.0.0.5")), itself)
    # an allowed IPv4 network admits the deprecated forms carrying its addresses
    check_address(ip_address("::10.0.0.5"), ten)
    check_address(ip_address("::ffff:0:10.0.0.5"), ten)
    with pytest.raises(BlockedAddress, match="IPv4-compatible"):
        check_address(ip_address("::8.8.8.8"), ten)


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address: str) -> None:
    check_address(ip_address(address), STRICT)


@pytest.mark.parametrize("address", [a for a, _ in FORBIDDEN])
def test_allow_private_lifts_the_address_rule(address: str) -> None:
    check_address(ip_address(address), OutboundPolicy(allow_private=True))


def test_allowed_networks_lift_the_rule_for_those_networks_only() -> None:
    policy = OutboundPolicy(allowed_networks=parse_networks(["10.0.0.0/8", "fd12::/16"]))
    for allowed in ("10.0.0.5", "10.255.0.1", "::ffff:10.0.0.5", "64:ff9b::a00:5", "fd12::7"):
        check_address(ip_address(allowed), policy)
    for refused in ("192.168.1.1", "127.0.0.1", "fd13::1"):
        with pytest.raises(BlockedAddress):
            check_address(ip_address(refused), policy)


def test_a_resolved_name_is_refused_by_its_range_without_revealing_the_address() -> None:
    with pytest.raises(BlockedAddress) as refused:
        check_address(ip_address("10.20.30.40"), STRICT, host="images.internal")
    assert refused.value.reason.startswith(
        "images.internal resolves to an address that is private (10.0.0.0/8)"
    )
    hidden = [
        ("10.20.30.40", "private (10.0.0.0/8)"),
        ("64:ff9b::a14:1e28", "carries an IPv4 address (NAT64), which is private (10.0.0.0/8)"),
        ("::ffff:0:a14:1e28", "carries an IPv4 address (IPv4-translated), which is private"),
        ("169.254.169.254", "is a cloud metadata endpoint"),
        ("fd20:ce::254", "is a cloud metadata endpoint"),
    ]
    for address, kind in hidden:
        with pytest.raises(BlockedAddress) as refused:
            check_address(ip_address(address), STRICT, host="images.internal")
        assert kind in refused.value.reason
        for spelled in ("10.20.30.40", "a14:1e28", "169.254.169.254", "fd20:ce::254"):
            assert spelled not in refused.value.reason
    # a literal in the URL is the caller's own: it is echoed
    with pytest.raises(BlockedAddress, match=r"^address 10\.20\.30\.40 is private"):
        check_address(ip_address("10.20.30.40"), STRICT)


def test_the_policy_comes_from_settings() -> None:
    settings = Settings(
        allow_private_urls=True,
        allowed_networks=["192.168.0.0/16", " 10.1.2.3/8 "],
        fetch_connect_timeout=1.5,
    )
    policy = OutboundPolicy.from_settings(settings)
    assert policy.allow_private
    assert [str(n) for n in policy.allowed_networks] == ["192.168.0.0/16", "10.0.0.0/8"]
    assert policy.connect_timeout == 1.5


def test_a_bad_network_is_a_configuration_error_that_names_the_setting() -> None:
    with pytest.raises(ValueError, match="CONCH_ALLOWED_NETWORKS: 'ten' is not a network"):
        parse_networks(["ten"])


def test_a_bad_network_fails_when_the_settings_load(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONCH_ALLOWED_NETWORKS", '["10.0.0.0/8", "192.168.0.0/33"]')
    with pytest.raises(ValidationError, match=r"'192\.168\.0\.0/33' is not a network"):
        Settings()
