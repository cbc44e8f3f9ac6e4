"""A task that keeps failing inside conch is retried, then ends Fail with its reason."""

from __future__ import annotations

from pathlib import Path

from support.live import (
    SERVER_ENV,
    LiveConch,
    owner_id,
    stored_inputs,
    task_store,
    wait_for_task,
)
from support.photos import data_url, encode, photo


def test_internal_failures_are_retried_then_reported(tmp_path: Path) -> None:
    data = tmp_path / "data"
    body = {"model": "I2V-01", "first_frame_image": data_url(encode(photo("astronaut")))}
    no_runners = LiveConch(data, {**SERVER_ENV, "CONCH_WORKERS": "0"})
    key = no_runners.create_key()
    with no_runners, no_runners.client(key) as client:
        task_id = client.post("/v1/video_generation", json=body).json()["task_id"]
    # The accepted input vanishes from storage: every attempt to render it fails.
    (stored,) = stored_inputs(data, key, task_id)
    stored.unlink()
    runners = LiveConch(data, {**SERVER_ENV, "CONCH_MAX_ATTEMPTS": "2"})
    with runners, runners.client(key) as client:
        done = wait_for_task(client, task_id)
    assert done["status"] == "Fail"
    assert done["base_resp"]["status_code"] == 1000
    assert "FileNotFoundError" in done["base_resp"]["status_msg"]
    assert "gave up after 2 attempts" in done["base_resp"]["status_msg"]
    assert done["file_id"] == ""
    assert task_store(data).get(owner_id(data, key), int(task_id)).attempts == 2
