"""The official ``openai`` package, unchanged, against a live conch: create and poll (image
to video from an upload; first+last through ``extra_body`` and through ``metadata``), every
content variant decoded, list, remix, delete, cancel of a running render, and refusals
answered with their HTTP status and error type."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
from PIL import Image

from conch.domain.task import TaskStatus
from conch.media.video import probe
from support.files_http import FileServer
from support.live import LiveConch, owner_id, task_store
from support.photos import encode, photo

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # "Sora API shuts down"

POLL_MS = 200


@pytest.fixture(scope="module")
def key(conch: LiveConch) -> str:
    return conch.create_key("openai videos")


@pytest.fixture(scope="module")
def client(conch: LiveConch, key: str) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{conch.base_url}/v1", api_key=key, max_retries=0) as sdk:
        yield sdk


@pytest.fixture(scope="module")
def from_upload(client: openai.OpenAI) -> openai.types.Video:
    """Image to video from an uploaded JPEG (rocket, 640x427), 512P, polled to its end."""
    upload = ("rocket.jpg", encode(photo("rocket")), "image/jpeg")
    return client.videos.create_and_poll(
        model="MiniMax-Hailuo-02",
        prompt="a rocket on the pad [Zoom in]",
        input_reference=upload,
        seconds="6",
        size="910x512",
        poll_interval_ms=POLL_MS,
    )


def decoded(data: bytes, tmp_path: Path) -> tuple[int, int, int]:
    path = tmp_path / "video.mp4"
    path.write_bytes(data)
    video = probe(path)
    return video.width, video.height, video.frames


def test_image_to_video_from_an_upload(
    from_upload: openai.types.Video, client: openai.OpenAI, tmp_path: Path
) -> None:
    assert from_upload.status == "completed", from_upload
    assert (from_upload.progress, from_upload.seconds, from_upload.size) == (100, "6", "768x512")
    assert from_upload.completed_at is not None
    assert from_upload.completed_at >= from_upload.created_at
    assert from_upload.error is None and from_upload.model == "MiniMax-Hailuo-02"
    content = client.videos.download_content(from_upload.id)
    assert decoded(content.content, tmp_path) == (768, 512, 144)


def test_every_content_variant_decodes(
    from_upload: openai.types.Video, client: openai.OpenAI
) -> None:
    thumbnail = Image.open(
        io.BytesIO(client.videos.download_content(from_upload.id, variant="thumbnail").content)
    )
    assert (thumbnail.format, thumbnail.size) == ("JPEG", (768, 512))
    sheet = client.videos.download_content(from_upload.id, variant="spritesheet").content
    grid = Image.open(io.BytesIO(sheet))
    assert (grid.format, grid.size) == ("JPEG", (5 * 256, 2 * 171))


@pytest.mark.parametrize("spelling", ["extra_body", "metadata"])
def test_first_and_last_frame_through_minimax_fields(
    spelling: str, client: openai.OpenAI, files: FileServer, tmp_path: Path
) -> None:
    frames = {
        "first_frame_image": files.base_url + "/clip/first.jpg",
        "last_frame_image": files.base_url + "/clip/last.jpg",
    }
    extra = frames if spelling == "extra_body" else {"metadata": frames}
    done = client.videos.create_and_poll(
        prompt="a meadow",
        seconds="6",
        extra_body=extra,
        poll_interval_ms=POLL_MS,
    )
    assert (done.status, done.size) == ("completed", "1366x768"), done
    assert decoded(client.videos.download_content(done.id).content, tmp_path) == (1366, 768, 144)


def test_list_remix_and_delete(
    from_upload: openai.types.Video, client: openai.OpenAI, conch: LiveConch, key: str
) -> None:
    remix = client.videos.remix(from_upload.id, prompt="the rocket lifts off")
    assert (remix.status, remix.remixed_from_video_id) == ("queued", from_upload.id)
    assert (remix.prompt, remix.size, remix.seconds) == ("the rocket lifts off", "768x512", "6")
    done = client.videos.poll(remix.id, poll_interval_ms=POLL_MS)
    assert done.status == "completed", done
    first_page = client.videos.list(limit=1)
    assert [video.id for video in first_page.data] == [remix.id] and first_page.has_more
    everything = [video.id for video in client.videos.list(limit=1)]  # the SDK pages on
    assert everything[:1] == [remix.id] and from_upload.id in everything
    oldest_first = [video.id for video in client.videos.list(order="asc", limit=100)]
    assert oldest_first == sorted(everything, key=int)
    deleted = client.videos.delete(from_upload.id)
    assert (deleted.id, deleted.deleted, deleted.object) == (from_upload.id, True, "video.deleted")
    with pytest.raises(openai.NotFoundError) as gone:
        client.videos.retrieve(from_upload.id)
    assert gone.value.status_code == 404
    with conch.client(key) as minimax:  # gone in every dialect
        query = minimax.get("/v1/query/video_generation", params={"task_id": from_upload.id})
        assert query.json()["base_resp"]["status_code"] == 2013
    assert client.videos.retrieve(remix.id).status == "completed"  # the remix keeps its own


def test_deleting_a_running_render_cancels_it(
    client: openai.OpenAI, conch: LiveConch, key: str, files: FileServer
) -> None:
    long_render = client.videos.create(
        model="MiniMax-H3",
        prompt="a meadow",
        seconds="15",
        size="2560x1440",
        extra_body={"first_frame_image": files.base_url + "/clip/first.jpg"},
    )
    running = wait_for_status(client, long_render.id, "in_progress")
    assert running.size == "2560x1440"
    assert client.videos.delete(long_render.id).deleted
    store = task_store(conch.data_dir)
    ended = store.by_id(int(long_render.id))
    assert (ended.status, ended.output) == (TaskStatus.CANCELLED, None)
    wait_until_empty(conch.data_dir / "media" / "staging")  # the runner let go of it
    outputs = conch.data_dir / "media" / "outputs"
    assert not list(outputs.glob(f"{long_render.id}.*"))
    assert owner_id(conch.data_dir, key) == ended.owner_id


def test_refusals_carry_their_http_status_and_error_type(
    client: openai.OpenAI, conch: LiveConch
) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        client.videos.create(
            prompt="a meadow",
            model="MiniMax-Hailuo-02",
            seconds="7",
            extra_body={"first_frame_image": "https://example.com/a.jpg"},
        )
    error = refused.value.body
    assert refused.value.status_code == 400 and isinstance(error, dict)
    assert (error["type"], error["param"], error["code"]) == (
        "invalid_request_error",
        "seconds",
        "invalid_value",
    )
    assert "allows duration 6 or 10 (seconds), got 7" in error["message"]
    with pytest.raises(openai.BadRequestError, match="size: must be WIDTHxHEIGHT"):
        client.videos.create(prompt="a meadow", size="big")
    with pytest.raises(openai.NotFoundError):
        client.videos.retrieve("123456789")
    stranger = openai.OpenAI(base_url=f"{conch.base_url}/v1", api_key="sk-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as unknown:
        stranger.videos.list()
    assert unknown.value.status_code == 401
    assert isinstance(unknown.value.body, dict) and unknown.value.body["code"] == "invalid_api_key"


def wait_for_status(client: openai.OpenAI, video_id: str, status: str) -> openai.types.Video:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        video = client.videos.retrieve(video_id)
        if video.status == status:
            return video
        assert video.status in ("queued", "in_progress"), video
        time.sleep(0.1)
    raise AssertionError(f"video {video_id} never became {status}")


def wait_until_empty(folder: Path) -> None:
    deadline = time.monotonic() + 60
    while any(folder.iterdir()):
        assert time.monotonic() < deadline, list(folder.iterdir())
        time.sleep(0.1)


def test_a_json_create_works_as_curl_sends_it(
    conch: LiveConch, key: str, files: FileServer
) -> None:
    body = {
        "model": "MiniMax-Hailuo-02",
        "prompt": "a meadow",
        "input_reference": {"image_url": files.base_url + "/clip/first.jpg"},
        "seconds": 6,
        "metadata": {"resolution": "512P", "aigc_watermark": True},
    }
    answer = httpx.post(
        f"{conch.base_url}/v1/videos", json=body, headers={"Authorization": f"Bearer {key}"}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "queued" and answer.json()["size"] == "910x512"
