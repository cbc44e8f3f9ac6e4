"""A resolver the test controls and ports that refuse or hang, for the outbound guard's tests.

The servers they talk to are :class:`support.http_server.LoopbackServer`.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from ipaddress import ip_address

from conch.net.addresses import IPAddress


@dataclass
class FakeDns:
    """A resolver with a fixed table; each lookup pops the next answer for the name."""

    answers: dict[str, list[Sequence[str]]] = field(default_factory=dict)
    lookups: list[str] = field(default_factory=list)

    def add(self, host: str, *answers: Sequence[str]) -> None:
        self.answers[host] = list(answers)

    async def __call__(self, host: str, _port: int) -> list[IPAddress]:
        self.lookups.append(host)
        queue = self.answers.get(host)
        if not queue:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        return [ip_address(address) for address in answer]


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@contextmanager
def full_backlog() -> Iterator[int]:
    """A loopback port whose accept queue is full, so that Linux drops further SYNs:
    a new connection attempt hangs until its connect timeout."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port: int = listener.getsockname()[1]
        fillers = [socket.socket() for _ in range(3)]
        try:
            for filler in fillers:
                filler.setblocking(False)
                filler.connect_ex(("127.0.0.1", port))
            yield port
        finally:
            for filler in fillers:
                filler.close()
