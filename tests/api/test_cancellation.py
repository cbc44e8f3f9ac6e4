"""Cancellation in every dialect that has a cancel call (/v1/videos' delete, v2's delete,
conch's own for the rest), of a queued and of a running task, through conch's SDK and CLI;
a task read through all six dialects, each in its own words; and the SDK over the two new
dialects, end to end.

Queued tasks are cancelled on a server that runs nothing; running ones on the shared
server, on a long render (MiniMax-H3, 15 s at 2K) seen running first."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import conch
from conch.client import Client, Dialect, State
from conch.domain.errors import InvalidParams
from conch.domain.task import TaskStatus
from conch.media.video import probe
from support.dialects import chanjing_client, create_chanjing_key
from support.files_http import FileServer
from support.live import SERVER_ENV, LiveConch, conch_command, task_store

LONG = {"model": "MiniMax-H3", "duration": 15, "resolution": "2K"}


@pytest.fixture(scope="module")
def idle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveConch]:
    """A server with no runners: its tasks stay queued."""
    with LiveConch(tmp_path_factory.mktemp("idle"), {**SERVER_ENV, "CONCH_WORKERS": "0"}) as server:
        yield server


def sdk(server: LiveConch, key: str, dialect: Dialect) -> Client:
    return conch.Client(server.base_url, key, dialect=dialect, token_cache=False)


def first_frame(files: FileServer) -> str:
    return files.base_url + "/clip/first.jpg"


@pytest.mark.parametrize(
    "dialect", [Dialect.OPENAI_VIDEOS, Dialect.MINIMAX_V2, Dialect.MINIMAX, Dialect.MODELVERSE]
)
def test_a_queued_task_is_cancelled_and_never_starts(
    dialect: Dialect, idle: LiveConch, files: FileServer
) -> None:
    key = idle.create_key(f"cancel {dialect}")
    with sdk(idle, key, dialect) as client:
        task_id = client.submit(model="MiniMax-Hailuo-02", first_frame=first_frame(files))
        assert client.status(task_id).state is State.QUEUED
        cancelled = client.cancel(task_id)
        assert cancelled.state is State.FAILED and cancelled.failure is not None
        with pytest.raises(InvalidParams if dialect is not Dialect.OPENAI_VIDEOS else Exception):
            client.cancel(task_id)  # ended (or, on /v1/videos, deleted): refused
    store = task_store(idle.data_dir)
    assert store.by_id(int(task_id)).status is TaskStatus.CANCELLED
    assert store.claim("test", 60, task_id=int(task_id)) is None  # it never starts


def test_chanjing_callers_cancel_with_their_token(idle: LiveConch, files: FileServer) -> None:
    credentials = create_chanjing_key(idle, "chanjing cancel")
    with sdk(idle, credentials.key, Dialect.MINIMAX) as minimax:
        task_id = minimax.submit(model="MiniMax-Hailuo-02", first_frame=first_frame(files))
    with chanjing_client(idle, credentials) as chanjing:
        answer = chanjing.post(f"/v1/tasks/{task_id}/cancel")
        assert answer.status_code == 200, answer.text
        assert (answer.json()["status"], answer.json()["error"]["code"]) == (
            "cancelled",
            "cancelled",
        )
        task = chanjing.get("/open/v1/ai_creation/task", params={"unique_id": task_id}).json()
        assert (task["data"]["progress_desc"], task["data"]["err_msg"]) == ("Error", "cancelled")


def test_conch_tasks_cancel_uses_the_sdk(idle: LiveConch, files: FileServer) -> None:
    key = idle.create_key("cli cancel")
    with sdk(idle, key, Dialect.MINIMAX) as client:
        task_id = client.submit(model="MiniMax-Hailuo-02", first_frame=first_frame(files))
    server = ["--server", idle.base_url, "--api-key", key]
    done = conch_command("tasks", "cancel", task_id, *server, "--dialect", "minimax-v2")
    assert done.stdout.strip() == f"{task_id}: failed (cancelled)"
    again = httpx.post(
        f"{idle.base_url}/v1/tasks/{task_id}/cancel", headers={"Authorization": f"Bearer {key}"}
    )
    assert again.status_code == 400
    assert "has already ended: it was cancelled" in again.json()["error"]["message"]


# -- running tasks, on the shared server ----------------------------------------------------


@pytest.fixture(scope="module")
def key(conch: LiveConch) -> str:
    return conch.create_key("cancel running")


def wait_running(client: Client, task_id: str) -> None:
    deadline = time.monotonic() + 120
    while (state := client.status(task_id).state) is not State.RUNNING:
        assert state is State.QUEUED and time.monotonic() < deadline, state
        time.sleep(0.1)


def wait_let_go(data_dir: Path, task_id: str) -> None:
    """Until the runner has removed its staging file of the task (it stopped)."""
    staging = data_dir / "media" / "staging"
    deadline = time.monotonic() + 60
    while list(staging.glob(f"{task_id}.*")):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert not list((data_dir / "media" / "outputs").glob(f"{task_id}.*"))


@pytest.mark.parametrize("dialect", [Dialect.MINIMAX_V2, Dialect.MINIMAX])
def test_a_running_render_is_stopped(
    dialect: Dialect, conch: LiveConch, key: str, files: FileServer
) -> None:
    with sdk(conch, key, dialect) as client:
        task_id = client.submit(first_frame=first_frame(files), **LONG)
        wait_running(client, task_id)
        cancelled = client.cancel(task_id)
        assert cancelled.state is State.FAILED
        wait_let_go(conch.data_dir, task_id)
        seen = client.status(task_id)
    assert seen.state is State.FAILED and seen.provider_status in ("cancelled", "Fail")
    assert task_store(conch.data_dir).by_id(int(task_id)).status is TaskStatus.CANCELLED


# -- one task, six dialects -----------------------------------------------------------------


def six_views(server: LiveConch, key: str, chanjing: httpx.Client, task_id: str) -> dict[str, Any]:
    with server.client(key) as api:
        return {
            "minimax": api.get("/v1/query/video_generation", params={"task_id": task_id}).json(),
            "quickrouter": api.get(
                "/minimax/v1/query/video_generation", params={"task_id": task_id}
            ).json(),
            "modelverse": httpx.get(
                f"{server.base_url}/v1/tasks/status",
                params={"task_id": task_id},
                headers={"Authorization": key},
            ).json()["output"],
            "chanjing": chanjing.get(
                "/open/v1/ai_creation/task", params={"unique_id": task_id}
            ).json()["data"],
            "openai": api.get(f"/v1/videos/{task_id}").json(),
            "v2": api.get(f"/v2/query/video_generation/{task_id}").json()["task"],
        }


def test_a_finished_and_a_cancelled_task_read_through_all_six_dialects(
    conch: LiveConch, files: FileServer, tmp_path: Path
) -> None:
    credentials = create_chanjing_key(conch, "six dialects")
    with (
        sdk(conch, credentials.key, Dialect.OPENAI_VIDEOS) as client,
        chanjing_client(conch, credentials) as chanjing,
    ):
        video = client.generate(
            model="MiniMax-Hailuo-02",
            first_frame=first_frame(files),
            resolution="512P",
            output=tmp_path / "openai.mp4",
        )
        assert (probe(video.path).width, probe(video.path).height) == (910, 512)
        seen = six_views(conch, credentials.key, chanjing, video.task_id)
        assert seen["minimax"]["status"] == seen["quickrouter"]["status"] == "Success"
        assert seen["modelverse"]["task_status"] == seen["chanjing"]["progress_desc"] == "Success"
        assert (seen["openai"]["status"], seen["openai"]["size"]) == ("completed", "910x512")
        assert seen["v2"]["status"] == "succeeded" and seen["v2"]["content"]["url"]
        file_id = seen["minimax"]["file_id"]
        for url in (
            seen["modelverse"]["urls"][0],
            seen["chanjing"]["output_url"][0],
            seen["v2"]["content"]["url"],
        ):
            assert f"/downloads/{file_id}/" in url
        page = client.list(limit=5)
        assert page.tasks[0].task_id == video.task_id

        queued = client.submit(first_frame=first_frame(files), **LONG)
        client.cancel(queued)  # deleted on /v1/videos: read it through the v2 dialect's cancel
        with sdk(conch, credentials.key, Dialect.MINIMAX_V2) as v2:
            cancelled_id = v2.submit(first_frame=first_frame(files), **LONG)
            v2.cancel(cancelled_id)
        seen = six_views(conch, credentials.key, chanjing, cancelled_id)
    assert seen["minimax"]["status"] == seen["quickrouter"]["status"] == "Fail"
    assert seen["minimax"]["base_resp"] == {"status_code": 0, "status_msg": "cancelled"}
    assert (seen["modelverse"]["task_status"], seen["modelverse"]["error_message"]) == (
        "Failure",
        "cancelled",
    )
    assert (seen["chanjing"]["progress_desc"], seen["chanjing"]["err_msg"]) == (
        "Error",
        "cancelled",
    )
    assert (seen["openai"]["status"], seen["openai"]["error"]["code"]) == ("failed", "cancelled")
    assert (seen["v2"]["status"], seen["v2"]["content"]) == ("cancelled", None)


def test_the_sdk_speaks_v2_end_to_end(
    conch: LiveConch, key: str, files: FileServer, tmp_path: Path
) -> None:
    with sdk(conch, key, Dialect.MINIMAX_V2) as client:
        video = client.generate(
            model="MiniMax-H3",
            first_frame=first_frame(files),
            duration=5,
            output=tmp_path / "v2.mp4",
        )
        assert (probe(video.path).width, probe(video.path).frames) == (1366, 120)
        first = client.list(limit=1)
        assert first.tasks[0].task_id == video.task_id and first.next_after == "1"
        second = client.list(limit=1, after=first.next_after)
        assert second.tasks and second.tasks[0].task_id != video.task_id
        with pytest.raises(InvalidParams, match="has already ended: it succeeded"):
            client.cancel(video.task_id)
