"""Fair fetching: one key's slow image URLs hold only that key's download slots, so another
key's submits go through while they hang, and data URLs need no slot at all."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import anyio
import pytest

from conch import submission
from conch.config import Settings
from conch.domain.request import GenerationRequest
from conch.media.slots import FetchSlots
from conch.services import Services
from support.http_server import LoopbackServer
from support.photos import data_url, encode, photo

pytestmark = pytest.mark.anyio

MODEL = "MiniMax-Hailuo-02"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    settings = Settings(
        data_dir=tmp_path / "var", allow_private_urls=True, fetch_slots=3, fetch_slots_per_key=2
    )
    opened = Services.open(settings)
    yield opened
    opened.close()


def _request(first: str) -> GenerationRequest:
    return GenerationRequest(MODEL, prompt="a harbour", first_frame_image=first)


async def test_a_keys_hanging_urls_do_not_hold_up_another_key(services: Services) -> None:
    slow, fast = services.keys.create("slow")[0], services.keys.create("fast")[0]
    release, hanging = threading.Event(), threading.Semaphore(0)
    picture = encode(photo("coffee"))
    happened: list[str] = []

    def hang_until_released(handler: BaseHTTPRequestHandler) -> None:
        hanging.release()
        # Hold the download (and its slot) until the other key is through. Were slots
        # shared, that would never come, and the wait would end first.
        release.wait(60)
        happened.append("a hanging download ended")
        _serve(handler, picture)

    server = LoopbackServer().start()
    server.routes["/hang.jpg"] = hang_until_released
    server.routes["/coffee.jpg"] = lambda handler: _serve(handler, picture)
    try:
        async with anyio.create_task_group() as group:
            for _ in range(4):  # more than the key's two slots: two of them wait
                group.start_soon(_submit, services, slow.id, server.url("/hang.jpg"))
            for _ in range(2):
                await anyio.to_thread.run_sync(hanging.acquire)  # the slow key's slots are held
            # While they hang, the other key's submits go through: a data URL, and a URL.
            for source in (data_url(picture), server.url("/coffee.jpg")):
                await _submit(services, fast.id, source)
                happened.append("the other key's submit was accepted")
            release.set()
    finally:
        release.set()
        server.stop()
    assert happened[:2] == ["the other key's submit was accepted"] * 2, happened
    assert services.tasks.list(fast.id)[1] == 2
    assert services.tasks.list(slow.id)[1] == 4  # the slow key's submits finished too


async def _submit(services: Services, key_id: int, source: str) -> object:
    owner = next(key for key in services.keys.list() if key.id == key_id)
    return await submission.submit(services, owner, _request(source), dialect="minimax")


def _serve(handler: BaseHTTPRequestHandler, body: bytes) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "image/jpeg")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


async def test_a_key_holds_at_most_its_own_slots() -> None:
    slots = FetchSlots(per_key=2, total=3)
    entered = 0

    async def hold(key: int, done: anyio.Event) -> None:
        nonlocal entered
        async with slots.held(key):
            entered += 1
            await done.wait()

    done = anyio.Event()
    async with anyio.create_task_group() as group:
        for _ in range(3):
            group.start_soon(hold, 1, done)
        await anyio.wait_all_tasks_blocked()
        assert entered == 2  # the key's third waits, though a slot of everyone's is free
        group.start_soon(hold, 2, done)
        await anyio.wait_all_tasks_blocked()
        assert entered == 3  # another key takes that free slot at once
        done.set()
    assert entered == 4
