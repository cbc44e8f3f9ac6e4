"""conch's own task list: every task of the key, newest first, paged, whatever dialect made
them; another key sees none; bad paging is a 400 in conch's own error body."""

from __future__ import annotations

import httpx
import pytest

from support.dialects import create_chanjing_key, modelverse_client
from support.files_http import FileServer
from support.live import SERVER_ENV, LiveConch


@pytest.fixture(scope="module")
def made(conch: LiveConch, files: FileServer) -> tuple[str, list[str]]:
    """A fresh key and the tasks it submitted, oldest first, in two dialects."""
    key = conch.create_key("listing")
    first = files.base_url + "/clip/first.jpg"
    ids = []
    with conch.client(key) as minimax:
        for prompt in ("one", "two"):
            body = {"model": "I2V-01", "first_frame_image": first, "prompt": prompt}
            ids.append(minimax.post("/v1/video_generation", json=body).json()["task_id"])
    with modelverse_client(conch, key) as modelverse:
        body = {
            "model": "MiniMax-Hailuo-02",
            "input": {"first_frame_image": first, "prompt": "three"},
            "parameters": {"resolution": "512P"},
        }
        ids.append(modelverse.post("/v1/tasks/submit", json=body).json()["output"]["task_id"])
    return key, ids


def test_the_list_pages_through_every_task_of_the_key_newest_first(
    conch: LiveConch, made: tuple[str, list[str]]
) -> None:
    key, ids = made
    seen: list[str] = []
    after = None
    with conch.client(key) as client:
        while True:
            params = {"limit": "2", **({"after": after} if after else {})}
            page = client.get("/v1/tasks", params=params).json()
            seen += [task["task_id"] for task in page["tasks"]]
            after = page["next_after"]
            assert page["has_more"] is (after is not None)
            if after is None:
                break
    assert seen == ids[::-1]


def test_a_listed_task_says_what_was_asked_for(
    conch: LiveConch, made: tuple[str, list[str]]
) -> None:
    key, ids = made
    with conch.client(key) as client:
        (task,) = client.get("/v1/tasks", params={"limit": "1"}).json()["tasks"]
    assert task["task_id"] == ids[-1]
    assert task["model"] == "MiniMax-Hailuo-02" and task["mode"] == "image-to-video"
    assert (task["duration"], task["resolution"], task["prompt"]) == (6, "512P", "three")
    assert task["dialect"] == "modelverse" and isinstance(task["created_at"], int)
    assert task["status"] in {"queued", "preparing", "processing", "success", "fail"}


@pytest.mark.usefixtures("made")
def test_another_key_sees_none_of_them(conch: LiveConch) -> None:
    other = create_chanjing_key(conch, "another")
    with conch.client(other.key) as client:
        page = client.get("/v1/tasks").json()
    assert page == {"tasks": [], "has_more": False, "next_after": None}


def test_quickrouter_clients_find_the_list_under_their_prefix(
    conch: LiveConch, made: tuple[str, list[str]]
) -> None:
    key, ids = made
    with conch.client(key, prefix="/minimax") as client:
        tasks = client.get("/v1/tasks").json()["tasks"]
    assert [task["task_id"] for task in tasks] == ids[::-1]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": "0"}, "limit:"),
        ({"limit": "101"}, "limit:"),
        ({"after": "abc"}, "after: must be a task id"),
    ],
)
def test_bad_paging_is_a_400_in_conchs_error_body(
    api: httpx.Client, params: dict[str, str], message: str
) -> None:
    answer = api.get("/v1/tasks", params=params)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "invalid_params" and message in error["message"]


def test_without_a_key_the_list_is_a_401(conch: LiveConch) -> None:
    answer = httpx.get(f"{conch.base_url}/v1/tasks")
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "unauthorized"


def test_queued_tasks_show_their_place_in_line_and_the_watermark_setting(
    tmp_path_factory: pytest.TempPathFactory, files: FileServer
) -> None:
    # No runners: every task waits. The line is everyone's, so another key's task counts.
    idle = LiveConch(tmp_path_factory.mktemp("queue"), {**SERVER_ENV, "CONCH_WORKERS": "0"})
    mine, theirs = idle.create_key("mine"), idle.create_key("theirs")
    first = files.base_url + "/clip/first.jpg"
    with idle, idle.client(mine) as me, idle.client(theirs) as them:
        for client, marked in ((me, True), (them, False), (me, False)):
            body = {"model": "I2V-01", "first_frame_image": first, "aigc_watermark": marked}
            assert (
                client.post("/v1/video_generation", json=body).json()["base_resp"]["status_code"]
                == 0
            )
        tasks = me.get("/v1/tasks").json()["tasks"]
    assert [task["queue_position"] for task in tasks] == [3, 1]
    assert [task["aigc_watermark"] for task in tasks] == [False, True]
