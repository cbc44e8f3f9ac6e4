"""`conch serve`: a first start hands out a key; a graceful stop gives running work back."""

from __future__ import annotations

import gc
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from conch.cli.serve import GC_YOUNG_THRESHOLD, settle_garbage_collector
from conch.config import Settings
from conch.domain.task import TaskStatus
from conch.runner.inprocess import LOCAL_OWNER
from conch.services import Services
from support.files_http import FileServer
from support.live import SERVER_ENV, LiveConch, owner_id, task_store, wait_for_task
from support.photos import clip_frame, encode


def _try_it(log: str) -> str:
    """The banner's try-it lines, as a reader copies them."""
    block = log.split("Try it:", 1)[1].split("It answers a task_id", 1)[0]
    return "\n".join(line.strip() for line in block.splitlines() if line.startswith("  "))


def _paste(lines: str) -> dict[str, Any]:
    """Run the lines in a shell with no CONCH_API_KEY set; the JSON they printed."""
    env = {name: value for name, value in os.environ.items() if name != "CONCH_API_KEY"}
    shell = subprocess.run(
        ["bash", "-c", lines], capture_output=True, text=True, env=env, timeout=120
    )
    assert shell.returncode == 0, shell.stderr
    answer: dict[str, Any] = json.loads(shell.stdout)
    return answer


def test_the_printed_try_it_lines_make_a_video_when_pasted_offline(tmp_path: Path) -> None:
    # Only the server's own loopback may be fetched; the lines need nothing else.
    server = LiveConch(tmp_path, {"CONCH_WORKERS": "1"})
    with server:
        first = _try_it(server.log())
        answer = _paste(first)
        assert answer["base_resp"]["status_code"] == 0, answer
        key = re.findall(r"sk-conch-[\w-]+", first)[0]
        with server.client(key) as client:
            assert wait_for_task(client, answer["task_id"])["status"] == "Success"
    assert "public addresses only" in server.log()
    with server:  # a later start: the key is not known any more, the lines make one
        later = _try_it(server.log().split("is serving")[-1])
        assert "sk-conch-" not in later
        assert _paste(later)["base_resp"]["status_code"] == 0


def test_first_start_prints_a_working_key_once(tmp_path: Path) -> None:
    server = LiveConch(tmp_path, SERVER_ENV)
    with server:
        printed = re.findall(r"sk-conch-[\w-]+", server.log())
        assert len(set(printed)) == 1, server.log()  # in the studio link and the export line
        assert f"{server.base_url}/docs" in server.log()
        with server.client(printed[0]) as client:
            answer = client.get("/v1/query/video_generation", params={"task_id": "1"}).json()
            assert answer["base_resp"]["status_code"] == 2013  # authenticated, no such task
    with server:
        assert set(re.findall(r"sk-conch-[\w-]+", server.log())) == set(printed)  # no second key


@pytest.mark.parametrize(
    "stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["Ctrl-C", "a service manager's stop"]
)
def test_stopping_gives_a_running_task_back_untouched(tmp_path: Path, stop_signal: int) -> None:
    server = LiveConch(tmp_path / "data", SERVER_ENV)
    key = server.create_key()
    with FileServer() as files, server, server.client(key) as client:
        body = {
            "model": "MiniMax-Hailuo-02",
            "first_frame_image": files.put("/a.jpg", encode(clip_frame(0))),
            "last_frame_image": files.put("/b.jpg", encode(clip_frame(50))),
            "resolution": "768P",  # seconds of rendering: long enough to stop in the middle
        }
        task_id = client.post("/v1/video_generation", json=body).json()["task_id"]
        store, owner = task_store(server.data_dir), owner_id(server.data_dir, key)
        while store.get(owner, int(task_id)).status is not TaskStatus.PROCESSING:
            time.sleep(0.05)
        server.stop(stop_signal)
        if stop_signal == signal.SIGTERM:  # a clean stop, as service managers count one
            assert server.process is not None and server.process.returncode == 0
        stopped = store.get(owner, int(task_id))
        assert (stopped.status, stopped.attempts) == (TaskStatus.QUEUED, 0), server.log()
        assert "leaked" not in server.log()  # every runner was stopped and joined
        server.start()
        assert wait_for_task(client, task_id)["status"] == "Success"
        assert store.get(owner, int(task_id)).attempts == 1


def test_a_local_generate_key_does_not_hide_the_first_key(tmp_path: Path) -> None:
    # `conch generate` without a server owns its tasks with a key of its own.
    Services.open(Settings(data_dir=tmp_path)).keys.create(LOCAL_OWNER)
    with LiveConch(tmp_path, SERVER_ENV) as server:
        assert len(set(re.findall(r"sk-conch-[\w-]+", server.log()))) == 1, server.log()


def test_start_up_objects_are_frozen_out_of_the_garbage_collector() -> None:
    threshold = gc.get_threshold()
    try:
        settle_garbage_collector()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (GC_YOUNG_THRESHOLD, *threshold[1:])
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
