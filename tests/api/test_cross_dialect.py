"""One task, every dialect: a task submitted through MiniMax, Modelverse or Chanjing is seen
through all three with the same credentials, each in its own vocabulary; another key sees
none of them. Live renders run on the shared server; the in-flight statuses are walked on a
server that runs no tasks, its task table driven by hand."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from conch.domain.errors import ErrorCode, InvalidParams
from conch.media.video import probe
from conch.wire import chanjing, modelverse
from conch.wire.spelling import wire_field, wire_message
from support.dialects import (
    ChanjingCredentials,
    chanjing_client,
    create_chanjing_key,
    modelverse_client,
    wait_chanjing,
    wait_modelverse,
)
from support.files_http import FileServer
from support.live import SERVER_ENV, LiveConch, task_store, wait_for_task

ONE = "/open/v1/ai_creation/task"
PAGE = "/open/v1/ai_creation/task/page"


@dataclass
class Dialects:
    """One key's clients, one per dialect."""

    minimax: httpx.Client
    modelverse: httpx.Client
    chanjing: httpx.Client

    def submit_each(self, files: FileServer) -> dict[str, str]:
        """One image-to-video task through each dialect; the reference each one returned."""
        first = files.base_url + "/clip/first.jpg"
        minimax = self.minimax.post(
            "/v1/video_generation",
            json={"model": "MiniMax-Hailuo-02", "first_frame_image": first, "resolution": "512P"},
        ).json()
        modelverse = self.modelverse.post(
            "/v1/tasks/submit",
            json={
                "model": "MiniMax-Hailuo-02",
                "input": {"first_frame_image": first, "prompt": "a meadow [Truck left]"},
                "parameters": {"resolution": "512P", "duration": 6},
            },
        ).json()
        chanjing = self.chanjing.post(
            "/open/v1/ai_creation/task/submit",
            json={
                "start_frame": first,
                "ref_prompt": "a meadow [推进]",
                "creation_type": 4,
                "clarity": 720,
                "video_duration": 6,
                "model_code": "MiniMax-Hailuo-02",
                # accepted and ignored, as Chanjing does for Hailuo models
                "aspect_ratio": "16:9",
                "quality_mode": "pro",
                "style": "anime",
            },
        ).json()
        assert chanjing["code"] == 0, chanjing
        return {
            "minimax": minimax["task_id"],
            "modelverse": modelverse["output"]["task_id"],
            "chanjing": chanjing["data"],
        }

    def views(self, reference: str) -> dict[str, dict[str, Any]]:
        """The task as each dialect answers a query for ``reference``."""
        minimax = self.minimax.get("/v1/query/video_generation", params={"task_id": reference})
        modelverse = self.modelverse.get("/v1/tasks/status", params={"task_id": reference})
        chanjing = self.chanjing.get(ONE, params={"unique_id": reference}).json()
        assert modelverse.status_code == 200 and chanjing["code"] == 0, (modelverse, chanjing)
        return {
            "minimax": minimax.json(),
            "modelverse": modelverse.json(),
            "chanjing": chanjing["data"],
        }

    def statuses(self, reference: str) -> tuple[str, str, str]:
        seen = self.views(reference)
        return (
            seen["minimax"]["status"],
            seen["modelverse"]["output"]["task_status"],
            seen["chanjing"]["progress_desc"],
        )


def dialects_of(conch: LiveConch, credentials: ChanjingCredentials) -> Dialects:
    return Dialects(
        minimax=conch.client(credentials.key),
        modelverse=modelverse_client(conch, credentials.key),
        chanjing=chanjing_client(conch, credentials),
    )


def close(dialects: Dialects) -> None:
    for client in (dialects.minimax, dialects.modelverse, dialects.chanjing):
        client.close()


# -- finished tasks on the shared server ----------------------------------------------------


@pytest.fixture(scope="module")
def owner(conch: LiveConch) -> Iterator[Dialects]:
    dialects = dialects_of(conch, create_chanjing_key(conch, "cross dialect"))
    yield dialects
    close(dialects)


@pytest.fixture(scope="module")
def stranger(conch: LiveConch) -> Iterator[Dialects]:
    dialects = dialects_of(conch, create_chanjing_key(conch, "stranger"))
    yield dialects
    close(dialects)


@pytest.fixture(scope="module")
def finished(owner: Dialects, files: FileServer) -> dict[str, str]:
    """One finished task per dialect: the reference each dialect returned."""
    references = owner.submit_each(files)
    wait_for_task(owner.minimax, references["minimax"])
    wait_modelverse(owner.modelverse, references["modelverse"])
    wait_chanjing(owner.chanjing, references["chanjing"])
    return references


# The size each submission asked for: 512P (MiniMax, Modelverse), clarity 720 = 768P (Chanjing).
SIZES = {"minimax": (910, 512), "modelverse": (910, 512), "chanjing": (1366, 768)}


@pytest.mark.parametrize("submitted_through", list(SIZES))
def test_a_task_is_seen_through_every_dialect(
    submitted_through: str, finished: dict[str, str], owner: Dialects, tmp_path: Path
) -> None:
    seen = owner.views(finished[submitted_through])
    minimax, modelverse, chanjing = seen["minimax"], seen["modelverse"], seen["chanjing"]
    assert minimax["status"] == "Success", minimax
    assert modelverse["output"]["task_status"] == "Success", modelverse
    assert chanjing["progress_desc"] == "Success", chanjing
    # the same task and the same video, named each dialect's way
    assert modelverse["output"]["task_id"] == minimax["task_id"] == str(chanjing["id"])
    download = f"/downloads/{minimax['file_id']}/"
    assert download in modelverse["output"]["urls"][0] and download in chanjing["output_url"][0]
    assert modelverse["usage"]["duration"] == chanjing["motion_info"]["video_duration"] == 6
    width, height = SIZES[submitted_through]
    assert (minimax["video_width"], minimax["video_height"]) == (width, height)
    path = tmp_path / "video.mp4"
    path.write_bytes(httpx.get(chanjing["output_url"][0], timeout=30).content)
    video = probe(path)
    assert (video.width, video.height, video.frames) == (width, height, 144)


def test_every_reference_form_works_everywhere(finished: dict[str, str], owner: Dialects) -> None:
    uuid = finished["chanjing"]
    task_id = owner.views(uuid)["minimax"]["task_id"]
    assert owner.statuses(task_id) == owner.statuses(uuid) == ("Success", "Success", "Success")


def test_the_chanjing_page_lists_tasks_from_every_dialect(
    finished: dict[str, str], owner: Dialects
) -> None:
    answer = owner.chanjing.post(PAGE, json={"unique_ids": list(finished.values())}).json()
    assert answer["code"] == 0, answer
    listed = answer["data"]["list"]
    assert answer["data"]["total"] == len(listed) == 3
    assert {str(task["id"]) for task in listed} >= {finished["minimax"], finished["modelverse"]}
    assert finished["chanjing"] in {task["unique_id"] for task in listed}
    everything = owner.chanjing.post(PAGE, json={"page_size": 50}).json()["data"]
    assert everything["total"] == 3  # the key's own tasks, whichever dialect made them


def test_a_key_never_sees_another_keys_tasks(finished: dict[str, str], stranger: Dialects) -> None:
    for reference in finished.values():
        minimax = stranger.minimax.get("/v1/query/video_generation", params={"task_id": reference})
        assert minimax.json()["base_resp"]["status_code"] == 2013
        modelverse = stranger.modelverse.get("/v1/tasks/status", params={"task_id": reference})
        assert modelverse.status_code == 404
        chanjing = stranger.chanjing.get(ONE, params={"unique_id": reference}).json()
        assert chanjing["code"] == 40000 and "no task" in chanjing["msg"]
    page = stranger.chanjing.post(PAGE, json={"unique_ids": list(finished.values())}).json()
    assert (page["code"], page["data"]["total"], page["data"]["list"]) == (0, 0, [])
    assert stranger.chanjing.post(PAGE, json={}).json()["data"]["total"] == 0


# -- every status, on a server that runs nothing --------------------------------------------


@pytest.fixture(scope="module")
def idle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveConch]:
    """A server with no runners: its tasks move only when the test moves them."""
    env = {**SERVER_ENV, "CONCH_WORKERS": "0"}
    with LiveConch(tmp_path_factory.mktemp("idle"), env) as server:
        yield server


@pytest.fixture(scope="module")
def idle_owner(idle: LiveConch) -> Iterator[Dialects]:
    dialects = dialects_of(idle, create_chanjing_key(idle, "idle"))
    yield dialects
    close(dialects)


def test_every_status_in_every_dialect(
    idle: LiveConch, idle_owner: Dialects, files: FileServer
) -> None:
    references = list(idle_owner.submit_each(files).values())
    store = task_store(idle.data_dir)

    def all_say(expected: tuple[str, str, str]) -> None:
        for reference in references:
            assert idle_owner.statuses(reference) == expected

    all_say(("Queueing", "Pending", "Queued"))
    for seen in map(idle_owner.views, references):
        assert seen["modelverse"]["output"]["urls"] == []
        assert seen["modelverse"]["output"]["finish_time"] == 0
        assert (seen["chanjing"]["output_url"], seen["chanjing"]["err_msg"]) == ([], "")
    claims = [store.claim("test-runner", lease_seconds=600) for _ in references]
    assert all(claims)
    all_say(("Preparing", "Running", "Ready"))
    for claim in claims:
        assert claim is not None and store.start_processing(claim)
    all_say(("Processing", "Running", "Generating"))
    reason = "internal error while rendering: the test stopped it"
    for claim in claims:
        assert claim is not None and store.fail(claim, ErrorCode.INTERNAL.value, reason)
    all_say(("Fail", "Failure", "Error"))
    for seen in map(idle_owner.views, references):
        output = seen["modelverse"]["output"]
        assert output["error_message"] == reason and output["urls"] == []
        assert output["finish_time"] >= output["submit_time"] > 0
        assert seen["chanjing"]["err_msg"] == reason
        assert seen["minimax"]["base_resp"] == {"status_code": 1000, "status_msg": reason}


# -- naming ---------------------------------------------------------------------------------


def test_errors_name_fields_each_dialects_way() -> None:
    error = InvalidParams(
        "MiniMax-Hailuo-2.3-Fast requires first_frame_image; see "
        "https://example.com/first_frame_image.jpg and first_frame_images",
        field="model",
    )
    assert wire_message(error, modelverse.FIELD_NAMES) == (
        "model: MiniMax-Hailuo-2.3-Fast requires input.first_frame_image; see "
        "https://example.com/first_frame_image.jpg and first_frame_images"
    )
    assert wire_message(error, chanjing.FIELD_NAMES).startswith(
        "model_code: MiniMax-Hailuo-2.3-Fast requires start_frame;"
    )
    duration = InvalidParams("must be 6", field="duration")
    assert wire_field(duration, modelverse.FIELD_NAMES) == "parameters.duration"
    assert wire_message(duration, chanjing.FIELD_NAMES) == "video_duration: must be 6"
    assert wire_message(InvalidParams("no field"), chanjing.FIELD_NAMES) == "no field"


def test_every_dialect_is_in_the_api_docs(conch: LiveConch) -> None:
    paths = httpx.get(f"{conch.base_url}/openapi.json").json()["paths"]
    for path in (
        "/v1/tasks/submit",
        "/v1/tasks/status",
        "/open/v1/access_token",
        "/open/v1/ai_creation/task/submit",
        "/open/v1/ai_creation/task",
        "/open/v1/ai_creation/task/page",
    ):
        assert path in paths
