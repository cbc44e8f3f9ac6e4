"""A finished task through the MiniMax dialect: links, ranges, owners, headers, docs."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from conch.media.links import sign_link
from conch.media.video import probe
from support.live import LiveConch, wait_for_task
from support.photos import data_url, encode, photo


@pytest.fixture(scope="module")
def finished(api_module: httpx.Client) -> dict[str, Any]:
    """An image-to-video task from a data URL (rocket, 640x427 -> 1152x768), finished."""
    body = {
        "model": "MiniMax-Hailuo-2.3",
        "first_frame_image": data_url(encode(photo("rocket"))),
        "prompt": "a rocket on the pad [Zoom in]",
        "aigc_watermark": True,
    }
    created = api_module.post("/v1/video_generation", json=body).json()
    assert created["base_resp"]["status_code"] == 0, created
    return wait_for_task(api_module, created["task_id"])


@pytest.fixture(scope="module")
def api_module(conch: LiveConch, key: str) -> Any:
    with conch.client(key) as client:
        yield client


def retrieve(client: httpx.Client, file_id: str) -> dict[str, Any]:
    answer = client.get("/v1/files/retrieve", params={"file_id": file_id}).json()
    assert answer["base_resp"]["status_code"] == 0, answer
    return dict(answer["file"])


def test_image_to_video_follows_the_first_frames_aspect(
    finished: dict[str, Any], api: httpx.Client, tmp_path: Path
) -> None:
    assert finished["status"] == "Success", finished
    assert (finished["video_width"], finished["video_height"]) == (1152, 768)
    content = api.get("/v1/files/retrieve_content", params={"file_id": finished["file_id"]})
    assert content.status_code == 200 and content.headers["content-type"] == "video/mp4"
    path = tmp_path / "v.mp4"
    path.write_bytes(content.content)
    video = probe(path)
    assert (video.width, video.height, video.frames, video.fps) == (1152, 768, 144, 24)


def test_download_links_serve_ranges_and_are_fresh_each_time(
    finished: dict[str, Any], api: httpx.Client
) -> None:
    first = retrieve(api, finished["file_id"])
    whole = httpx.get(first["download_url"])
    assert whole.status_code == 200 and len(whole.content) == first["bytes"]
    head = httpx.head(first["download_url"])
    assert head.status_code == 200 and int(head.headers["content-length"]) == first["bytes"]
    part = httpx.get(first["download_url"], headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.content == whole.content[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{first['bytes']}"
    time.sleep(1.1)
    second = retrieve(api, finished["file_id"])
    assert second["download_url"] != first["download_url"]
    assert httpx.get(second["download_url"]).status_code == 200


def test_tampered_and_expired_links_are_refused(
    finished: dict[str, Any], api: httpx.Client, conch: LiveConch
) -> None:
    url = retrieve(api, finished["file_id"])["download_url"]
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}

    def variant(path: str = parts.path, **changes: str) -> str:
        return f"{parts.scheme}://{parts.netloc}{path}?{urlencode({**query, **changes})}"

    flipped = ("0" if query["signature"][0] != "0" else "1") + query["signature"][1:]
    later = str(int(query["expires"]) + 3600)
    other_file = parts.path.replace(finished["file_id"], str(int(finished["file_id"]) + 1))
    for tampered in (variant(signature=flipped), variant(expires=later), variant(other_file)):
        refused = httpx.get(tampered)
        assert refused.status_code == 403 and "signature" in refused.json()["error"]["message"]
    secret = (conch.data_dir / "secret.key").read_bytes()
    past = int(time.time()) - 1
    expired = variant(
        expires=str(past), signature=sign_link(secret, int(finished["file_id"]), past)
    )
    refused = httpx.get(expired)
    assert refused.status_code == 403 and "expired" in refused.json()["error"]["message"]
    assert httpx.get(url.split("?")[0]).status_code == 403  # no signature at all


def test_a_key_never_sees_another_keys_tasks_or_files(
    finished: dict[str, Any], conch: LiveConch
) -> None:
    with conch.client(conch.create_key("stranger")) as stranger:
        query = stranger.get("/v1/query/video_generation", params={"task_id": finished["task_id"]})
        assert query.json()["base_resp"]["status_code"] == 2013
        assert "no task" in query.json()["base_resp"]["status_msg"]
        for path in ("/v1/files/retrieve", "/v1/files/retrieve_content"):
            answer = stranger.get(path, params={"file_id": finished["file_id"]})
            assert answer.headers["content-type"].startswith("application/json")
            assert answer.json()["base_resp"]["status_code"] == 2013


def test_group_ids_are_accepted_and_every_answer_has_a_trace_id(
    finished: dict[str, Any], api: httpx.Client
) -> None:
    answer = api.get(
        "/v1/query/video_generation",
        params={"task_id": finished["task_id"], "GroupId": ""},
        headers={"X-Group-Id": "1234"},
    )
    assert answer.json()["status"] == "Success"
    assert len(answer.headers["Trace-Id"]) == 32
    assert httpx.get(str(api.base_url) + "/nowhere").headers["Trace-Id"]


def test_api_docs_are_served(conch: LiveConch) -> None:
    assert "swagger" in httpx.get(f"{conch.base_url}/docs").text.lower()
    paths = httpx.get(f"{conch.base_url}/openapi.json").json()["paths"]
    for path in ("/v1/video_generation", "/v1/query/video_generation", "/v1/files/retrieve"):
        assert path in paths and f"/minimax{path}" in paths


def test_links_start_where_conch_listens_whatever_host_the_caller_names(
    api_module: httpx.Client, finished: dict[str, Any], conch: LiveConch
) -> None:
    forged = api_module.get(
        "/v1/files/retrieve",
        params={"file_id": finished["file_id"]},
        headers={"Host": "attacker.example"},
    ).json()
    assert forged["file"]["download_url"].startswith(f"{conch.base_url}/downloads/")


def test_a_wrong_method_is_answered_in_the_dialect_of_the_path(conch: LiveConch) -> None:
    minimax = httpx.delete(f"{conch.base_url}/v1/video_generation")
    assert minimax.status_code == 405 and minimax.headers["Allow"] == "POST"
    assert minimax.json()["base_resp"]["status_code"] == 2013
    modelverse = httpx.get(f"{conch.base_url}/v1/tasks/submit")
    assert (
        modelverse.status_code == 405
        and modelverse.json()["error"]["type"] == "invalid_request_error"
    )
    chanjing = httpx.put(f"{conch.base_url}/open/v1/ai_creation/task/page")
    assert chanjing.status_code == 405 and chanjing.json()["code"] == 40000
    download = httpx.get(f"{conch.base_url}/downloads/not-a-number/x.mp4")
    assert download.status_code == 400 and download.json()["error"]["code"] == "invalid_params"
