"""MiniMax's file calls beyond retrieve: list and delete, under both prefixes. A deleted
file's links stop working at once; its task still says it succeeded."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from support.files_http import FileServer
from support.live import LiveConch, wait_for_task

PURPOSE = "video_generation"


@pytest.fixture(scope="module")
def owner(conch: LiveConch) -> Any:
    with conch.client(conch.create_key("files")) as client:
        yield client


def finished(client: httpx.Client, files: FileServer) -> dict[str, Any]:
    body = {
        "model": "MiniMax-Hailuo-02",
        "first_frame_image": files.base_url + "/clip/first.jpg",
        "resolution": "512P",
    }
    created = client.post("/v1/video_generation", json=body).json()
    assert created["base_resp"]["status_code"] == 0, created
    done = wait_for_task(client, created["task_id"])
    assert done["status"] == "Success", done
    return done


def listed(client: httpx.Client, prefix: str = "") -> list[dict[str, Any]]:
    answer = client.get(f"{prefix}/v1/files/list", params={"purpose": PURPOSE}).json()
    assert answer["base_resp"] == {"status_code": 0, "status_msg": "success"}, answer
    return list(answer["files"])


def test_files_are_listed_and_deleted_by_their_owner(
    owner: httpx.Client, conch: LiveConch, files: FileServer
) -> None:
    first, second = finished(owner, files), finished(owner, files)
    shown = listed(owner)
    assert [item["file_id"] for item in shown] == [int(second["file_id"]), int(first["file_id"])]
    assert {item["purpose"] for item in shown} == {PURPOSE}
    assert listed(owner, "/minimax") == [
        {**item, "download_url": listed_item["download_url"]}
        for item, listed_item in zip(shown, listed(owner, "/minimax"), strict=True)
    ]
    link = shown[1]["download_url"]
    assert httpx.get(link).status_code == 200
    with conch.client(conch.create_key("stranger")) as stranger:
        assert listed(stranger) == []
        refused = stranger.post(
            "/v1/files/delete", json={"file_id": shown[1]["file_id"], "purpose": PURPOSE}
        ).json()
        assert refused["base_resp"]["status_code"] == 2013
    deleted = owner.post(
        "/minimax/v1/files/delete", json={"file_id": str(shown[1]["file_id"]), "purpose": PURPOSE}
    ).json()
    assert deleted == {
        "file_id": shown[1]["file_id"],
        "base_resp": {"status_code": 0, "status_msg": "success"},
    }
    assert httpx.get(link).status_code == 404  # its links stop working at once
    assert [item["file_id"] for item in listed(owner)] == [shown[0]["file_id"]]
    gone = owner.get("/v1/files/retrieve", params={"file_id": first["file_id"]}).json()
    assert gone["base_resp"]["status_code"] == 2013 and "no file" in gone["base_resp"]["status_msg"]
    query = owner.get("/v1/query/video_generation", params={"task_id": first["task_id"]}).json()
    assert query["status"] == "Success"  # the task still says what happened


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "purpose: is required"),
        (
            {"purpose": "voice_clone"},
            "purpose: 'voice_clone' is one of MiniMax's purposes, but conch keeps only",
        ),
        ({"purpose": "videos"}, "purpose: 'videos' is not a purpose"),
    ],
)
def test_a_purpose_other_than_video_generation_is_refused(
    owner: httpx.Client, params: dict[str, str], message: str
) -> None:
    answer = owner.get("/v1/files/list", params=params).json()
    assert answer["base_resp"]["status_code"] == 2013
    assert answer["base_resp"]["status_msg"].startswith(message), answer
    deleted = owner.post("/v1/files/delete", json={"file_id": 1, **params}).json()
    assert deleted["base_resp"]["status_code"] == 2013
