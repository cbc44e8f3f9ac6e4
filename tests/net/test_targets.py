"""Host forms in URLs, and the single lookup: what gets resolved, checked and pinned."""

from __future__ import annotations

from ipaddress import ip_address

import pytest

from conch.net import BadUrl, BlockedAddress, ConnectFailed, OutboundPolicy
from conch.net.targets import display_url, pin
from net.loopback import FakeDns

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    "url",
    [
        "http://2130706433/",  # 127.0.0.1 as one decimal number
        "http://0x7f000001/",  # ... as hex
        "http://017700000001/",  # ... as octal
        "http://0x7f.1/",
        "http://127.1/",
        "http://010.0.0.1/",  # octal to inet_aton, 10.0.0.1 to others
        "http://127.0.0.1./",
        "http://images.0x7f/",
    ],
)
async def test_legacy_numeric_hosts_are_refused_without_a_lookup(url: str, dns: FakeDns) -> None:
    # httpx itself already refuses some (010.0.0.1); the guard refuses the rest
    with pytest.raises(BadUrl, match=r"not a standard IP address|Invalid IPv4 address"):
        await pin(url, OutboundPolicy(allow_private=True, resolver=dns))
    assert dns.lookups == []


async def test_ipv6_zone_ids_are_refused(dns: FakeDns) -> None:
    with pytest.raises(BadUrl, match="zone ids"):
        await pin("http://[fe80::1%25eth0]:8080/", OutboundPolicy(allow_private=True, resolver=dns))
    with pytest.raises(BadUrl, match="'images%20here' is not a valid name"):
        await pin("http://images here/", OutboundPolicy(allow_private=True, resolver=dns))
    assert dns.lookups == []


def test_urls_are_shown_without_their_secrets() -> None:
    assert display_url("https://user:pw@hooks.example:8443/h?token=s3cret#x") == (
        "https://hooks.example:8443/h"
    )
    assert display_url("not a url") == "<a URL without a host>"


@pytest.mark.parametrize(
    "url", ["ftp://images.example/a.png", "file:///etc/passwd", "gopher://x/", "//x/", "http://"]
)
async def test_only_absolute_http_urls_are_requested(url: str, dns: FakeDns) -> None:
    with pytest.raises(BadUrl):
        await pin(url, OutboundPolicy(resolver=dns))
    assert dns.lookups == []


async def test_ip_literals_are_checked_without_a_lookup(dns: FakeDns) -> None:
    policy = OutboundPolicy(resolver=dns)
    target = await pin("https://8.8.8.8/a.png", policy)
    assert target.addresses == (ip_address("8.8.8.8"),)
    target = await pin("http://[2606:4700:4700::1111]:8080/a.png", policy)
    assert str(target.url_for(target.addresses[0])) == "http://[2606:4700:4700::1111]:8080/a.png"
    with pytest.raises(BlockedAddress, match=r"address 10\.0\.0\.5 is private"):
        await pin("http://10.0.0.5/a.png", policy)
    with pytest.raises(BlockedAddress, match=r"carries 127\.0\.0\.1 \(IPv4-mapped\)"):
        await pin("http://[::ffff:127.0.0.1]/a.png", policy)
    assert dns.lookups == []


async def test_a_name_is_pinned_to_its_checked_addresses(dns: FakeDns) -> None:
    dns.add("images.example", ["93.184.216.34", "2606:2800:220:1::1"])
    target = await pin("https://images.example:8443/cat.jpg?size=1", OutboundPolicy(resolver=dns))
    assert target.addresses == (ip_address("93.184.216.34"), ip_address("2606:2800:220:1::1"))
    assert str(target.url_for(target.addresses[0])) == "https://93.184.216.34:8443/cat.jpg?size=1"
    assert target.host_header == "images.example:8443"
    assert target.extensions == {"sni_hostname": "images.example"}
    assert dns.lookups == ["images.example"]


async def test_a_name_with_any_forbidden_answer_is_refused(dns: FakeDns) -> None:
    dns.add("mixed.example", ["93.184.216.34", "10.0.0.5"])
    with pytest.raises(
        BlockedAddress, match=r"mixed\.example resolves to an address that is private"
    ) as refused:
        await pin("http://mixed.example/", OutboundPolicy(resolver=dns))
    assert "10.0.0.5" not in refused.value.reason  # the internal address stays unsaid


async def test_localhost_and_metadata_names_are_refused(dns: FakeDns) -> None:
    dns.add("localhost", ["127.0.0.1", "::1"])
    dns.add("metadata.google.internal", ["169.254.169.254"])
    policy = OutboundPolicy(resolver=dns)
    with pytest.raises(BlockedAddress, match="loopback"):
        await pin("http://localhost:8000/", policy)
    with pytest.raises(BlockedAddress, match="cloud metadata endpoint"):
        await pin("http://metadata.google.internal/computeMetadata/v1/", policy)


async def test_international_names_are_resolved_in_ascii(dns: FakeDns) -> None:
    dns.add("xn--bcher-kva.example", ["93.184.216.34"])
    target = await pin("https://bücher.example/a.png", OutboundPolicy(resolver=dns))
    assert target.host == "xn--bcher-kva.example"
    assert target.host_header == "xn--bcher-kva.example"


async def test_numeric_labels_before_a_real_top_level_domain_are_names(dns: FakeDns) -> None:
    dns.add("1.2.3.example", ["93.184.216.34"])
    await pin("http://1.2.3.example/", OutboundPolicy(resolver=dns))
    assert dns.lookups == ["1.2.3.example"]


async def test_a_name_that_does_not_resolve_fails_to_connect(dns: FakeDns) -> None:
    with pytest.raises(ConnectFailed, match=r"could not resolve nowhere\.example"):
        await pin("http://nowhere.example/", OutboundPolicy(resolver=dns))
