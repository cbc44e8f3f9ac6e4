"""A body over the server's limit is refused in the caller's dialect, declared or not."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from support.live import SERVER_ENV, LiveConch

LIMIT = 1000


@pytest.fixture(scope="module")
def small_conch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveConch, str]]:
    env = {**SERVER_ENV, "CONCH_MAX_REQUEST_BYTES": str(LIMIT), "CONCH_WORKERS": "0"}
    server = LiveConch(Path(tmp_path_factory.mktemp("small")), env)
    key = server.create_key()
    with server:
        yield server, key


def oversized_body() -> bytes:
    return json.dumps({"model": "I2V-01", "prompt": "x" * 2 * LIMIT}).encode()


def test_a_declared_oversize_body_is_refused_before_it_is_read(
    small_conch: tuple[LiveConch, str],
) -> None:
    server, key = small_conch
    with server.client(key) as client:
        answer = client.post("/v1/video_generation", content=oversized_body())
    assert answer.status_code == 200
    resp = answer.json()["base_resp"]
    assert resp["status_code"] == 2013 and f"over {LIMIT} bytes" in resp["status_msg"]


def test_a_streamed_oversize_body_is_cut_off_in_the_dialect(
    small_conch: tuple[LiveConch, str],
) -> None:
    server, key = small_conch
    body = oversized_body()
    chunks = (body[i : i + 100] for i in range(0, len(body), 100))  # no Content-Length
    with server.client(key) as client:
        answer = client.post(
            "/v1/tasks/submit", content=chunks, headers={"Content-Type": "application/json"}
        )
    assert answer.status_code == 400, answer.text  # Modelverse's invalid request
    assert f"over {LIMIT} bytes" in answer.json()["error"]["message"]


def test_bodies_within_the_limit_are_read(small_conch: tuple[LiveConch, str]) -> None:
    server, key = small_conch
    with server.client(key) as client:
        answer = client.post("/v1/video_generation", json={"model": "I2V-01"})
    assert "first_frame_image" in answer.json()["base_resp"]["status_msg"]
    assert httpx.get(f"{server.base_url}/openapi.json").status_code == 200
