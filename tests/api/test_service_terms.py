"""Running conch for others, end to end on two `conch serve` processes over one database:
rate limits and balances hold across both, and moderation refuses listed words in every
dialect, with a list that reloads without a restart. The servers run no tasks (workers 0):
what is accepted stays in flight."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from support.dialects import chanjing_client, create_chanjing_key, modelverse_client
from support.live import SERVER_ENV, LiveConch, conch_command
from support.photos import data_url, encode, photo

PICTURE = data_url(encode(photo("rocket")))
TEXT = {
    "model": "MiniMax-Hailuo-02",
    "first_frame_image": PICTURE,
    "prompt": "a harbour at dawn",
    "resolution": "512P",
}
SUBMIT = "/v1/video_generation"
QUERY = "/v1/query/video_generation"


@pytest.fixture(scope="module")
def word_list(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("moderation") / "words.txt"
    path.write_text("# refused\nswordfish\nre:禁止\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def servers(
    tmp_path_factory: pytest.TempPathFactory, word_list: Path
) -> Iterator[tuple[LiveConch, LiveConch]]:
    data = tmp_path_factory.mktemp("shared")
    env = {**SERVER_ENV, "CONCH_WORKERS": "0", "CONCH_MODERATION_FILE": str(word_list)}
    with LiveConch(data, env) as first, LiveConch(data, env) as second:
        yield first, second


def new_key(server: LiveConch, *options: str) -> str:
    return server.create_key("terms", *options)


def modelverse_body(prompt: str = "") -> dict[str, Any]:
    return {
        "model": "MiniMax-Hailuo-02",
        "input": {"first_frame_image": PICTURE, "prompt": prompt},
    }


def test_submit_and_read_rates_hold_across_two_servers(
    servers: tuple[LiveConch, LiveConch],
) -> None:
    first, second = servers
    key = new_key(first, "--rpm", "1", "--read-rpm", "2")
    started = time.monotonic()
    with first.client(key) as one, modelverse_client(second, key) as other:
        submits = [
            one.post(SUBMIT, json=TEXT).json()["base_resp"],
            other.post("/v1/tasks/submit", json=modelverse_body()),
            one.post(SUBMIT, json=TEXT).json()["base_resp"],
        ]
        reads = [one.get(QUERY, params={"task_id": "1"}).json()["base_resp"] for _ in range(3)]
    elapsed = time.monotonic() - started
    # A bucket of 1 submit a minute (2 reads) refills one every 60 s (30 s): however slow
    # the machine, no more than that got through, on both servers together.
    modelverse = submits[1]
    accepted = [submits[0]["status_code"], submits[2]["status_code"]].count(0)
    accepted += modelverse.status_code == 200
    assert 1 <= accepted <= 1 + elapsed // 60
    if modelverse.status_code == 429:
        assert 1 <= int(modelverse.headers["Retry-After"]) <= 60
        assert modelverse.json()["error"]["type"] == "rate_limit_error"
        message = modelverse.json()["error"]["message"]
        assert "this key may make 1 submit a minute; retry in" in message
    read_codes = [answer["status_code"] for answer in reads]
    assert read_codes.count(1002) >= 3 - (2 + elapsed // 30)
    assert all(code in (2013, 1002) for code in read_codes)  # 2013: no task 1, but read


def test_twenty_submits_at_once_against_a_balance_for_three_get_three(
    servers: tuple[LiveConch, LiveConch],
) -> None:
    twenty_submits_against_three(*servers)


def test_the_same_holds_on_postgresql(postgres_url: str, tmp_path: Path) -> None:
    env = {**SERVER_ENV, "CONCH_WORKERS": "0", "CONCH_DATABASE_URL": postgres_url}
    with LiveConch(tmp_path / "a", env) as first, LiveConch(tmp_path / "b", env) as second:
        twenty_submits_against_three(first, second)


def twenty_submits_against_three(first: LiveConch, second: LiveConch) -> None:
    """20 submits at once, split over both servers, against a balance for three tasks."""
    key = new_key(first, "--balance", "18")  # three 6-second tasks

    def submit(number: int) -> dict[str, Any]:
        with (first, second)[number % 2].client(key) as client:
            return dict(client.post(SUBMIT, json=TEXT).json()["base_resp"])

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(submit, range(20)))
    codes = [answer["status_code"] for answer in answers]
    assert (codes.count(0), codes.count(1008)) == (3, 17), answers
    refusal = next(answer["status_msg"] for answer in answers if answer["status_code"])
    assert "needs 6 video-seconds and the key has 0 available" in refusal
    with modelverse_client(second, key) as client:
        answer = client.post("/v1/tasks/submit", json=modelverse_body())
    assert (answer.status_code, answer.json()["error"]["type"]) == (403, "permission_error")
    cli = ("--data-dir", str(first.data_dir))
    listed = conch_command("keys", "list", *cli, env=first.env).stdout.splitlines()
    key_id = next(line.split("\t")[0] for line in listed if f"\t{key[:15]}..." in line)
    ledger = conch_command("keys", "show", key_id, "--ledger", *cli, env=first.env).stdout
    assert "balance: 18 s, 18 s of it held by tasks in flight, 0 s available" in ledger
    kinds = [line.split("\t")[2] for line in ledger.splitlines() if "\t" in line]
    assert kinds == ["topup", "reserve", "reserve", "reserve"]


def _refused(answer: httpx.Response, code_path: tuple[str, ...], code: object) -> str:
    body = answer.json()
    found: Any = body
    for part in code_path:
        found = found[part]
    assert found == code, body
    return str(body)


def test_a_listed_word_is_refused_in_every_dialect_and_the_list_reloads(
    servers: tuple[LiveConch, LiveConch], word_list: Path
) -> None:
    first, second = servers
    credentials = create_chanjing_key(first, "moderated")
    image = PICTURE
    chanjing_body = {
        "start_frame": image,
        "creation_type": 4,
        "model_code": "MiniMax-Hailuo-02",
        "video_duration": 6,
        "clarity": 720,
    }
    prompts = ["A SWORDFISH leaps", "画面禁止出现"]
    with (
        first.client(credentials.key) as minimax,
        second.client(credentials.key, "/minimax") as quickrouter,
        modelverse_client(first, credentials.key) as modelverse,
        chanjing_client(second, credentials) as chanjing,
    ):
        for prompt in prompts:
            said = [
                _refused(minimax.post(SUBMIT, json={**TEXT, "prompt": prompt}),
                         ("base_resp", "status_code"), 1026),
                _refused(quickrouter.post(SUBMIT, json={**TEXT, "prompt": prompt}),
                         ("base_resp", "status_code"), 1026),
                _refused(modelverse.post("/v1/tasks/submit", json=modelverse_body(prompt)),
                         ("error", "type"), "sensitive_check_error"),
                _refused(chanjing.post("/open/v1/ai_creation/task/submit",
                                       json={**chanjing_body, "ref_prompt": prompt}),
                         ("code",), 40000),
            ]  # fmt: skip
            assert all("content policy" in text for text in said)
            assert not any("swordfish" in text.lower() or "禁止" in text for text in said)
        assert (
            minimax.post(SUBMIT, json={**TEXT, "prompt": "swordfishing boats"}).json()["base_resp"][
                "status_code"
            ]
            == 0
        )  # whole words only
        word_list.write_text("lighthouse\n", encoding="utf-8")  # the operator edits the list
        for client in (minimax, quickrouter):
            moved = client.post(SUBMIT, json={**TEXT, "prompt": "A swordfish leaps"}).json()
            assert moved["base_resp"]["status_code"] == 0
            now_refused = client.post(SUBMIT, json={**TEXT, "prompt": "a lighthouse"}).json()
            assert now_refused["base_resp"]["status_code"] == 1026
