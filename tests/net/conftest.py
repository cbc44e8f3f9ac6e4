"""Fixtures for the outbound guard's tests: loopback servers and a fake DNS."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator

import pytest

from net.loopback import FakeDns, closed_port, full_backlog
from support.http_server import LoopbackServer


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    """An HTTP server on 127.0.0.1."""
    local = LoopbackServer().start()
    yield local
    local.stop()


@pytest.fixture
def server_factory() -> Iterator[Callable[..., LoopbackServer]]:
    """Start more servers (other loopback addresses, TLS); all stopped afterwards."""
    started: list[LoopbackServer] = []

    def start(host: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> LoopbackServer:
        local = LoopbackServer(host, tls=tls).start()
        started.append(local)
        return local

    yield start
    for local in started:
        local.stop()


@pytest.fixture
def dns() -> FakeDns:
    return FakeDns()


@pytest.fixture
def refused_port() -> int:
    """A loopback port nothing listens on."""
    return closed_port()


@pytest.fixture
def unanswered_port() -> Iterator[int]:
    """A loopback port where connection attempts hang."""
    with full_backlog() as port:
        yield port
