"""The system resolver: real lookups, in threads of the guard's own."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from ipaddress import ip_address

from conch.net.resolver import system_resolver


def test_lookups_do_not_wait_for_the_loops_default_executor() -> None:
    """Slow DNS cannot starve the threads the server needs for everything else, nor the
    other way round: with every default thread busy, a lookup still answers."""
    release = threading.Event()

    async def main() -> list[object]:
        loop = asyncio.get_running_loop()
        busy = ThreadPoolExecutor(1)
        loop.set_default_executor(busy)
        blocked = loop.run_in_executor(None, release.wait, 30)
        try:
            return list(await asyncio.wait_for(system_resolver("localhost", 80), 5))
        finally:
            release.set()
            await blocked

    addresses = asyncio.run(main())
    assert ip_address("127.0.0.1") in addresses or ip_address("::1") in addresses
