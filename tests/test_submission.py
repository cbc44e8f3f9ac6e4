"""The one way in, against real services: a repeated task id, bounded image work, URL sizes.

The id generator is replaced in one test: it stands in for chance (two submits drawing the
same id), not for a component; everything else is the real store, media folder and a real
image server on 127.0.0.1.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from conch import submission
from conch.config import Settings
from conch.domain.errors import InvalidParams
from conch.domain.request import MAX_URL_CHARS, GenerationRequest, ImageRole
from conch.services import Services
from conch.store.keys import ApiKey
from support.http_server import LoopbackServer
from support.photos import data_url, encode, photo

pytestmark = pytest.mark.anyio

MODEL = "MiniMax-Hailuo-02"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    opened = Services.open(Settings(data_dir=tmp_path / "var", allow_private_urls=True))
    yield opened
    opened.close()


@pytest.fixture
def owner(services: Services) -> ApiKey:
    return services.keys.create("owner")[0]


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    local = LoopbackServer().start()
    yield local
    local.stop()


def image_request(first: str, **fields: str) -> GenerationRequest:
    return GenerationRequest(MODEL, prompt="a harbour [Push in]", first_frame_image=first, **fields)  # type: ignore[arg-type]


def input_files(services: Services) -> list[Path]:
    return sorted(path for path in (services.media.root / "inputs").rglob("*") if path.is_file())


async def test_a_repeated_task_id_leaves_the_first_tasks_inputs_alone(
    services: Services, owner: ApiKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    astronaut, coffee = encode(photo("astronaut")), encode(photo("coffee"))
    draws = iter([7001, 7001, 7002])  # the second submit draws the first one's id first
    monkeypatch.setattr(submission, "new_id", lambda: next(draws))
    first = await submission.submit(
        services, owner, image_request(data_url(astronaut)), dialect="minimax"
    )
    second = await submission.submit(
        services, owner, image_request(data_url(coffee)), dialect="minimax"
    )
    assert (first.id, second.id) == (7001, 7002)
    first_key = first.inputs[ImageRole.FIRST_FRAME].key
    second_key = second.inputs[ImageRole.FIRST_FRAME].key
    assert first_key != second_key
    assert services.media.read(first_key) == astronaut  # not overwritten, not deleted
    assert services.media.read(second_key) == coffee
    assert services.tasks.get(owner.id, 7001).inputs == first.inputs


async def test_a_submit_that_cannot_create_its_task_deletes_only_its_own_files(
    services: Services, owner: ApiKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    astronaut, coffee = encode(photo("astronaut")), encode(photo("coffee"))
    monkeypatch.setattr(submission, "new_id", lambda: 7001)  # every draw collides
    first = await submission.submit(
        services, owner, image_request(data_url(astronaut)), dialect="minimax"
    )
    before = input_files(services)
    with pytest.raises(RuntimeError, match="could not draw a fresh task id"):
        await submission.submit(services, owner, image_request(data_url(coffee)), dialect="minimax")
    assert input_files(services) == before  # the second submit's file is gone, the first's kept
    assert services.media.read(first.inputs[ImageRole.FIRST_FRAME].key) == astronaut
    assert len(list((services.media.root / "inputs").iterdir())) == 1  # nor its folder left


async def test_a_failed_image_cancels_its_siblings_download(
    tmp_path: Path, server: LoopbackServer
) -> None:
    # A fetch deadline longer than the test may take: only a cancellation ends the sibling.
    settings = Settings(data_dir=tmp_path / "var", allow_private_urls=True, fetch_deadline=600)
    services = Services.open(settings)
    owner = services.keys.create("owner")[0]
    connected, hung_up = threading.Event(), threading.Event()

    def hang(handler: BaseHTTPRequestHandler) -> None:
        # Answer nothing; note when conch closes the connection (it was cancelled).
        connected.set()
        handler.connection.settimeout(120)
        try:
            if handler.connection.recv(1, socket.MSG_PEEK) == b"":
                hung_up.set()
        except OSError:
            hung_up.set()

    def not_an_image_once_the_first_is_downloading(handler: BaseHTTPRequestHandler) -> None:
        connected.wait(10)  # the failure comes while the sibling's download is under way
        handler.send_response(200)
        handler.send_header("Content-Length", "12")
        handler.end_headers()
        handler.wfile.write(b"not an image")

    server.routes["/slow.jpg"] = hang
    server.routes["/bad.jpg"] = not_an_image_once_the_first_is_downloading
    request = image_request(server.url("/slow.jpg"), last_frame_image=server.url("/bad.jpg"))
    with pytest.raises(InvalidParams) as refused:
        await submission.submit(services, owner, request, dialect="minimax")
    assert connected.is_set()
    assert refused.value.field == ImageRole.LAST_FRAME
    assert hung_up.wait(120), "the first frame's download went on after the failure"
    assert services.tasks.list(owner.id) == ([], 0)
    services.close()


async def test_image_and_callback_urls_have_a_documented_maximum_length(
    services: Services, owner: ApiKey
) -> None:
    jpeg = data_url(encode(photo("rocket")))
    too_long = "https://images.example/" + "a" * MAX_URL_CHARS
    with pytest.raises(InvalidParams, match=f"of at most {MAX_URL_CHARS} characters") as refused:
        await submission.submit(services, owner, image_request(too_long), dialect="minimax")
    assert refused.value.field == ImageRole.FIRST_FRAME
    hook = "https://hooks.example/" + "a" * MAX_URL_CHARS
    with pytest.raises(InvalidParams, match=f"of at most {MAX_URL_CHARS} characters") as refused:
        await submission.submit(
            services, owner, image_request(jpeg, callback_url=hook), dialect="minimax"
        )
    assert refused.value.field == "callback_url"
    assert services.tasks.list(owner.id) == ([], 0)
    # a data URL is no URL to fetch: it may be longer (its size is capped as an image's)
    assert len(jpeg) > MAX_URL_CHARS
    await submission.submit(services, owner, image_request(jpeg), dialect="minimax")
