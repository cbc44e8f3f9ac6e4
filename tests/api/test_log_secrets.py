"""No secret reaches the server's log: a whole scenario (a signed key, a callback URL with
credentials and a token, a download by signed link) leaves none of them in it."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from support.live import SERVER_ENV, LiveConch, conch_command, wait_for_task
from support.photos import data_url, encode, photo
from support.receiver import Receiver, receiving

ENV = {**SERVER_ENV, "CONCH_CALLBACK_RETRY_BASE": "0.2", "CONCH_CALLBACK_TIMEOUT": "3"}


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with receiving() as server:
        yield server


def test_a_whole_scenario_leaves_no_secret_in_the_log(
    tmp_path_factory: pytest.TempPathFactory, receiver: Receiver
) -> None:
    server = LiveConch(tmp_path_factory.mktemp("secrets"), ENV)
    with server:
        made = conch_command(
            "keys", "create", "--name", "secret-scan", "--signing-secret",
            "--data-dir", str(server.data_dir), env=server.env,
        ).stdout.strip().splitlines()  # fmt: skip
        signing_secret, key = made[-2].partition("=")[2], made[-1]
        plain = receiver.route("/hook")
        hook = plain.replace("http://", "http://hookuser:hunter2@") + "?token=SECRET123"
        picture = data_url(encode(photo("rocket")))
        body = {
            "model": "MiniMax-Hailuo-02",
            "first_frame_image": picture,
            "resolution": "512P",
            "callback_url": hook,
        }
        with server.client(key) as client:
            created = client.post("/v1/video_generation", json=body).json()
            assert created["base_resp"]["status_code"] == 0, created
            done = wait_for_task(client, created["task_id"])
            link = client.get("/v1/files/retrieve", params={"file_id": done["file_id"]})
            url = link.json()["file"]["download_url"]
        assert httpx.get(url).status_code == 200
        receiver.wait_for_pushes("/hook?token=SECRET123", 2)  # the receiver keys by path + query
        server.stop()  # every line written
    signature = parse_qs(urlsplit(url).query)["signature"][0]
    log = server.log()
    assert "/downloads/" in log  # the access lines are there, without their query
    for secret in (key, signing_secret, "hunter2", "SECRET123", signature, picture[30:90]):
        assert secret not in log, f"{secret[:12]}... is in the log"
