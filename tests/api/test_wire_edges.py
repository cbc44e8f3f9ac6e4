"""Wire edges every dialect meets: nulls, booleans as numbers, odd ids, unreadable bodies,
and the MiniMax query before a task succeeds. A server without runners: nothing renders."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from support.dialects import chanjing_client, create_chanjing_key
from support.files_http import FileServer
from support.live import SERVER_ENV, LiveConch


@pytest.fixture(scope="module")
def idle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveConch, str]]:
    server = LiveConch(tmp_path_factory.mktemp("idle"), {**SERVER_ENV, "CONCH_WORKERS": "0"})
    key = server.create_key()
    with server:
        yield server, key


def image_body(files: FileServer, **changes: object) -> dict[str, object]:
    return {"model": "I2V-01", "first_frame_image": files.base_url + "/photo/rocket.jpg", **changes}


def test_null_options_take_their_defaults(idle: tuple[LiveConch, str], files: FileServer) -> None:
    server, key = idle
    nulls = {"prompt_optimizer": None, "aigc_watermark": None, "fast_pretreatment": None}
    with server.client(key) as client:
        minimax = client.post("/v1/video_generation", json=image_body(files, **nulls)).json()
        assert minimax["base_resp"]["status_code"] == 0, minimax
        body = {
            "model": "MiniMax-Hailuo-2.3",
            "input": {
                "prompt": "a rocket",
                "first_frame_image": image_body(files)["first_frame_image"],
            },
            "parameters": {"duration": None, **nulls},
        }
        modelverse = client.post("/v1/tasks/submit", json=body)
        assert modelverse.status_code == 200, modelverse.text


def test_a_boolean_is_not_a_duration(idle: tuple[LiveConch, str], files: FileServer) -> None:
    server, key = idle
    with server.client(key) as client:
        answer = client.post("/v1/video_generation", json=image_body(files, duration=True)).json()
    resp = answer["base_resp"]
    assert resp["status_code"] == 2013
    assert (
        "duration:" in resp["status_msg"]
        and "whole number of seconds, not true" in resp["status_msg"]
    )


def test_the_query_before_success_has_no_size_fields(
    idle: tuple[LiveConch, str], files: FileServer
) -> None:
    server, key = idle
    with server.client(key) as client:
        task_id = client.post("/v1/video_generation", json=image_body(files)).json()["task_id"]
        queued = client.get("/v1/query/video_generation", params={"task_id": task_id}).json()
    assert set(queued) == {"task_id", "status", "file_id", "base_resp"}, queued
    assert (queued["status"], queued["file_id"]) == ("Queueing", "")


@pytest.mark.parametrize("odd", ["²", "9" * 30, "12a", "-1"])
def test_odd_ids_are_not_found_not_internal_errors(idle: tuple[LiveConch, str], odd: str) -> None:
    server, key = idle
    with server.client(key) as client:
        query = client.get("/v1/query/video_generation", params={"task_id": odd}).json()
        retrieve = client.get("/v1/files/retrieve", params={"file_id": odd}).json()
        status = client.get("/v1/tasks/status", params={"task_id": odd})
    assert query["base_resp"]["status_code"] == 2013, query
    assert retrieve["base_resp"]["status_code"] == 2013, retrieve
    assert status.status_code == 404, status.text


def test_json_nested_too_deep_is_a_malformed_body_in_each_dialect(
    idle: tuple[LiveConch, str],
) -> None:
    server, key = idle
    deep = ("[" * 100_000 + "]" * 100_000).encode()
    headers = {"Content-Type": "application/json"}
    with server.client(key) as client:
        minimax = client.post("/v1/video_generation", content=deep, headers=headers)
        modelverse = client.post("/v1/tasks/submit", content=deep, headers=headers)
    assert minimax.json()["base_resp"]["status_code"] == 2013, minimax.text
    assert modelverse.status_code == 400, modelverse.text
    assert modelverse.json()["error"]["type"] == "invalid_request_error"


def test_a_bad_image_in_a_list_is_named_by_its_index(idle: tuple[LiveConch, str]) -> None:
    server, _ = idle
    body = {
        "ref_img_url": ["https://example.com/a.jpg", 7],
        "ref_prompt": "a cat",
        "creation_type": 4,
        "clarity": 720,
        "video_duration": 6,
        "model_code": "MiniMax-Hailuo-02",
    }
    with chanjing_client(server, create_chanjing_key(server, "lists")) as client:
        answer = client.post("/open/v1/ai_creation/task/submit", json=body).json()
    assert answer["code"] == 40000, answer
    assert answer["msg"].startswith("ref_img_url[1]:"), answer["msg"]
