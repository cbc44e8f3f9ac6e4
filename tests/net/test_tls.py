"""https on a pinned connection: SNI and certificate checks still use the name.

A local CA (trustme) signs a certificate for ``images.test`` only; the server records the
SNI name each handshake carried.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable

import pytest
import trustme

from conch.net import ConnectFailed, OutboundPolicy, fetch
from conch.net.policy import parse_networks
from net.loopback import FakeDns
from support.http_server import LoopbackServer

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_server(
    ca: trustme.CA, server_factory: Callable[..., LoopbackServer]
) -> tuple[LoopbackServer, list[str | None]]:
    """An https server for images.test, and the SNI names it was greeted with."""
    names: list[str | None] = []
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("images.test").configure_cert(context)

    def remember(_socket: object, name: str | None, _context: ssl.SSLContext) -> None:
        names.append(name)

    context.sni_callback = remember
    return server_factory(tls=context), names


def trusting(ca: trustme.CA, dns: FakeDns) -> OutboundPolicy:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return OutboundPolicy(
        allowed_networks=parse_networks(["127.0.0.1/32"]), resolver=dns, ssl_context=context
    )


async def test_the_pinned_connection_sends_sni_and_verifies_the_name(
    ca: trustme.CA, tls_server: tuple[LoopbackServer, list[str | None]], dns: FakeDns
) -> None:
    server, names = tls_server
    server.serve("/cat.png", b"secure bytes")
    dns.add("images.test", ["127.0.0.1"])
    url = server.url("/cat.png", host="images.test")
    assert await fetch(url, trusting(ca, dns), max_bytes=99, deadline=5) == b"secure bytes"
    assert names == ["images.test"]
    assert server.seen[0].host == f"images.test:{server.port}"


async def test_a_certificate_for_another_name_is_refused(
    ca: trustme.CA, tls_server: tuple[LoopbackServer, list[str | None]], dns: FakeDns
) -> None:
    server, names = tls_server
    server.serve("/cat.png", b"secure bytes")
    dns.add("other.test", ["127.0.0.1"])
    url = server.url("/cat.png", host="other.test")
    with pytest.raises(ConnectFailed, match=r"certificate is not valid for 'other\.test'"):
        await fetch(url, trusting(ca, dns), max_bytes=99, deadline=5)
    assert names == ["other.test"]
    assert server.seen == []


async def test_an_unknown_authority_is_refused_by_default(
    tls_server: tuple[LoopbackServer, list[str | None]], dns: FakeDns
) -> None:
    server, _ = tls_server
    dns.add("images.test", ["127.0.0.1"])
    policy = OutboundPolicy(allowed_networks=parse_networks(["127.0.0.1/32"]), resolver=dns)
    with pytest.raises(ConnectFailed, match="CERTIFICATE_VERIFY_FAILED"):
        await fetch(server.url("/cat.png", host="images.test"), policy, max_bytes=99, deadline=5)
    assert server.seen == []
