"""No secret reaches the server's log, in either log format: a whole scenario (a signed key,
a Chanjing app and its token, a callback URL with credentials and a token, an image as a
data URL, a download by signed link, a scrape of /metrics) leaves none of them in it. In
the JSON format every line is one JSON object, and every line a request or its task
causes carries that request's trace id."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from support.dialects import chanjing_token, create_chanjing_key
from support.live import SERVER_ENV, LiveConch, conch_command, wait_for_task
from support.photos import data_url, encode, photo
from support.receiver import Receiver, receiving

ENV = {
    **SERVER_ENV,
    "CONCH_CALLBACK_RETRY_BASE": "0.2",
    "CONCH_CALLBACK_TIMEOUT": "3",
    "CONCH_METRICS_TOKEN": "metrics-token-XYZZY",
}


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with receiving() as server:
        yield server


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_whole_scenario_leaves_no_secret_in_the_log(
    tmp_path_factory: pytest.TempPathFactory, receiver: Receiver, log_format: str
) -> None:
    server = LiveConch(tmp_path_factory.mktemp("secrets"), {**ENV, "CONCH_LOG_FORMAT": log_format})
    with server:
        made = conch_command(
            "keys", "create", "--name", "secret-scan", "--signing-secret",
            "--data-dir", str(server.data_dir), env=server.env,
        ).stdout.strip().splitlines()  # fmt: skip
        signing_secret, key = made[-2].partition("=")[2], made[-1]
        app = create_chanjing_key(server, "secret-scan-chanjing")
        token = chanjing_token(server, app)["data"]["access_token"]
        plain = receiver.route(f"/hook-{log_format}")
        hook = plain.replace("http://", "http://hookuser:hunter2@") + "?token=SECRET123"
        picture = data_url(encode(photo("rocket")))
        body = {
            "model": "MiniMax-Hailuo-02",
            "first_frame_image": picture,
            "resolution": "512P",
            "callback_url": hook,
        }
        with server.client(key) as client:
            created = client.post("/v1/video_generation", json=body)
            assert created.json()["base_resp"]["status_code"] == 0, created.json()
            done = wait_for_task(client, created.json()["task_id"])
            link = client.get("/v1/files/retrieve", params={"file_id": done["file_id"]})
            url = link.json()["file"]["download_url"]
            client.get("/metrics", headers={"Authorization": "Bearer metrics-token-XYZZY"})
        assert httpx.get(url).status_code == 200
        receiver.wait_for_pushes(f"/hook-{log_format}?token=SECRET123", 2)
        server.stop()  # every line written
    signature = parse_qs(urlsplit(url).query)["signature"][0]
    log = server.log()
    assert "/downloads/" in log  # the access lines are there, without their query
    secrets = (key, signing_secret, app.secret_key, token, "hunter2", "SECRET123", signature)
    for secret in (*secrets, "metrics-token-XYZZY", picture[30:90], picture[-60:]):
        assert secret not in log, f"{secret[:12]}... is in the log"
    if log_format == "json":
        _check_json_lines(log, created.headers["Trace-Id"], created.json()["task_id"])


def _check_json_lines(log: str, submit_trace: str, task_id: str) -> None:
    """Every log line is a JSON object; the submit's lines and its task's carry its trace."""
    lines = [line for line in log.splitlines() if line.startswith("{")]
    records = [json.loads(line) for line in lines]
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    submit_lines = [r for r in records if "POST /v1/video_generation" in r["message"]]
    assert [r.get("trace_id") for r in submit_lines] == [submit_trace]
    task_lines = [r for r in records if r.get("task_id") == task_id]
    assert task_lines and all(r["trace_id"] == submit_trace for r in task_lines)
    assert any(r["process"].endswith("runner-0") for r in task_lines)
    access = [r for r in records if r["logger"] == "uvicorn.access"]
    assert access and all(r.get("trace_id") for r in access)
