"""Media in a bucket, against a real S3-protocol server on 127.0.0.1 (moto's): keys under a
prefix, large videos uploaded in parts and read back by range, the sweep of what lost claims
left, failures that name the bucket but no credential, and CONCH_STORAGE_URL's forms."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from pydantic import ValidationError

from conch.config import S3Location, Settings, parse_storage_url
from conch.domain.errors import Internal, NotFound
from conch.domain.request import GenerationRequest
from conch.media.s3 import S3Store, s3_client
from conch.media.storage import CHUNK_BYTES, input_key_in, new_inputs_folder, output_key
from conch.services import Services
from conch.submission import submit
from support.clock import ManualClock
from support.live import free_port
from support.photos import data_url, encode, photo
from support.s3 import CREDENTIALS, S3Server

PART = 5 * 1024 * 1024  # S3's smallest part
PREFIX = "conch/media/"


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with S3Server() as server:
        yield server


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1000.0)


def open_store(endpoint: str, bucket: str, staging: Path, **options: object) -> S3Store:
    location = S3Location(bucket, PREFIX)
    return S3Store(s3_client(endpoint), location, staging, part_bytes=PART, **options)  # type: ignore[arg-type]


@pytest.fixture
def bucket(s3: S3Server) -> str:
    return s3.bucket(f"media-{uuid.uuid4().hex[:12]}")


@pytest.fixture
def store(s3: S3Server, bucket: str, tmp_path: Path, clock: ManualClock) -> S3Store:
    return open_store(s3.endpoint, bucket, tmp_path / "staging", clock=clock)


def test_inputs_are_stored_under_the_prefix_and_deleted(
    store: S3Store, s3: S3Server, bucket: str
) -> None:
    key = input_key_in(new_inputs_folder(), "first_frame_image", "jpeg")
    store.write(key, b"a picture")
    s3.client().put_object(Bucket=bucket, Key="elsewhere/inputs/x.jpeg", Body=b"not ours")
    assert s3.keys(bucket, PREFIX) == [PREFIX + key]
    assert store.read(key) == b"a picture"
    store.delete(key)
    store.delete(key)  # twice: a cleanup that runs again is harmless
    assert s3.keys(bucket) == ["elsewhere/inputs/x.jpeg"]
    with pytest.raises(FileNotFoundError):
        store.read(key)
    with pytest.raises(NotFound):
        store.stat(key)


def test_a_large_video_goes_up_in_parts_and_comes_back_by_range(
    store: S3Store, s3: S3Server, bucket: str, tmp_path: Path
) -> None:
    video = np.random.default_rng(16).bytes(2 * PART + 12345)
    staging = store.staging_path(7, 2)
    staging.write_bytes(video)
    key = output_key(7, 2)
    assert store.publish(staging, key) == len(video)
    assert not staging.exists()
    head = s3.client().head_object(Bucket=bucket, Key=PREFIX + key)
    assert head["ETag"].endswith('-3"')  # a multipart upload's tag counts its parts
    assert head["ContentType"] == "video/mp4"
    stored = store.stat(key)
    assert (stored.size, stored.etag) == (len(video), head["ETag"])

    across_parts = b"".join(store.open_range(key, PART - 100, PART + 100))
    assert across_parts == video[PART - 100 : PART + 100]
    chunks = list(store.open_range(key, 0, len(video)))
    assert b"".join(chunks) == video
    assert max(len(chunk) for chunk in chunks) <= CHUNK_BYTES  # streamed, never whole
    assert list(store.open_range(key, 10, 10)) == []
    store.copy_to(key, tmp_path / "copy.mp4")
    assert (tmp_path / "copy.mp4").read_bytes() == video


def test_what_lost_claims_left_behind_is_swept(
    store: S3Store, s3: S3Server, bucket: str, clock: ManualClock
) -> None:
    client = s3.client()
    for task_id in (1, 2):  # claim (1, 1) is gone; (2, 1) still holds its task
        store.staging_path(task_id, 1).write_bytes(b"half a video")
        client.create_multipart_upload(Bucket=bucket, Key=PREFIX + output_key(task_id, 1))
    for task_id in (1, 3):  # (3, 1) finished: its video is recorded
        client.put_object(Bucket=bucket, Key=PREFIX + output_key(task_id, 1), Body=b"video")
    client.put_object(Bucket=bucket, Key="elsewhere/outputs/1.1.mp4", Body=b"not ours")

    def holds(task_id: int, fence: int) -> bool:
        return (task_id, fence) == (2, 1)

    def recorded(key: str) -> bool:
        return key == output_key(3, 1)

    assert store.sweep_claims(holds, recorded) == 3
    assert [path.name for path in store.staging.iterdir()] == ["2.1.mp4"]
    assert s3.uploads(bucket) == [PREFIX + output_key(2, 1)]
    outputs = [PREFIX + output_key(3, 1), "elsewhere/outputs/1.1.mp4"]
    assert s3.keys(bucket) == sorted(outputs)

    # Outputs are listed once an hour (a listing costs a request per thousand videos);
    # staging files and unfinished uploads, at every sweep.
    client.put_object(Bucket=bucket, Key=PREFIX + output_key(4, 1), Body=b"video")
    store.staging_path(5, 1).write_bytes(b"half a video")
    assert store.sweep_claims(holds, recorded) == 1
    assert PREFIX + output_key(4, 1) in s3.keys(bucket)
    clock.advance(3600)
    assert store.sweep_claims(holds, recorded) == 1
    assert s3.keys(bucket) == sorted(outputs)


def test_presigned_urls_are_offered_only_when_asked_for(
    s3: S3Server, bucket: str, store: S3Store, tmp_path: Path
) -> None:
    key = output_key(8, 1)
    store.write(key, b"the video's bytes")
    assert store.presigned_url(key, "output.mp4", 60) is None
    presigning = open_store(s3.endpoint, bucket, tmp_path / "staging", presigned_downloads=True)
    url = presigning.presigned_url(key, "output.mp4", 60)
    assert url is not None and CREDENTIALS["AWS_SECRET_ACCESS_KEY"] not in url
    fetched = httpx.get(url, headers={"Range": "bytes=4-8"})
    assert (fetched.status_code, fetched.content) == (206, b"video")
    assert fetched.headers["content-disposition"] == 'attachment; filename="output.mp4"'


def test_failures_name_the_bucket_and_key_but_no_credential(s3: S3Server, tmp_path: Path) -> None:
    missing = open_store(s3.endpoint, "no-such-bucket", tmp_path / "staging")
    with pytest.raises(Internal) as refused:
        missing.write("inputs/a/first_frame_image.jpeg", b"a picture")
    assert refused.value.message() == (
        "media storage could not store s3://no-such-bucket/conch/media/inputs/a/"
        "first_frame_image.jpeg: S3 error NoSuchBucket"
    )
    unreachable = open_store(f"http://127.0.0.1:{free_port()}", "media", tmp_path / "staging")
    with pytest.raises(Internal) as down:
        unreachable.read("inputs/a/first_frame_image.jpeg")
    assert "Could not connect to the endpoint URL" in down.value.message()
    for error in (refused.value, down.value):
        assert error.__cause__ is None and error.__suppress_context__
        for secret in (CREDENTIALS["AWS_SECRET_ACCESS_KEY"], CREDENTIALS["AWS_ACCESS_KEY_ID"]):
            assert secret not in error.message()


def test_a_submit_to_a_missing_bucket_says_what_could_not_be_stored(
    s3: S3Server, tmp_path: Path
) -> None:
    settings = Settings(
        data_dir=tmp_path, storage_url="s3://no-such-bucket/x", s3_endpoint_url=s3.endpoint
    )
    services = Services.open(settings)
    owner, _ = services.keys.create("owner")
    request = GenerationRequest(
        "MiniMax-Hailuo-02", prompt="[Push in]", first_frame_image=data_url(encode(photo("rocket")))
    )
    with pytest.raises(Internal, match=r"could not store s3://no-such-bucket/x/inputs/.* NoSuch"):
        asyncio.run(submit(services, owner, request, dialect="minimax"))
    services.close()


@pytest.mark.parametrize(
    ("url", "location"),
    [
        ("file:///srv/conch%20media", Path("/srv/conch media")),
        ("s3://conch-media", S3Location("conch-media", "")),
        ("s3://conch-media/prod/videos/", S3Location("conch-media", "prod/videos/")),
    ],
)
def test_storage_urls_name_a_folder_or_a_bucket(url: str, location: object) -> None:
    assert parse_storage_url(url) == location
    assert Settings(storage_url=url).media_location == location


def test_the_default_is_the_media_folder_in_the_data_dir(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path).media_location == tmp_path / "media"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://example.com/media", "must be file:///absolute/path or s3://bucket"),
        ("file:relative/media", "must be file:///absolute/path or s3://bucket"),
        ("s3://Conch_Media/x", "bucket must be 3-63 lowercase letters"),
        ("s3://b?versioned=1", "takes no query or fragment"),
        ("s3://AKIA:hunter2@conch-media", "holds no credentials: set AWS_ACCESS_KEY_ID"),
    ],
)
def test_a_wrong_storage_url_says_what_is_allowed(url: str, says: str) -> None:
    with pytest.raises(ValidationError, match=says) as refused:
        Settings(storage_url=url)
    assert "hunter2" not in str(refused.value)  # nor anything else that was set
