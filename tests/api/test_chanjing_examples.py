"""The example requests of Chanjing's Hailuo-02 page, sent as written (host and image URLs
swapped), carried through to decoded MP4s; the token and query calls they need."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conch.media.video import probe
from conch.wire.chanjing import ChanjingSubmitBody
from support.dialects import (
    ChanjingCredentials,
    chanjing_token,
    create_chanjing_key,
    wait_chanjing,
)
from support.files_http import FileServer
from support.live import LiveConch
from support.photos import clip_frame, encode

# chanjing-hailuo-02-submit.md, 请求参数 Body
BODY_EXAMPLE = """{
  "start_frame": "https://res.chanjing.cc/chanjing/res/aigc_creation/photo/start.jpg",
  "end_frame": "https://res.chanjing.cc/chanjing/res/aigc_creation/photo/end.jpg",
  "ref_prompt": "小狗在草地上奔跑,镜头跟随,阳光自然",
  "creation_type": 4,
  "clarity": 720,
  "video_duration": 6,
  "model_code": "MiniMax-Hailuo-02"
}"""

# chanjing-hailuo-02-submit.md, 示例代码: the shell, Go, Java and Python examples send this.
CODE_EXAMPLE = """{
    "ref_img_url": [
      "https://res.chanjing.cc/chanjing/res/aigc_creation/photo/start.jpg",
      "https://res.chanjing.cc/chanjing/res/aigc_creation/photo/end.jpg"
    ],
    "ref_prompt": "小狗在草地上奔跑,镜头跟随,阳光自然",
    "creation_type": 4,
    "clarity": 720,
    "video_duration": 6,
    "model_code": "MiniMax-Hailuo-02"
}"""
IMAGE_HOST = "https://res.chanjing.cc"
START = "/chanjing/res/aigc_creation/photo/start.jpg"
END = "/chanjing/res/aigc_creation/photo/end.jpg"
EXAMPLES = {"body": BODY_EXAMPLE, "code": CODE_EXAMPLE}


def as_written(example: str, files: FileServer) -> str:
    """The example with its images on the local server (two frames of real footage, 1280x720)."""
    files.put(START, encode(clip_frame(0), quality=95))
    files.put(END, encode(clip_frame(24), quality=95))
    return example.replace(IMAGE_HOST, files.base_url)


@pytest.fixture(scope="module")
def credentials(conch: LiveConch) -> ChanjingCredentials:
    return create_chanjing_key(conch, "chanjing examples")


@pytest.fixture(scope="module")
def token(conch: LiveConch, credentials: ChanjingCredentials) -> str:
    return str(chanjing_token(conch, credentials)["data"]["access_token"])


@pytest.fixture(scope="module")
def client(conch: LiveConch, token: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=conch.base_url, headers={"access_token": token}) as client:
        yield client


@pytest.fixture(scope="module")
def submitted(conch: LiveConch, token: str, files: FileServer) -> dict[str, httpx.Response]:
    """Both examples, posted as the shell example posts them."""
    headers = {"access_token": token, "Content-Type": "application/json"}
    url = f"{conch.base_url}/open/v1/ai_creation/task/submit"
    return {
        name: httpx.post(url, content=as_written(example, files).encode(), headers=headers)
        for name, example in EXAMPLES.items()
    }


@pytest.fixture(scope="module")
def finished(
    submitted: dict[str, httpx.Response], client: httpx.Client
) -> dict[str, dict[str, Any]]:
    return {name: wait_chanjing(client, sent.json()["data"]) for name, sent in submitted.items()}


def test_access_token_answers_as_documented(conch: LiveConch) -> None:
    credentials = create_chanjing_key(conch, "token shape")
    answer = chanjing_token(conch, credentials)
    assert set(answer) == {"trace_id", "code", "msg", "data"}
    assert (answer["code"], answer["msg"]) == (0, "success")
    assert set(answer["data"]) == {"access_token", "expire_in"}
    # expire_in is a unix timestamp, a day away by default
    assert abs(answer["data"]["expire_in"] - (time.time() + 86400)) < 60


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_submit_answers_as_documented(name: str, submitted: dict[str, httpx.Response]) -> None:
    answer = submitted[name]
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"trace_id", "code", "msg", "data"}
    assert (body["code"], body["msg"]) == (0, "success"), body
    assert body["trace_id"] == answer.headers["Trace-Id"]
    uuid.UUID(body["data"])


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_each_example_becomes_a_768p_six_second_video(
    name: str, finished: dict[str, dict[str, Any]], files: FileServer, tmp_path: Path
) -> None:
    task = finished[name]
    assert (task["progress_desc"], task["progress"]) == ("Success", 100), task
    assert (task["type"], task["err_msg"], task["model_code"]) == (4, "", "MiniMax-Hailuo-02")
    images = [files.base_url + START, files.base_url + END]
    assert task["ref_img_url"] == images
    motion = task["motion_info"]
    assert (motion["clarity"], motion["video_duration"]) == (720, 6)
    assert motion["photo_path_url"] == images[0]
    assert motion["ref_prompt"] == "小狗在草地上奔跑,镜头跟随,阳光自然"
    assert isinstance(task["output_url"], list) and len(task["output_url"]) == 1
    video = httpx.get(task["output_url"][0], timeout=30)
    assert video.status_code == 200
    path = tmp_path / f"{name}.mp4"
    path.write_bytes(video.content)
    probed = probe(path)
    # clarity 720 is Hailuo's 768P tier; the video follows the 16:9 first frame
    assert (probed.width, probed.height, probed.frames, probed.fps) == (1366, 768, 144, 24)


def test_the_page_lists_both_examples(
    finished: dict[str, dict[str, Any]], client: httpx.Client
) -> None:
    ids = [task["unique_id"] for task in finished.values()]
    body = {"unique_ids": ids, "type": 4, "page": 1, "page_size": 50, "is_success": False}
    answer = client.post("/open/v1/ai_creation/task/page", json=body).json()
    assert answer["code"] == 0, answer
    page = answer["data"]
    assert sorted(task["unique_id"] for task in page["list"]) == sorted(ids)
    assert page["total"] == 2
    assert page["page_info"] == {"page": 1, "size": 50, "total_count": 2, "total_page": 1}
    assert all(task["output_url"] for task in page["list"])


def test_the_page_filters_and_pages(
    finished: dict[str, dict[str, Any]], client: httpx.Client
) -> None:
    ids = [task["unique_id"] for task in finished.values()]
    newest_first = sorted(finished.values(), key=lambda t: t["id"], reverse=True)  # ids grow

    def page(**body: Any) -> dict[str, Any]:
        answer = client.post("/open/v1/ai_creation/task/page", json=body).json()
        assert answer["code"] == 0, answer
        return dict(answer["data"])

    first = page(page=1, page_size=1)
    second = page(page=2, page_size=1)
    assert first["page_info"] == {"page": 1, "size": 1, "total_count": 2, "total_page": 2}
    assert [first["list"][0]["id"], second["list"][0]["id"]] == [t["id"] for t in newest_first]
    assert page(page=3, page_size=1)["list"] == []
    assert page(is_success=True)["total"] == 2
    assert page(type=3)["total"] == 0  # no other kind of creation is made here
    assert page(unique_ids=ids[:1])["total"] == 1
    # numeric ids (as the other dialects show them) find the same tasks
    assert page(unique_ids=[str(t["id"]) for t in newest_first])["total"] == 2


def test_the_examples_translate_to_the_same_canonical_request() -> None:
    requests = [
        ChanjingSubmitBody.model_validate_json(example).to_request()
        for example in EXAMPLES.values()
    ]
    assert requests[0] == requests[1]
    request = requests[0]
    assert (request.model, request.duration, request.resolution) == ("MiniMax-Hailuo-02", 6, "768P")
    assert request.first_frame_image == IMAGE_HOST + START
    assert request.last_frame_image == IMAGE_HOST + END
    assert request.prompt == "小狗在草地上奔跑,镜头跟随,阳光自然"


def test_callback_single_image_and_ignored_fields() -> None:
    body = ChanjingSubmitBody.model_validate(
        {
            "ref_img_url": "https://example.com/a.jpg",
            "ref_prompt": "x",
            "video_duration": 10,
            "model_code": "MiniMax-Hailuo-2.3",
            "clarity": 1080,
            "callback": "https://example.com/hook",
            "aspect_ratio": "9:16",
            "quality_mode": 2,
            "style": "anime",
        }
    )
    request = body.to_request()
    assert request.callback_url == "https://example.com/hook"
    assert (request.first_frame_image, request.last_frame_image) == (
        "https://example.com/a.jpg",
        None,
    )
    assert (request.model, request.resolution, request.duration) == (
        "MiniMax-Hailuo-2.3",
        "1080P",
        10,
    )
    assert body.field_names()["first_frame_image"] == "ref_img_url[0]"
