"""A live conch and a server of real images, shared by the API tests."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from support.files_http import FileServer
from support.live import SERVER_ENV, LiveConch
from support.photos import FORMATS, clip_frame, encode, photo


@pytest.fixture(scope="session")
def files() -> Iterator[FileServer]:
    """Real pictures: two frames of real footage, photos in every allowed format."""
    with FileServer() as server:
        server.put("/clip/first.jpg", encode(clip_frame(0)))
        server.put("/clip/last.jpg", encode(clip_frame(24)))
        server.put("/photo/astronaut.png", encode(photo("astronaut"), "png"), FORMATS["png"])
        server.put("/photo/coffee.webp", encode(photo("coffee"), "webp"), FORMATS["webp"])
        server.put("/photo/rocket.jpg", encode(photo("rocket")))
        yield server


@pytest.fixture(scope="session")
def conch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveConch]:
    with LiveConch(tmp_path_factory.mktemp("conch"), SERVER_ENV) as server:
        yield server


@pytest.fixture(scope="session")
def key(conch: LiveConch) -> str:
    return conch.create_key("tests")


@pytest.fixture
def api(conch: LiveConch, key: str) -> Iterator[httpx.Client]:
    with conch.client(key) as client:
        yield client
