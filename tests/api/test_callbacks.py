"""Callbacks through a live `conch serve` and a real receiver on 127.0.0.1: the handshake
at submit, pushes in order after failures, signatures, 410, the owner's views, Chanjing."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from support.dialects import chanjing_client, create_chanjing_key, wait_chanjing
from support.live import SERVER_ENV, LiveConch, conch_command, owner_id, task_store, wait_for_task
from support.photos import data_url, encode, photo
from support.receiver import Received, Receiver, Reply, pushes_answered, receiving

# Short retries, so that failed pushes are tried again within the test.
CALLBACK_ENV = {
    **SERVER_ENV,
    "CONCH_CALLBACK_RETRY_BASE": "0.2",
    "CONCH_CALLBACK_RETRY_MAX_DELAY": "0.5",
    "CONCH_CALLBACK_RETRY_WINDOW": "120",
    "CONCH_CALLBACK_TIMEOUT": "3",
}


@dataclass(frozen=True)
class SigningKey:
    key: str
    secret: str


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with receiving() as server:
        yield server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveConch]:
    with LiveConch(tmp_path_factory.mktemp("callbacks"), CALLBACK_ENV) as live:
        yield live


@pytest.fixture(scope="module")
def key(server: LiveConch) -> str:
    """A key without a signing secret."""
    return server.create_key("plain")


@pytest.fixture(scope="module")
def signing(server: LiveConch) -> SigningKey:
    """A key made with `conch keys create --signing-secret`: secret line, then the key."""
    out = conch_command(
        "keys", "create", "--name", "signed", "--signing-secret", "--data-dir",
        str(server.data_dir), env=server.env,
    ).stdout.strip().splitlines()  # fmt: skip
    name, _, secret = out[-2].partition("=")
    assert name == "signing_secret" and secret.startswith("whsec_")
    return SigningKey(out[-1], secret)


def small_render(callback_url: str) -> dict[str, Any]:
    """The cheapest render: rocket (640x427) at 512P, image to video."""
    return {
        "model": "MiniMax-Hailuo-02",
        "first_frame_image": data_url(encode(photo("rocket"))),
        "resolution": "512P",
        "prompt": "a rocket on the pad [Push in]",
        "callback_url": callback_url,
    }


@dataclass(frozen=True)
class Flaky:
    """A task whose receiver failed its first two pushes, and everything it received."""

    task_id: str
    query: dict[str, Any]
    handshake: Received
    pushes: list[Received]


@pytest.fixture(scope="module")
def flaky(server: LiveConch, signing: SigningKey, receiver: Receiver) -> Flaky:
    url = receiver.route("/flaky", pushes_answered(500, 502))
    with server.client(signing.key) as client:
        created = client.post("/v1/video_generation", json=small_render(url)).json()
        assert created["base_resp"]["status_code"] == 0, created
        query = wait_for_task(client, created["task_id"])
    pushes = receiver.wait_for_pushes("/flaky", 4)
    [handshake] = [r for r in receiver.requests("/flaky") if r.is_handshake]
    return Flaky(created["task_id"], query, handshake, pushes)


def test_pushes_arrive_in_order_and_are_retried_after_two_failures(flaky: Flaky) -> None:
    assert flaky.query["status"] == "Success"
    statuses = [push.json["status"] for push in flaky.pushes]
    assert statuses == ["processing", "processing", "processing", "success"]
    assert flaky.handshake.at < flaky.pushes[0].at
    assert all(push.json["task_id"] == flaky.task_id for push in flaky.pushes)
    assert flaky.pushes[0].json["file_id"] == ""
    # The success push is the query answer, with MiniMax's lowercase push status.
    assert flaky.pushes[-1].json == {**flaky.query, "status": "success"}


def test_every_push_verifies_with_the_keys_signing_secret(
    flaky: Flaky, signing: SigningKey
) -> None:
    verifier = Webhook(signing.secret)  # the standardwebhooks package, not conch's code
    for request in [flaky.handshake, *flaky.pushes]:
        assert verifier.verify(request.body, request.headers) == request.json
    ids = [push.headers["webhook-id"] for push in flaky.pushes]
    assert ids[0] == ids[1] == ids[2] != ids[3]  # the same id on every retry of a push
    with pytest.raises(Exception, match="signature"):
        Webhook(signing.secret).verify(flaky.pushes[0].body + b" ", flaky.pushes[0].headers)


def test_the_owner_sees_each_push_and_attempt(
    flaky: Flaky, server: LiveConch, signing: SigningKey
) -> None:
    with server.client(signing.key) as client:
        answer = client.get(f"/v1/tasks/{flaky.task_id}/deliveries")
    assert answer.status_code == 200
    body = answer.json()
    assert body["task_id"] == flaky.task_id and body["callback_url"].endswith("/flaky")
    processing, success = body["deliveries"]
    assert (processing["event"], processing["state"]) == ("processing", "delivered")
    assert [a["http_status"] for a in processing["attempts"]] == [500, 502, 200]
    assert (success["event"], success["state"]) == ("success", "delivered")
    assert [a["http_status"] for a in success["attempts"]] == [200]
    assert processing["webhook_id"] == flaky.pushes[0].headers["webhook-id"]


def test_nobody_else_sees_them(flaky: Flaky, server: LiveConch) -> None:
    other = server.create_key("other")
    with server.client(other) as client:
        answer = client.get(f"/v1/tasks/{flaky.task_id}/deliveries")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"
    with server.client(None) as client:
        assert client.get(f"/v1/tasks/{flaky.task_id}/deliveries").status_code == 401


def test_conch_deliveries_shows_them_to_the_operator(flaky: Flaky, server: LiveConch) -> None:
    args = ["deliveries", flaky.task_id, "--data-dir", str(server.data_dir)]
    text = conch_command(*args, env=server.env).stdout
    assert "#1 processing" in text and "#2 success" in text
    assert text.count("HTTP 500") == 1 and text.count("HTTP 502") == 1
    listed = json.loads(conch_command(*args, "--json", env=server.env).stdout)
    assert [d["state"] for d in listed["deliveries"]] == ["delivered", "delivered"]


@pytest.mark.parametrize("prefix", ["", "/minimax"])  # MiniMax, QuickRouter
def test_a_failed_handshake_refuses_the_submit_and_creates_no_task(
    server: LiveConch, receiver: Receiver, prefix: str
) -> None:
    key = server.create_key(f"refused{prefix}")
    wrong = receiver.route("/wrong-echo", lambda _request: Reply(body=b'{"challenge": "no"}'))
    with receiving("127.0.0.2") as elsewhere:
        refused_address = elsewhere.route("/hook")
        cases = {
            wrong: "the answer echoed a different challenge",
            receiver.route("/error", lambda request: Reply(500, body=request.body)): "HTTP 500",
            refused_address: "address 127.0.0.2",
        }
        with server.client(key, prefix) as client:
            for url, reason in cases.items():
                answer = client.post("/v1/video_generation", json=small_render(url)).json()
                assert answer["base_resp"]["status_code"] == 2013, answer
                message = answer["base_resp"]["status_msg"]
                assert message.startswith("callback_url: the callback handshake failed: ")
                assert reason in message
        assert elsewhere.received == []  # a refused address is never contacted
    assert task_store(server.data_dir).list(owner_id(server.data_dir, key)) == ([], 0)


def test_an_overlong_callback_url_is_refused_before_any_handshake(
    server: LiveConch, receiver: Receiver
) -> None:
    key = server.create_key("overlong")
    url = receiver.route("/long?pad=" + "x" * 8192)
    with server.client(key) as client:
        answer = client.post("/v1/video_generation", json=small_render(url)).json()
    assert answer["base_resp"]["status_code"] == 2013, answer
    message = answer["base_resp"]["status_msg"]
    assert message.startswith("callback_url: must be an absolute http or https URL")
    assert "of at most 8192 characters" in message
    assert receiver.requests("/long?pad=" + "x" * 8192) == []
    assert task_store(server.data_dir).list(owner_id(server.data_dir, key)) == ([], 0)


def test_a_410_stops_the_pushes_of_that_url(
    server: LiveConch, key: str, receiver: Receiver
) -> None:
    url = receiver.route("/gone", pushes_answered(410))
    with server.client(key) as client:
        created = client.post("/v1/video_generation", json=small_render(url)).json()
        assert wait_for_task(client, created["task_id"])["status"] == "Success"
        deliveries = _settled(client, created["task_id"], 2)
    assert [d["state"] for d in deliveries] == ["gone", "stopped"]
    assert [push.json["status"] for push in receiver.pushes("/gone")] == ["processing"]
    assert deliveries[1]["attempts"] == [] and "410" in deliveries[1]["outcome"]


def test_chanjing_pushes_its_task_objects_to_callback(
    server: LiveConch, receiver: Receiver
) -> None:
    credentials = create_chanjing_key(server, "chanjing-callbacks")
    body = {
        "start_frame": data_url(encode(photo("rocket"))),
        "ref_prompt": "a rocket on the pad",
        "creation_type": 4,
        "clarity": 720,
        "video_duration": 6,
        "model_code": "MiniMax-Hailuo-02",
        "callback": receiver.route("/chanjing"),
    }
    with chanjing_client(server, credentials) as client:
        refused = client.post(
            "/open/v1/ai_creation/task/submit",
            json={**body, "callback": receiver.route("/cj-wrong", lambda _r: Reply(body=b"{}"))},
        ).json()
        assert refused["code"] == 40000, refused
        assert refused["msg"].startswith("callback: the callback handshake failed: ")
        created = client.post("/open/v1/ai_creation/task/submit", json=body).json()
        assert created["code"] == 0, created
        final = wait_chanjing(client, created["data"])
    generating, success = (push.json for push in receiver.wait_for_pushes("/chanjing", 2))
    assert generating["unique_id"] == success["unique_id"] == created["data"]
    assert (generating["progress_desc"], generating["output_url"]) == ("Generating", [])
    assert success["progress_desc"] == final["progress_desc"] == "Success"
    assert {k: v for k, v in success.items() if k != "output_url"} == {
        k: v for k, v in final.items() if k != "output_url"
    }
    [link] = success["output_url"]
    video = httpx.get(link, timeout=30)  # the pushed link is a working download
    assert video.status_code == 200 and video.content[4:8] == b"ftyp"


def _settled(client: httpx.Client, task_id: str, count: int) -> list[dict[str, Any]]:
    """The task's deliveries once ``count`` of them have ended."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        deliveries = client.get(f"/v1/tasks/{task_id}/deliveries").json()["deliveries"]
        if sum(d["state"] != "pending" for d in deliveries) >= count:
            return list(deliveries)
        time.sleep(0.1)
    raise AssertionError(f"deliveries of {task_id} did not settle: {deliveries}")
