"""/metrics, read with prometheus-client's own parser, counts the tasks a server ran (from
the database and from its runner processes) and the requests it answered; a metered key is
charged for the success and refunded for the failure, as `conch usage` reports."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from support.live import (
    SERVER_ENV,
    LiveConch,
    conch_command,
    owner_id,
    stored_inputs,
    wait_for_task,
)
from support.photos import data_url, encode, photo

TOKEN = "scrape-me"
QUERY = "/v1/query/video_generation"


def scrape(server: LiveConch) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample /metrics shows, by name and labels."""
    answer = httpx.get(
        f"{server.base_url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30
    )
    assert answer.status_code == 200, answer.text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def labels(**given: str) -> frozenset[tuple[str, str]]:
    return frozenset(given.items())


def test_metrics_count_the_tasks_run_and_a_failed_task_is_refunded(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {**SERVER_ENV, "CONCH_METRICS_TOKEN": TOKEN, "CONCH_MAX_ATTEMPTS": "1"}
    body = {
        "model": "MiniMax-Hailuo-02",
        "first_frame_image": data_url(encode(photo("rocket"))),
        "resolution": "512P",
    }
    idle = LiveConch(data, {**env, "CONCH_WORKERS": "0"})
    key = idle.create_key("metered", "--balance", "20")
    with idle, idle.client(key) as client:
        made = [client.post("/v1/video_generation", json=body).json()["task_id"] for _ in "ab"]
    (doomed,) = stored_inputs(data, key, made[1])
    doomed.unlink()  # its runner cannot read it: the task fails
    runner = LiveConch(data, env)
    with runner, runner.client(key) as client:
        assert [wait_for_task(client, task)["status"] for task in made] == ["Success", "Fail"]
        # A render is counted just after its task is marked done: wait for the second.
        failed = labels(engine="motion", model="MiniMax-Hailuo-02", outcome="fail")
        while ("conch_render_seconds_count", failed) not in scrape(runner):
            time.sleep(0.05)
        before = scrape(runner)
        for _ in range(3):
            assert client.get(QUERY, params={"task_id": made[0]}).status_code == 200
        after = scrape(runner)
        refused = httpx.get(f"{runner.base_url}/metrics", timeout=30)
    where = {"model": "MiniMax-Hailuo-02", "dialect": "minimax", "engine": "motion"}
    assert after[("conch_tasks_submitted_total", labels(**where))] == 2
    for status in ("success", "fail"):
        assert after[("conch_tasks_ended_total", labels(status=status, **where))] == 1
        run = labels(engine="motion", model="MiniMax-Hailuo-02", outcome=status)
        assert after[("conch_render_seconds_count", run)] == 1  # from the runner process
    assert after[("conch_queue_depth", labels())] == 0
    assert after[("conch_callback_deliveries_pending", labels())] == 0
    queried = ("conch_http_requests_total", labels(route=QUERY, method="GET", status="200"))
    assert after[queried] - before[queried] == 3
    assert refused.status_code == 401
    usage = conch_command("usage", "--csv", "--data-dir", str(data)).stdout.splitlines()
    assert usage[1].split(",")[2:] == ["MiniMax-Hailuo-02", "2", "1", "6", "6", "6"]
    shown = conch_command("keys", "show", str(owner_id(data, key)), "--data-dir", str(data))
    assert "balance: 14 s, 0 s of it held by tasks in flight, 14 s available" in shown.stdout
