"""Bad input, answered in Modelverse's dialect: a real HTTP status, ``{"error": {"message",
"type", "param", "code"}}`` naming the field as Modelverse spells it, and no task created."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from support.dialects import modelverse_client
from support.files_http import FileServer
from support.live import LiveConch, conch_command, owner_id, task_store
from support.photos import crop_to, encode, photo

Body = dict[str, Any]
Urls = dict[str, str]
INVALID = (400, "invalid_request_error", "param_error")


@pytest.fixture(scope="module")
def urls(files: FileServer) -> Urls:
    return {
        "first": files.base_url + "/clip/first.jpg",
        "last": files.base_url + "/clip/last.jpg",
        "small": files.put("/mv/chelsea.jpg", encode(photo("chelsea"))),  # 451x300
        "wide": files.put("/mv/wide.jpg", encode(crop_to(photo("hubble_deep_field"), 1000, 310))),
        "missing": files.base_url + "/mv/nowhere.jpg",
    }


def submit(u: Urls, model: str = "MiniMax-Hailuo-2.3", **changes: Any) -> Body:
    """A good image-to-video body; ``changes`` go into input or parameters by name."""
    inputs = {"first_frame_image": u["first"], "prompt": "a walk [Pan left]"}
    parameters: dict[str, Any] = {"duration": 6, "resolution": "768P"}
    for name, value in changes.items():
        (inputs if name in ("first_frame_image", "last_frame_image", "prompt") else parameters)[
            name
        ] = value
    return {"model": model, "input": inputs, "parameters": parameters}


def without(body: Body, *path: str) -> Body:
    place = body
    for part in path[:-1]:
        place = place[part]
    del place[path[-1]]
    return body


# (case, body, (HTTP status, error.type, error.code), error.param, message fragments)
CASES: list[tuple[str, Callable[[Urls], Body], tuple[int, str, str], str | None, list[str]]] = [
    ("no model", lambda u: without(submit(u), "model"), INVALID, "model", ["model: is required"]),
    ("no input", lambda u: without(submit(u), "input"), INVALID, "input", ["input: is required"]),
    (
        "no prompt",
        lambda u: without(submit(u), "input", "prompt"),
        INVALID,
        "input.prompt",
        ["input.prompt: is required"],
    ),
    (
        "unknown model",
        lambda u: submit(u, model="Hailuo-99"),
        INVALID,
        "model",
        ["model: unknown model 'Hailuo-99'", "MiniMax-Hailuo-2.3"],
    ),
    (
        "1080P is 6 s only",
        lambda u: submit(u, resolution="1080P", duration=10),
        INVALID,
        "parameters.duration",
        ["parameters.duration: MiniMax-Hailuo-2.3 at 1080P allows duration 6", "got 10"],
    ),
    (
        "unknown resolution",
        lambda u: submit(u, resolution="4K"),
        INVALID,
        "parameters.resolution",
        ["parameters.resolution: must be one of", "768P, 1080P", "got '4K'"],
    ),
    (
        "512P is Hailuo-02 only",
        lambda u: submit(u, resolution="512P"),
        INVALID,
        "parameters.resolution",
        ["parameters.resolution:", "allows 768P, 1080P, got 512P"],
    ),
    (
        "duration is a number",
        lambda u: submit(u, duration="six"),
        INVALID,
        "parameters.duration",
        ["parameters.duration:", "'six'"],
    ),
    (
        "parameters is an object",
        lambda u: {**submit(u), "parameters": "fast"},
        INVALID,
        "parameters",
        ["parameters:", "'fast'"],
    ),
    (
        "first+last is Hailuo-02 only",
        lambda u: submit(u, last_frame_image=u["last"]),
        INVALID,
        "model",
        ["model: MiniMax-Hailuo-2.3 does not offer first-last-frame"],
    ),
    (
        "2.3-Fast needs a first frame",
        lambda u: without(submit(u, model="MiniMax-Hailuo-2.3-Fast"), "input", "first_frame_image"),
        INVALID,
        "model",
        ["does not offer text-to-video; it requires input.first_frame_image"],
    ),
    (
        "the motion engine cannot invent pictures",
        lambda u: without(submit(u), "input", "first_frame_image"),
        INVALID,
        "model",
        ["text-to-video needs a generative engine", "motion engine"],
    ),
    (
        "prompt at most 2000 characters",
        lambda u: submit(u, prompt="x" * 2001),
        INVALID,
        "input.prompt",
        ["input.prompt: must be at most 2000 characters, got 2001"],
    ),
    (
        "image scheme",
        lambda u: submit(u, first_frame_image="ftp://example.com/a.jpg"),
        INVALID,
        "input.first_frame_image",
        ["input.first_frame_image: must be an https URL", "'ftp://example.com/a.jpg'"],
    ),
    (
        "short side 300 px",
        lambda u: submit(u, first_frame_image=u["small"]),
        INVALID,
        "input.first_frame_image",
        ["input.first_frame_image:", "451x300", "300"],
    ),
    (
        "last frame beyond 5:2",
        lambda u: submit(u, model="MiniMax-Hailuo-02", last_frame_image=u["wide"]),
        INVALID,
        "input.last_frame_image",
        ["input.last_frame_image:", "1000x310", "2:5", "5:2"],
    ),
    (
        "a 404",
        lambda u: submit(u, first_frame_image=u["missing"]),
        INVALID,
        "input.first_frame_image",
        ["input.first_frame_image:", "404"],
    ),
    (
        "a private address",
        lambda u: submit(u, first_frame_image="http://10.20.30.40/a.jpg"),
        INVALID,
        "input.first_frame_image",
        ["input.first_frame_image:", "10.20.30.40"],
    ),
]


@pytest.fixture(scope="module")
def fresh_key(conch: LiveConch) -> str:
    """A key of its own, so that "no task was created" can be checked exactly."""
    return conch.create_key("modelverse bad inputs")


def assert_error(answer: httpx.Response, expected: tuple[int, str, str], param: str | None) -> str:
    """Check the status and the error body; the message."""
    assert answer.status_code == expected[0], answer.text
    body = answer.json()
    assert set(body) == {"error", "request_id"}
    assert body["request_id"] == answer.headers["Trace-Id"]
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert (error["type"], error["code"], error["param"]) == (*expected[1:], param), error
    return str(error["message"])


@pytest.mark.parametrize(
    ("body", "expected", "param", "fragments"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_bad_input_is_refused_with_a_clear_message(
    conch: LiveConch,
    fresh_key: str,
    urls: Urls,
    body: Callable[[Urls], Body],
    expected: tuple[int, str, str],
    param: str | None,
    fragments: list[str],
) -> None:
    with modelverse_client(conch, fresh_key) as client:
        message = assert_error(client.post("/v1/tasks/submit", json=body(urls)), expected, param)
    for fragment in fragments:
        assert fragment in message, message
    assert task_store(conch.data_dir).list(owner_id(conch.data_dir, fresh_key))[1] == 0


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b"", "body is empty"),
    ],
    ids=["malformed JSON", "a JSON array", "an empty body"],
)
def test_unreadable_bodies_are_400(
    conch: LiveConch, fresh_key: str, body: bytes, fragment: str
) -> None:
    with modelverse_client(conch, fresh_key) as client:
        answer = client.post(
            "/v1/tasks/submit", content=body, headers={"Content-Type": "application/json"}
        )
    message = assert_error(answer, (400, "invalid_request_error", "invalid_json"), None)
    assert fragment in message


def test_a_body_without_content_type_is_read_as_json(
    conch: LiveConch, fresh_key: str, urls: Urls
) -> None:
    body = httpx.Request("POST", "/", json=submit(urls, duration=7)).content
    with modelverse_client(conch, fresh_key) as client:
        answer = client.post("/v1/tasks/submit", content=body)
    message = assert_error(answer, INVALID, "parameters.duration")
    assert "got 7" in message


def test_missing_credentials_are_401(conch: LiveConch, urls: Urls) -> None:
    for headers in ({}, {"Authorization": ""}, {"Authorization": "Bearer"}):
        for answer in (
            httpx.post(f"{conch.base_url}/v1/tasks/submit", json=submit(urls), headers=headers),
            httpx.get(f"{conch.base_url}/v1/tasks/status?task_id=1", headers=headers),
        ):
            message = assert_error(answer, (401, "auth_error", "missing_api_key"), None)
            assert "Authorization" in message


def test_unknown_and_revoked_keys_are_401(conch: LiveConch, urls: Urls) -> None:
    revoked = conch.create_key("modelverse revoked")
    key_id = str(owner_id(conch.data_dir, revoked))
    conch_command("keys", "revoke", key_id, "--data-dir", str(conch.data_dir))
    for key in ("sk-conch-not-a-real-key", revoked, f"Bearer {revoked}"):
        with modelverse_client(conch, key) as client:
            for answer in (
                client.post("/v1/tasks/submit", json=submit(urls)),
                client.get("/v1/tasks/status", params={"task_id": "1"}),
            ):
                assert_error(answer, (401, "auth_error", "invalid_api_key"), None)


def test_unknown_and_missing_task_ids(conch: LiveConch, fresh_key: str) -> None:
    with modelverse_client(conch, fresh_key) as client:
        for task_id in ("123", "0b0f1a3e-2d4c-4c38-9a51-1d2f3e4a5b6c"):
            answer = client.get("/v1/tasks/status", params={"task_id": task_id})
            message = assert_error(answer, (404, "invalid_request_error", "not_found"), "task_id")
            assert f"task_id: no task {task_id}" in message
        for params in ({}, {"task_id": ""}):
            answer = client.get("/v1/tasks/status", params=params)
            assert "task_id: is required" in assert_error(answer, INVALID, "task_id")
