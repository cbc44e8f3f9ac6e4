"""Name resolution for the guard: one lookup per request, injectable for tests.

A :data:`Resolver` takes a host name and a port and returns the addresses to try, in order;
it raises :class:`OSError` when the name does not resolve.

The system resolver runs ``getaddrinfo`` (a blocking call) in a small thread pool of its
own, not in the event loop's default executor: a user who names hosts whose DNS never
answers then ties up at most :data:`DNS_THREADS` threads, and the default executor stays
free for everything else the server runs in threads (database calls, image decoding).
A lookup waiting for a thread is abandoned with its request's deadline.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from ipaddress import ip_address

from conch.net.addresses import IPAddress

Resolver = Callable[[str, int], Awaitable[Sequence[IPAddress]]]

DNS_THREADS = 8
"""Lookups the system resolver runs at once, per process."""

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _dns_executor() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(DNS_THREADS, thread_name_prefix="conch-dns")
        return _executor


def _forget_executor() -> None:
    # A forked child has the pool but not its threads: it makes a pool of its own.
    global _executor, _executor_lock
    _executor, _executor_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_executor)


async def system_resolver(host: str, port: int) -> list[IPAddress]:
    """The operating system's answer, from ``getaddrinfo`` in the guard's own threads."""
    loop = asyncio.get_running_loop()
    answers = await loop.run_in_executor(
        _dns_executor(),
        socket.getaddrinfo,
        host,
        port,
        0,
        socket.SOCK_STREAM,
        socket.IPPROTO_TCP,
    )
    addresses: list[IPAddress] = []
    for *_, sockaddr in answers:
        address = ip_address(sockaddr[0])
        # A scoped (link-local) address needs its zone, which a URL cannot carry.
        if getattr(address, "scope_id", None) is None and address not in addresses:
            addresses.append(address)
    return addresses
