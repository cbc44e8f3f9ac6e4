"""The example requests of Modelverse's page, sent as written (host and image URL swapped),
carried through to a decoded MP4; and the status answers they get."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from conch.media.video import probe
from conch.wire.modelverse import ModelverseSubmitBody
from support.dialects import wait_modelverse
from support.files_http import FileServer
from support.live import LiveConch
from support.photos import clip_frame, encode

# modelverse-hailuo-2.3-i2v.md, 请求示例 (the curl's --data, exactly)
SUBMIT_EXAMPLE = """{
"model": "MiniMax-Hailuo-2.3",
"input": {
"first_frame_image": "https://cdn.ucloud.com/prod/2024-09-18-16/user/multi_chat_file/9c0b5c14-ee88-4a5b-b503-4f626f018639.jpeg",
"prompt": "A mouse runs toward the camera, smiling and blinking. [推进, 跟随]"
},
"parameters": {
"duration": 6,
"resolution": "1080P",
"prompt_optimizer": true,
"fast_pretreatment": false,
"aigc_watermark": false
}
}"""
IMAGE_HOST = "https://cdn.ucloud.com"
IMAGE_PATH = "/prod/2024-09-18-16/user/multi_chat_file/9c0b5c14-ee88-4a5b-b503-4f626f018639.jpeg"

STATUS_FIELDS = {"task_id", "task_status", "urls", "submit_time", "finish_time", "error_message"}


def as_written(files: FileServer) -> str:
    """The example with its image URL on the local server (a 1280x720 frame of real footage)."""
    files.put(IMAGE_PATH, encode(clip_frame(0), quality=95))
    return SUBMIT_EXAMPLE.replace(IMAGE_HOST, files.base_url)


@pytest.fixture(scope="module")
def example(conch: LiveConch, key: str, files: FileServer) -> dict[str, Any]:
    """The example submitted as the curl sends it (``Authorization: <key>``), then finished."""
    submitted = httpx.post(
        f"{conch.base_url}/v1/tasks/submit",
        content=as_written(files).encode(),
        headers={"Authorization": key, "Content-Type": "application/json"},
        timeout=30,
    )
    with httpx.Client(base_url=conch.base_url, headers={"Authorization": key}) as client:
        task_id = submitted.json()["output"]["task_id"]
        return {"submitted": submitted, "done": wait_modelverse(client, task_id)}


def status(conch: LiveConch, key: str, task_id: str) -> httpx.Response:
    """The status example's curl: GET .../v1/tasks/status?task_id=<task_id>, bare key."""
    url = f"{conch.base_url}/v1/tasks/status?task_id={task_id}"
    return httpx.get(url, headers={"Authorization": key}, timeout=30)


def test_submit_answers_as_documented(example: dict[str, Any]) -> None:
    submitted: httpx.Response = example["submitted"]
    assert submitted.status_code == 200
    body = submitted.json()
    assert set(body) == {"output", "request_id"} and set(body["output"]) == {"task_id"}
    assert body["output"]["task_id"].isdigit()
    assert body["request_id"] == submitted.headers["Trace-Id"]


def test_the_example_becomes_a_1080p_six_second_video(
    example: dict[str, Any], tmp_path: Path
) -> None:
    done = example["done"]
    output = done["output"]
    assert output["task_status"] == "Success", done
    assert set(output) == STATUS_FIELDS and output["error_message"] == ""
    assert done["usage"] == {"duration": 6}
    assert output["submit_time"] <= output["finish_time"] <= time.time() + 1
    assert len(output["urls"]) == 1
    video = httpx.get(output["urls"][0], timeout=30)
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    path = tmp_path / "example.mp4"
    path.write_bytes(video.content)
    probed = probe(path)
    assert (probed.width, probed.height, probed.frames, probed.fps) == (1920, 1080, 144, 24)
    assert probed.codec == "h264"


def test_status_example_with_or_without_bearer(
    example: dict[str, Any], conch: LiveConch, key: str
) -> None:
    task_id = example["done"]["output"]["task_id"]
    for credential in (key, f"Bearer {key}"):
        answer = status(conch, credential, task_id)
        assert answer.status_code == 200
        body = answer.json()
        assert body["output"]["task_status"] == "Success"
        assert body["request_id"] == answer.headers["Trace-Id"]


def test_status_links_are_fresh_on_every_answer(
    example: dict[str, Any], conch: LiveConch, key: str
) -> None:
    task_id = example["done"]["output"]["task_id"]
    first = status(conch, key, task_id).json()["output"]["urls"][0]
    time.sleep(1.1)  # links carry their expiry in whole seconds
    second = status(conch, key, task_id).json()["output"]["urls"][0]
    assert first != second
    assert httpx.head(second, timeout=30).status_code == 200


def test_the_example_translates_to_a_canonical_request() -> None:
    request = ModelverseSubmitBody.model_validate_json(SUBMIT_EXAMPLE).to_request()
    assert (request.model, request.duration, request.resolution) == (
        "MiniMax-Hailuo-2.3",
        6,
        "1080P",
    )
    assert request.first_frame_image == IMAGE_HOST + IMAGE_PATH
    assert request.prompt.endswith("[推进, 跟随]")
    assert (request.prompt_optimizer, request.fast_pretreatment, request.aigc_watermark) == (
        True,
        False,
        False,
    )
    minimal = ModelverseSubmitBody.model_validate(
        {"model": "MiniMax-Hailuo-02", "input": {"prompt": "x", "last_frame_image": "https://a/b"}}
    ).to_request()
    assert (minimal.duration, minimal.resolution, minimal.last_frame_image) == (
        None,
        None,
        "https://a/b",
    )
