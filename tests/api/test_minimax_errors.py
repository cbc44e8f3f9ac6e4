"""Bad input, answered in MiniMax's dialect (HTTP 200, base_resp code, a message that names
the field, the value and what is allowed), with no task created."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from support.files_http import FileServer
from support.live import LiveConch, conch_command, owner_id, task_store
from support.photos import FORMATS, crop_to, encode, photo

Body = dict[str, Any]
Urls = dict[str, str]


@pytest.fixture(scope="module")
def urls(files: FileServer) -> Urls:
    """Image URLs, good and bad, on the local image server."""
    return {
        "first": files.base_url + "/clip/first.jpg",
        "last": files.base_url + "/clip/last.jpg",
        "small": files.put("/bad/chelsea.jpg", encode(photo("chelsea"))),  # 451x300
        "wide": files.put("/bad/wide.jpg", encode(crop_to(photo("hubble_deep_field"), 1000, 310))),
        "gif": files.put("/bad/rocket.gif", encode(photo("rocket"), "gif"), FORMATS["gif"]),
        "text": files.put("/bad/not-an-image.jpg", b"<html>hello</html>", "image/jpeg"),
        "bomb": files.put("/bad/bomb.png", _png_header_only(30000, 30000), FORMATS["png"]),
        "missing": files.base_url + "/bad/nowhere.jpg",
        "loopback2": files.base_url.replace("127.0.0.1", "127.0.0.2") + "/clip/first.jpg",
    }


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares a huge picture in a few bytes (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def first_last(u: Urls, **changes: Any) -> Body:
    body = {"model": "MiniMax-Hailuo-02", "first_frame_image": u["first"], "prompt": "a walk"}
    body["last_frame_image"] = u["last"]
    return {**body, **changes}


def image(u: Urls, **changes: Any) -> Body:
    return {**{"model": "MiniMax-Hailuo-2.3", "first_frame_image": u["first"]}, **changes}


# (case, body from image URLs, expected status_code, fragments the message must contain)
CASES: list[tuple[str, Callable[[Urls], Body], int, list[str]]] = [
    ("no model", lambda _u: {"prompt": "a cat"}, 2013, ["model: is required"]),
    (
        "unknown model",
        lambda u: image(u, model="Hailuo-99"),
        2013,
        ["model: unknown model 'Hailuo-99'", "MiniMax-Hailuo-02"],
    ),
    (
        "model names are case-sensitive",
        lambda u: image(u, model="minimax-hailuo-2.3"),
        2013,
        ["unknown model 'minimax-hailuo-2.3'"],
    ),
    (
        "1080P is 6 s only",
        lambda u: first_last(u, resolution="1080P", duration=10),
        2013,
        ["duration:", "1080P allows duration 6", "got 10"],
    ),
    (
        "first+last has no 512P",
        lambda u: first_last(u, resolution="512P"),
        2013,
        ["resolution:", "allows 768P, 1080P, got 512P"],
    ),
    (
        "512P is Hailuo-02 only",
        lambda u: image(u, resolution="512P"),
        2013,
        ["resolution:", "MiniMax-Hailuo-2.3", "got 512P"],
    ),
    (
        "unknown resolution",
        lambda u: image(u, resolution="4K"),
        2013,
        ["resolution: must be one of 512P, 720P, 768P, 1080P, 2K, got '4K'"],
    ),
    (
        "01-series is 6 s",
        lambda u: image(u, model="I2V-01", duration=10),
        2013,
        ["duration:", "720P allows duration 6", "got 10"],
    ),
    ("duration is a number", lambda u: image(u, duration="six"), 2013, ["duration:", "'six'"]),
    (
        "2.3-Fast needs a first frame",
        lambda _u: {"model": "MiniMax-Hailuo-2.3-Fast", "prompt": "x"},
        2013,
        ["model:", "does not offer text-to-video", "first_frame_image"],
    ),
    (
        "first+last is Hailuo-02 only",
        lambda u: first_last(u, model="MiniMax-Hailuo-2.3"),
        2013,
        ["model:", "does not offer first-last-frame"],
    ),
    (
        "S2V-01 takes no first frame",
        lambda u: {
            "model": "S2V-01",
            "first_frame_image": u["first"],
            "subject_reference": [{"type": "character", "image": [u["first"]]}],
        },
        2013,
        ["subject_reference: cannot be combined with first_frame_image"],
    ),
    (
        "S2V-01 takes one subject image",
        lambda u: {
            "model": "S2V-01",
            "prompt": "x",
            "subject_reference": [{"type": "character", "image": [u["first"], u["last"]]}],
        },
        2013,
        ["subject_reference: must be", "one image URL"],
    ),
    (
        "prompt at most 2000 characters",
        lambda u: image(u, prompt="x" * 2001),
        2013,
        ["prompt: must be at most 2000 characters, got 2001"],
    ),
    (
        "text to video needs a prompt",
        lambda _u: {"model": "T2V-01", "prompt": "  "},
        2013,
        ["prompt: is required for text-to-video"],
    ),
    (
        "the motion engine cannot invent pictures",
        lambda _u: {"model": "MiniMax-Hailuo-02", "prompt": "a cat"},
        2013,
        ["text-to-video needs a generative engine", "motion engine", "diffusion"],
    ),
    (
        "subject reference needs a generative engine",
        lambda u: {
            "model": "S2V-01",
            "prompt": "x",
            "subject_reference": [{"type": "character", "image": [u["first"]]}],
        },
        2013,
        ["subject-reference needs a generative engine"],
    ),
    (
        "image scheme",
        lambda u: image(u, first_frame_image="ftp://example.com/a.jpg"),
        2013,
        ["first_frame_image:", "an https URL, an http URL or a data:image"],
    ),
    (
        "data URL of text",
        lambda u: image(u, first_frame_image="data:text/plain;base64,aGk="),
        2013,
        ["first_frame_image:", "data:image/"],
    ),
    (
        "data URL not base64",
        lambda u: image(u, first_frame_image="data:image/png;base64,***not base64***"),
        2013,
        ["first_frame_image:", "base64"],
    ),
    (
        "short side 300 px",
        lambda u: image(u, first_frame_image=u["small"]),
        2013,
        ["first_frame_image:", "451x300", "short side", "300"],
    ),
    (
        "aspect beyond 5:2",
        lambda u: first_last(u, last_frame_image=u["wide"]),
        2013,
        ["last_frame_image:", "1000x310", "2:5", "5:2"],
    ),
    (
        "GIF is not allowed",
        lambda u: image(u, first_frame_image=u["gif"]),
        2013,
        ["first_frame_image:", "GIF", "JPEG", "PNG", "WebP"],
    ),
    (
        "not an image at all",
        lambda u: image(u, first_frame_image=u["text"]),
        2013,
        ["first_frame_image:", "JPEG", "PNG", "WebP"],
    ),
    (
        "decompression bomb",
        lambda u: image(u, first_frame_image=u["bomb"]),
        2013,
        ["first_frame_image:", "declares 900000000 pixels", "at most 40000000 pixels"],
    ),
    (
        "a 404",
        lambda u: image(u, first_frame_image=u["missing"]),
        2013,
        ["first_frame_image:", "404"],
    ),
    (
        "a private address",
        lambda u: image(u, first_frame_image="http://10.20.30.40/a.jpg"),
        2013,
        ["first_frame_image:", "10.20.30.40", "CONCH_ALLOW_PRIVATE_URLS"],
    ),
    (
        "the metadata address",
        lambda u: image(u, first_frame_image="http://169.254.169.254/latest/meta-data"),
        2013,
        ["first_frame_image:", "169.254.169.254"],
    ),
    (
        "loopback outside the allowed network",
        lambda u: image(u, first_frame_image=u["loopback2"]),
        2013,
        ["first_frame_image:", "127.0.0.2"],
    ),
    (
        "callback_url must be a URL",
        lambda u: image(u, callback_url="not a url"),
        2013,
        ["callback_url: must be an absolute http or https URL"],
    ),
]


@pytest.fixture(scope="module")
def fresh_key(conch: LiveConch) -> str:
    """A key of its own, so that "no task was created" can be checked exactly."""
    return conch.create_key("bad inputs")


@pytest.mark.parametrize(
    ("body", "code", "fragments"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_input_is_refused_with_a_clear_message(
    conch: LiveConch,
    fresh_key: str,
    urls: Urls,
    body: Callable[[Urls], Body],
    code: int,
    fragments: list[str],
) -> None:
    with conch.client(fresh_key) as client:
        answer = client.post("/v1/video_generation", json=body(urls))
    assert answer.status_code == 200
    assert answer.headers["Trace-Id"]
    resp = answer.json()["base_resp"]
    assert resp["status_code"] == code, resp
    for fragment in fragments:
        assert fragment in resp["status_msg"], resp["status_msg"]
    assert task_store(conch.data_dir).list(owner_id(conch.data_dir, fresh_key))[1] == 0


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[1, 2]", b""],
    ids=["malformed JSON", "a JSON array", "an empty body"],
)
def test_unreadable_bodies_are_invalid_params(
    conch: LiveConch, fresh_key: str, body: bytes
) -> None:
    with conch.client(fresh_key) as client:
        answer = client.post(
            "/v1/video_generation", content=body, headers={"Content-Type": "application/json"}
        )
    assert answer.status_code == 200
    assert answer.json()["base_resp"]["status_code"] == 2013


def test_missing_credentials_are_1004(conch: LiveConch, urls: Urls) -> None:
    for headers in ({}, {"Authorization": ""}, {"Authorization": "Bearer"}):
        answer = httpx.post(
            f"{conch.base_url}/v1/video_generation", json=image(urls), headers=headers
        )
        resp = answer.json()["base_resp"]
        assert resp["status_code"] == 1004
        assert "Authorization" in resp["status_msg"]


def test_unknown_and_revoked_keys_are_2049(conch: LiveConch, urls: Urls) -> None:
    revoked = conch.create_key("soon revoked")
    key_id = next(
        line.split("\t")[0]
        for line in _keys_list(conch).splitlines()
        if line.split("\t")[1] == "soon revoked"
    )
    conch_command("keys", "revoke", key_id, "--data-dir", str(conch.data_dir))
    for key in ("sk-conch-not-a-real-key", revoked):
        with conch.client(key) as client:
            for answer in (
                client.post("/v1/video_generation", json=image(urls)),
                client.get("/v1/query/video_generation", params={"task_id": "1"}),
            ):
                assert answer.json()["base_resp"]["status_code"] == 2049


def _keys_list(conch: LiveConch) -> str:
    return conch_command("keys", "list", "--data-dir", str(conch.data_dir)).stdout


def test_unknown_ids_are_refused(api: httpx.Client) -> None:
    for path, params, fragment in (
        ("/v1/query/video_generation", {"task_id": "123"}, "task_id: no task 123"),
        ("/v1/files/retrieve", {"file_id": "456"}, "file_id: no file 456"),
        ("/v1/files/retrieve", {"file_id": "abc"}, "file_id: must be a number, got 'abc'"),
        ("/v1/query/video_generation", {}, "task_id: is required"),
        ("/v1/query/video_generation", {"task_id": ""}, "task_id: is required"),
        ("/v1/query/video_generation", {"task_id": " "}, "task_id: is required"),
        ("/v1/files/retrieve", {"file_id": ""}, "file_id: is required"),
    ):
        resp = api.get(path, params=params).json()["base_resp"]
        assert resp["status_code"] == 2013 and fragment in resp["status_msg"], resp
