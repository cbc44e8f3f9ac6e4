"""A live `conch serve` with its media in a bucket (CONCH_STORAGE_URL=s3://...) on a real
S3-protocol server on 127.0.0.1 (moto's): inputs land in the bucket, a render killed
mid-way leaves nothing behind once its claim is gone, its retry's video is uploaded, and
downloads go through conch (ranged, streamed) or, when asked, redirect to the bucket."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from conch.media.storage import claim_of, output_key
from conch.media.video import probe
from support.live import SERVER_ENV, LiveConch, owner_id, task_store, wait_for_task
from support.photos import data_url, encode, photo
from support.s3 import CREDENTIALS, S3Server

BUCKET = "conch-media"
PREFIX = "fleet/"


@dataclass
class Rendered:
    """A task rendered twice: killed mid-render, then finished after a restart."""

    s3: S3Server
    server: LiveConch
    key: str
    task_id: str
    answer: dict[str, Any]
    killed_claim: str
    """The staging file name of the claim that was killed mid-render."""
    storage_key: str
    """The key of the video its retry recorded."""


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with S3Server() as server:
        server.bucket(BUCKET)
        yield server


def server_env(s3: S3Server, **extra: str) -> dict[str, str]:
    return {
        **SERVER_ENV,
        **CREDENTIALS,
        "CONCH_STORAGE_URL": f"s3://{BUCKET}/{PREFIX}",
        "CONCH_S3_ENDPOINT_URL": s3.endpoint,
        "CONCH_LEASE_SECONDS": "2",
        **extra,
    }


@pytest.fixture(scope="module")
def rendered(s3: S3Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rendered]:
    server = LiveConch(tmp_path_factory.mktemp("s3") / "data", server_env(s3))
    key = server.create_key()
    body = {
        "model": "MiniMax-Hailuo-02",
        "first_frame_image": data_url(encode(photo("rocket"))),
        "resolution": "768P",
        "prompt": "a rocket on the pad [Push in]",
    }
    with server, server.client(key) as client:
        task_id = client.post("/v1/video_generation", json=body).json()["task_id"]
        killed = _staging_file_of_a_running_render(server.data_dir / "staging")
        server.kill9()
    # As if the killed runner had been uploading its video when it died.
    s3.client().create_multipart_upload(Bucket=BUCKET, Key=f"{PREFIX}outputs/{killed}")
    with server, server.client(key) as client:
        answer = wait_for_task(client, task_id, timeout=240)
        assert answer["status"] == "Success", (answer, server.log())
        _wait_for(lambda: not s3.uploads(BUCKET) and not staging_files(server))
        data_dir = server.data_dir
        task = task_store(data_dir).get(owner_id(data_dir, key), int(task_id))
        assert task.attempts == 2 and task.output is not None  # killed once, then finished
        record = task_store(data_dir).file(task.owner_id, task.output.file_id)
        yield Rendered(s3, server, key, task_id, answer, killed, record.storage_key)


def staging_files(server: LiveConch) -> list[Path]:
    return list((server.data_dir / "staging").iterdir())


def test_a_submits_inputs_land_in_the_bucket(rendered: Rendered) -> None:
    data_dir = rendered.server.data_dir
    task = task_store(data_dir).get(owner_id(data_dir, rendered.key), int(rendered.task_id))
    [stored] = task.inputs.values()
    assert stored.key.startswith("inputs/") and stored.key.endswith("/first_frame_image.jpeg")
    assert rendered.s3.keys(BUCKET, f"{PREFIX}inputs/") == [PREFIX + stored.key]
    assert not (data_dir / "media").exists()  # nothing is kept in a local media folder


def test_the_retry_is_uploaded_and_the_killed_claim_leaves_nothing(rendered: Rendered) -> None:
    killed = claim_of(rendered.killed_claim)
    assert killed is not None and killed[0] == int(rendered.task_id)
    assert rendered.storage_key != output_key(*killed)  # the retry's own claim
    assert rendered.s3.keys(BUCKET, f"{PREFIX}outputs/") == [PREFIX + rendered.storage_key]
    assert rendered.s3.uploads(BUCKET) == []  # the killed upload was aborted
    assert staging_files(rendered.server) == []  # and its staging file removed


def test_downloads_stream_ranges_from_the_bucket_through_conch(
    rendered: Rendered, tmp_path: Path
) -> None:
    with rendered.server.client(rendered.key) as client:
        link = retrieve(client, rendered.answer["file_id"])["download_url"]
        ranged = httpx.get(link, headers={"Range": "bytes=1000-1999"})
        whole = httpx.get(link)
        head = httpx.head(link)
        past_the_end = httpx.get(link, headers={"Range": f"bytes={whole_size(head)}-"})
        changed = httpx.get(link, headers={"Range": "bytes=0-9", "If-Range": '"an-old-version"'})
        content = client.get(
            "/v1/files/retrieve_content",
            params={"file_id": rendered.answer["file_id"]},
            headers={"Range": "bytes=-100"},
        )
    stored = rendered.s3.client().get_object(Bucket=BUCKET, Key=PREFIX + rendered.storage_key)
    video = stored["Body"].read()
    assert (ranged.status_code, ranged.content) == (206, video[1000:2000])
    assert ranged.headers["content-range"] == f"bytes 1000-1999/{len(video)}"
    assert (whole.status_code, whole.content) == (200, video)
    assert whole.headers["etag"] == stored["ETag"]
    assert (head.status_code, head.content, head.headers["etag"]) == (200, b"", stored["ETag"])
    assert past_the_end.status_code == 416
    assert past_the_end.headers["content-range"] == f"bytes */{len(video)}"
    assert (changed.status_code, changed.content) == (200, video)  # not a range of another
    assert (content.status_code, content.content) == (206, video[-100:])
    path = tmp_path / "video.mp4"
    path.write_bytes(whole.content)
    decoded = probe(path)
    assert (decoded.width, decoded.height, decoded.frames) == (
        rendered.answer["video_width"],
        rendered.answer["video_height"],
        144,
    )


def test_presigned_downloads_redirect_only_links_that_pass_the_check(
    rendered: Rendered, s3: S3Server
) -> None:
    env = server_env(s3, CONCH_S3_PRESIGNED_DOWNLOADS="true", CONCH_WORKERS="0")
    presigning = LiveConch(rendered.server.data_dir, env)
    with presigning, presigning.client(rendered.key) as client:
        link = retrieve(client, rendered.answer["file_id"])["download_url"]
        redirect = httpx.get(link)
        tampered = httpx.get(_with_signature(link, "0" * 64))
    assert redirect.status_code == 307
    location = redirect.headers["location"]
    assert location.startswith(f"{s3.endpoint}/{BUCKET}/{PREFIX}outputs/")
    assert CREDENTIALS["AWS_SECRET_ACCESS_KEY"] not in location
    fetched = httpx.get(location, headers={"Range": "bytes=0-99"})
    assert fetched.status_code == 206 and len(fetched.content) == 100
    assert tampered.status_code == 403 and "location" not in tampered.headers


def test_the_banner_names_the_bucket_and_no_credential_reaches_the_log(
    rendered: Rendered, s3: S3Server
) -> None:
    log = rendered.server.log()
    assert f"media:       s3://{BUCKET}/{PREFIX} at {s3.endpoint}" in log
    assert "runs task" in log  # the log is the server's, and its runners'
    for secret in (CREDENTIALS["AWS_SECRET_ACCESS_KEY"], CREDENTIALS["AWS_ACCESS_KEY_ID"]):
        assert secret not in log


def whole_size(head: httpx.Response) -> int:
    return int(head.headers["content-length"])


def retrieve(client: httpx.Client, file_id: str) -> dict[str, Any]:
    answer = client.get("/v1/files/retrieve", params={"file_id": file_id}).json()
    assert answer["base_resp"]["status_code"] == 0, answer
    return dict(answer["file"])


def _with_signature(link: str, signature: str) -> str:
    parts = urlsplit(link)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    return parts._replace(query=urlencode({**query, "signature": signature})).geturl()


def _staging_file_of_a_running_render(staging: Path, timeout: float = 120.0) -> str:
    """The name of the staging file the encoder is writing, once it is being written."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in staging.glob("*.mp4"):
            with contextlib.suppress(FileNotFoundError):  # it was published meanwhile
                if path.stat().st_size > 0:
                    return path.name
        time.sleep(0.02)
    raise AssertionError("no render started")


def _wait_for(done: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "the sweep did not clean up"
        time.sleep(0.1)
