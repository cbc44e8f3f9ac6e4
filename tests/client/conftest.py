"""A live conch shared by the SDK tests, credentials in every dialect, real frames on disk."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from client.helpers import Frames
from conch.client.token_cache import TOKEN_CACHE_ENV
from support.dialects import ChanjingCredentials, create_chanjing_key
from support.live import SERVER_ENV, LiveConch
from support.photos import clip_frame, encode, photo


@pytest.fixture(autouse=True)
def token_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Chanjing tokens shared in the test's folder, never in the user's home."""
    folder = tmp_path / "tokens"
    monkeypatch.setenv(TOKEN_CACHE_ENV, str(folder))
    return folder


@pytest.fixture(scope="session")
def frames(tmp_path_factory: pytest.TempPathFactory) -> Frames:
    folder = tmp_path_factory.mktemp("frames")
    first, last, still = folder / "first.jpg", folder / "last.png", folder / "astronaut.jpg"
    first.write_bytes(encode(clip_frame(0)))
    last.write_bytes(encode(clip_frame(24), "png"))
    still.write_bytes(encode(photo("astronaut")))
    return Frames(first, last, still)


@pytest.fixture(scope="session")
def conch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveConch]:
    with LiveConch(tmp_path_factory.mktemp("conch"), SERVER_ENV) as server:
        yield server


@pytest.fixture(scope="session")
def key(conch: LiveConch) -> str:
    return conch.create_key("sdk")


@pytest.fixture(scope="session")
def app(conch: LiveConch) -> ChanjingCredentials:
    return create_chanjing_key(conch, "sdk-chanjing")
