"""Bad input, answered in Chanjing's dialect: HTTP 200, ``code`` 400 / 10400 / 40000,
``trace_id`` and a ``msg`` naming the field as the caller spelled it, and no task created."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from support.dialects import (
    ChanjingCredentials,
    chanjing_client,
    chanjing_token,
    create_chanjing_key,
)
from support.files_http import FileServer
from support.live import LiveConch, conch_command, owner_id, task_store
from support.photos import crop_to, encode, photo

Body = dict[str, Any]
Urls = dict[str, str]
BAD_FORMAT, TOKEN_INVALID, BAD_PARAMS = 400, 10400, 40000
SUBMIT = "/open/v1/ai_creation/task/submit"
PAGE = "/open/v1/ai_creation/task/page"
ONE = "/open/v1/ai_creation/task"


@pytest.fixture(scope="module")
def urls(files: FileServer) -> Urls:
    return {
        "first": files.base_url + "/clip/first.jpg",
        "last": files.base_url + "/clip/last.jpg",
        "small": files.put("/cj/chelsea.jpg", encode(photo("chelsea"))),  # 451x300
        "wide": files.put("/cj/wide.jpg", encode(crop_to(photo("hubble_deep_field"), 1000, 310))),
        "missing": files.base_url + "/cj/nowhere.jpg",
    }


def frames(u: Urls, **changes: Any) -> Body:
    """A good first+last-frame body; ``changes`` replace fields (None removes one)."""
    body = {
        "start_frame": u["first"],
        "end_frame": u["last"],
        "ref_prompt": "a dog runs on the grass",
        "creation_type": 4,
        "clarity": 720,
        "video_duration": 6,
        "model_code": "MiniMax-Hailuo-02",
    }
    body.update(changes)
    return {name: value for name, value in body.items() if value is not None}


def listed(u: Urls, images: list[str], **changes: Any) -> Body:
    """The same with the frames given as ``ref_img_url``."""
    return frames(u, start_frame=None, end_frame=None, ref_img_url=images, **changes)


# (case, body, code, msg fragments)
CASES: list[tuple[str, Callable[[Urls], Body], int, list[str]]] = [
    (
        "model_code is case-sensitive",
        lambda u: frames(u, model_code="minimax-hailuo-02"),
        BAD_PARAMS,
        ["model_code: 模型不存在", "'minimax-hailuo-02'", "MiniMax-Hailuo-02"],
    ),
    (
        "an unknown model_code",
        lambda u: frames(u, model_code="Kling-v1.6"),
        BAD_PARAMS,
        ["model_code: 模型不存在", "'Kling-v1.6'"],
    ),
    (
        "no model_code",
        lambda u: frames(u, model_code=None),
        BAD_PARAMS,
        ["model_code: is required"],
    ),
    (
        "no ref_prompt",
        lambda u: frames(u, ref_prompt=None),
        BAD_PARAMS,
        ["ref_prompt: is required"],
    ),
    (
        "no video_duration",
        lambda u: frames(u, video_duration=None),
        BAD_PARAMS,
        ["video_duration: is required"],
    ),
    (
        "clarity 1080 is 6 s only",
        lambda u: frames(u, clarity=1080, video_duration=10),
        BAD_PARAMS,
        ["video_duration:", "at clarity 1080 (1080P) allows duration 6", "got 10"],
    ),
    (
        "6 or 10 seconds",
        lambda u: frames(u, video_duration=7),
        BAD_PARAMS,
        ["video_duration:", "at clarity 720 (768P) allows duration 6 or 10", "got 7"],
    ),
    (
        "clarity 720 or 1080",
        lambda u: frames(u, clarity=480),
        BAD_PARAMS,
        ["clarity: must be 720 (768P) or 1080 (1080P), got 480"],
    ),
    ("clarity is a number", lambda u: frames(u, clarity="hd"), BAD_PARAMS, ["clarity:", "'hd'"]),
    (
        "creation_type 4",
        lambda u: frames(u, creation_type=3),
        BAD_PARAMS,
        ["creation_type: must be 4 (video generation), got 3"],
    ),
    (
        "at most two reference images",
        lambda u: listed(u, [u["first"], u["last"], u["first"]]),
        BAD_PARAMS,
        ["ref_img_url: takes at most 2 images", "got 3"],
    ),
    (
        "frames given twice",
        lambda u: frames(u, ref_img_url=[u["first"]]),
        BAD_PARAMS,
        ["ref_img_url: give the frames either as start_frame / end_frame or as ref_img_url"],
    ),
    (
        "start_frame short side 300 px",
        lambda u: frames(u, start_frame=u["small"]),
        BAD_PARAMS,
        ["start_frame:", "451x300"],
    ),
    (
        "ref_img_url[1] beyond 5:2",
        lambda u: listed(u, [u["first"], u["wide"]]),
        BAD_PARAMS,
        ["ref_img_url[1]:", "1000x310", "2:5", "5:2"],
    ),
    (
        "end_frame a 404",
        lambda u: frames(u, end_frame=u["missing"]),
        BAD_PARAMS,
        ["end_frame:", "404"],
    ),
    (
        "start_frame scheme",
        lambda u: frames(u, start_frame="ftp://example.com/a.jpg"),
        BAD_PARAMS,
        ["start_frame: must be an https URL", "'ftp://example.com/a.jpg'"],
    ),
    (
        "callback must be a URL",
        lambda u: frames(u, callback="not a url"),
        BAD_PARAMS,
        ["callback: must be an absolute http or https URL", "'not a url'"],
    ),
    (
        "ref_prompt at most 2000 characters",
        lambda u: frames(u, ref_prompt="x" * 2001),
        BAD_PARAMS,
        ["ref_prompt: must be at most 2000 characters, got 2001"],
    ),
    (
        "the motion engine cannot invent pictures",
        lambda u: frames(u, start_frame=None, end_frame=None),
        BAD_PARAMS,
        ["model_code:", "text-to-video needs a generative engine"],
    ),
    (
        "2.3-Fast needs a first frame",
        lambda u: frames(u, start_frame=None, end_frame=None, model_code="MiniMax-Hailuo-2.3-Fast"),
        BAD_PARAMS,
        ["model_code:", "does not offer text-to-video; it requires start_frame"],
    ),
]


@pytest.fixture(scope="module")
def fresh(conch: LiveConch) -> ChanjingCredentials:
    """A key and app of their own, so that "no task was created" can be checked exactly."""
    return create_chanjing_key(conch, "chanjing bad inputs")


@pytest.fixture(scope="module")
def client(conch: LiveConch, fresh: ChanjingCredentials) -> Iterator[httpx.Client]:
    with chanjing_client(conch, fresh) as client:
        yield client


def refused(answer: httpx.Response, code: int) -> str:
    """Check Chanjing's error envelope; the msg."""
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"trace_id", "code", "msg", "data"}
    assert body["trace_id"] == answer.headers["Trace-Id"]
    assert (body["code"], body["data"]) == (code, None), body
    return str(body["msg"])


@pytest.mark.parametrize(
    ("body", "code", "fragments"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_input_is_refused_with_a_clear_message(
    conch: LiveConch,
    fresh: ChanjingCredentials,
    client: httpx.Client,
    urls: Urls,
    body: Callable[[Urls], Body],
    code: int,
    fragments: list[str],
) -> None:
    message = refused(client.post(SUBMIT, json=body(urls)), code)
    for fragment in fragments:
        assert fragment in message, message
    assert task_store(conch.data_dir).list(owner_id(conch.data_dir, fresh.key))[1] == 0


@pytest.mark.parametrize(
    ("body", "fragment"),
    [(b"{not json", "not valid JSON"), (b"[1, 2]", "JSON object"), (b"", "body is empty")],
    ids=["malformed JSON", "a JSON array", "an empty body"],
)
def test_unreadable_bodies_are_code_400(client: httpx.Client, body: bytes, fragment: str) -> None:
    answer = client.post(SUBMIT, content=body, headers={"Content-Type": "application/json"})
    assert fragment in refused(answer, BAD_FORMAT)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"page_size": 51}, "page_size: must be from 1 to 50, got 51"),
        ({"page_size": 0}, "page_size: must be from 1 to 50, got 0"),
        ({"page": 0}, "page: must be 1 or more, got 0"),
        ({"unique_ids": [str(n) for n in range(51)]}, "unique_ids: takes at most 50 ids, got 51"),
        ({"unique_ids": "abc"}, "unique_ids:"),
    ],
    ids=["page_size over 50", "page_size 0", "page 0", "51 unique_ids", "unique_ids a string"],
)
def test_page_limits(client: httpx.Client, body: Body, fragment: str) -> None:
    assert fragment in refused(client.post(PAGE, json=body), BAD_PARAMS)


def test_a_page_past_any_number_of_tasks_is_empty(client: httpx.Client) -> None:
    for page in (2**57, 2**63, 10**30):
        answer = client.post(PAGE, json={"page": page, "page_size": 50}).json()
        assert answer["code"] == 0 and answer["data"]["list"] == [], (page, answer)


def test_unknown_and_missing_unique_ids(client: httpx.Client) -> None:
    for unique_id in ("0b0f1a3e-2d4c-4c38-9a51-1d2f3e4a5b6c", "123"):
        message = refused(client.get(ONE, params={"unique_id": unique_id}), BAD_PARAMS)
        assert f"unique_id: no task {unique_id}" in message
    assert "unique_id: is required" in refused(client.get(ONE), BAD_PARAMS)
    empty = client.get(ONE, params={"unique_id": ""})
    assert "unique_id: is required" in refused(empty, BAD_PARAMS)


def test_calls_without_a_valid_token_are_10400(conch: LiveConch, urls: Urls) -> None:
    calls: list[tuple[str, str, Body | None]] = [
        ("POST", SUBMIT, frames(urls)),
        ("GET", f"{ONE}?unique_id=1", None),
        ("POST", PAGE, {}),
    ]
    for headers, fragment in (
        ({}, "access_token header is missing"),
        ({"access_token": ""}, "access_token header is missing"),
        ({"access_token": "0" * 64}, "access_token: is not valid"),
        ({"Authorization": "Bearer sk-conch-x"}, "access_token header is missing"),
    ):
        for method, path, body in calls:
            answer = httpx.request(
                method, conch.base_url + path, json=body, headers=headers, timeout=30
            )
            assert fragment in refused(answer, TOKEN_INVALID)


def test_bad_app_credentials_are_10400(conch: LiveConch, fresh: ChanjingCredentials) -> None:
    url = f"{conch.base_url}/open/v1/access_token"
    wrong_secret = {"app_id": fresh.app_id, "secret_key": fresh.secret_key[::-1]}
    assert "secret_key: does not match" in refused(
        httpx.post(url, json=wrong_secret), TOKEN_INVALID
    )
    unknown_app = {"app_id": "0000000000000000", "secret_key": fresh.secret_key}
    assert "app_id: no app" in refused(httpx.post(url, json=unknown_app), TOKEN_INVALID)
    missing = {"app_id": fresh.app_id}
    assert "secret_key: is required" in refused(httpx.post(url, json=missing), BAD_PARAMS)


def test_a_revoked_key_takes_its_app_and_token_with_it(conch: LiveConch) -> None:
    doomed = create_chanjing_key(conch, "chanjing revoked")
    token = chanjing_token(conch, doomed)["data"]["access_token"]
    key_id = str(owner_id(conch.data_dir, doomed.key))
    conch_command("keys", "revoke", key_id, "--data-dir", str(conch.data_dir))
    answer = httpx.post(f"{conch.base_url}{PAGE}", json={}, headers={"access_token": token})
    assert "revoked" in refused(answer, TOKEN_INVALID)
    assert chanjing_token(conch, doomed)["code"] == TOKEN_INVALID


def test_the_dashed_header_spelling_is_accepted(conch: LiveConch) -> None:
    # nginx drops headers with underscores by default; clients behind it may send this one.
    # (An app of its own: a new token would end the module client's.)
    token = chanjing_token(conch, create_chanjing_key(conch, "dashed"))["data"]["access_token"]
    answer = httpx.post(f"{conch.base_url}{PAGE}", json={}, headers={"Access-Token": token})
    assert answer.json()["code"] == 0
