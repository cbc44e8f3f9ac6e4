"""MiniMax's v2 API with bodies as public clients write them (LiteLLM's MiniMax client:
``content[]`` with roles, ``resolution``, ``duration``, ``ratio``), to a decoded MP4; the
list; and refusals on real HTTP statuses with MiniMax's code in ``base_resp``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conch.media.video import probe
from support.files_http import FileServer
from support.live import LiveConch

CREATE = "/v2/video_generation"
QUERY = "/v2/query/video_generation"
OK = {"status_code": 0, "status_msg": "success"}


@pytest.fixture(scope="module")
def v2(conch: LiveConch) -> Iterator[httpx.Client]:
    with conch.client(conch.create_key("minimax v2")) as client:
        yield client


def text(prompt: str) -> dict[str, Any]:
    return {"type": "text", "text": prompt}


def image(url: str, role: str | None) -> dict[str, Any]:
    item: dict[str, Any] = {"type": "image_url", "image_url": {"url": url}}
    return item if role is None else {**item, "role": role}


def created(client: httpx.Client, body: dict[str, Any]) -> str:
    answer = client.post(CREATE, json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["base_resp"] == OK
    return str(answer.json()["task_id"])


def wait_v2(client: httpx.Client, task_id: str, timeout: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        answer = client.get(f"{QUERY}/{task_id}")
        assert answer.status_code == 200, answer.text
        task = dict(answer.json()["task"])
        if task["status"] in ("succeeded", "failed", "cancelled"):
            return task
        assert task["status"] in ("queued", "running") and time.monotonic() < deadline, task
        time.sleep(0.3)


def test_a_first_frame_as_litellm_sends_it_becomes_a_video(
    v2: httpx.Client, files: FileServer, tmp_path: Path
) -> None:
    body = {
        "model": "MiniMax-H3",
        "content": [
            text("a meadow in the wind"),
            image(files.base_url + "/clip/first.jpg", "first_frame"),
        ],
        "resolution": "768P",
        "duration": 5,
    }
    task = wait_v2(v2, created(v2, body))
    assert task["status"] == "succeeded", task
    assert (task["model"], task["resolution"], task["duration"], task["ratio"]) == (
        "MiniMax-H3", "768P", 5, "adaptive"
    )  # fmt: skip
    assert task["usage"] == {"output_seconds": 5, "input_image_count": 1} and task["error"] is None
    path = tmp_path / "v2.mp4"
    path.write_bytes(httpx.get(task["content"]["url"]).content)
    video = probe(path)
    assert (video.width, video.height, video.frames) == (1366, 768, 120)


def test_first_and_last_frame_with_a_ratio_and_a_listing(
    v2: httpx.Client, files: FileServer, tmp_path: Path
) -> None:
    body = {
        "model": "MiniMax-H3",
        "content": [
            text("spring to summer"),
            image(files.base_url + "/clip/first.jpg", "first_frame"),
            image(files.base_url + "/clip/last.jpg", "last_frame"),
        ],
        "ratio": "1:1",
        "duration": 5,
        "aigc_watermark": True,
    }
    task_id = created(v2, body)
    task = wait_v2(v2, task_id)
    assert (task["status"], task["ratio"]) == ("succeeded", "1:1"), task
    path = tmp_path / "square.mp4"
    path.write_bytes(httpx.get(task["content"]["url"]).content)
    assert (probe(path).width, probe(path).height) == (768, 768)
    page = v2.get(QUERY, params={"page_size": 1, "page_num": 1}).json()
    assert page["base_resp"] == OK and page["total"] >= 2
    assert [item["id"] for item in page["items"]] == [task_id]  # newest first
    second = v2.get(QUERY, params={"page_size": 1, "page_num": 2}).json()
    assert [item["id"] for item in second["items"]] != [task_id]


@pytest.mark.parametrize(
    ("content", "extra", "message"),
    [
        ([text("a cat")], {"ratio": "16:9"}, "cannot invent pictures"),
        (
            [
                text("a cat"),
                {
                    "type": "audio_url",
                    "audio_url": {"url": "https://e.com/a.mp3"},
                    "role": "reference_audio",
                },
            ],
            {},
            "content: content[1]: audio inputs are not accepted",
        ),
        (
            [
                text("a cat"),
                {
                    "type": "video_url",
                    "video_url": {"url": "https://e.com/a.mp4"},
                    "role": "reference_video",
                },
            ],
            {},
            "video inputs are not accepted",
        ),
        (
            [image("https://e.com/a.jpg", "first_frame")],
            {"duration": 4},
            "duration: MiniMax-H3 at 768P allows duration 5 to 15 (seconds), got 4",
        ),
        (
            [image("https://e.com/a.jpg", "first_frame")],
            {"generate_audio": True},
            "generate_audio: cannot be served: this server renders MiniMax-H3 with the motion",
        ),
        (
            [image("https://e.com/a.jpg", "middle_frame")],
            {},
            "content[0].role must be one of first_frame, last_frame, reference_image",
        ),
    ],
)
def test_refusals_say_what_is_allowed(
    v2: httpx.Client, content: list[dict[str, Any]], extra: dict[str, Any], message: str
) -> None:
    answer = v2.post(CREATE, json={"model": "MiniMax-H3", "content": content, **extra})
    assert answer.status_code == 400, answer.text
    base = answer.json()["base_resp"]
    assert base["status_code"] == 2013 and message in base["status_msg"], base


def test_unknown_tasks_and_keys(v2: httpx.Client, conch: LiveConch) -> None:
    missing = v2.get(f"{QUERY}/123456789")
    assert missing.status_code == 404 and missing.json()["base_resp"]["status_code"] == 2013
    with conch.client("sk-unknown") as stranger:
        refused = stranger.get(f"{QUERY}/123456789")
    assert refused.status_code == 401 and refused.json()["base_resp"]["status_code"] == 2049
