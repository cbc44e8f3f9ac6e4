"""The status polls are called without FastAPI's dependency solving (conch.api.direct):
they answer exactly as FastAPI's own handler does, found or not, with or without their
parameters, and FastAPI's handler still runs while dependencies are overridden."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fastapi.routing
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from conch.api.app import create_app
from conch.api.auth import installation
from conch.cli.banner import EXAMPLES
from conch.config import Settings
from conch.services import Services

TRACES = ("trace_id", "request_id")
"""Body fields that differ on every answer."""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[FastAPI, TestClient, str]]:
    services = Services.open(Settings(data_dir=tmp_path / "data", workers=0))
    _, key = services.keys.create("polls")
    app = create_app(services)
    with TestClient(app, headers={"Authorization": f"Bearer {key}"}) as client:
        photo = base64.b64encode((EXAMPLES / "coffee-first.jpg").read_bytes()).decode()
        body = {
            "model": "MiniMax-Hailuo-02",
            "prompt": "a slow push in",
            "first_frame_image": f"data:image/jpeg;base64,{photo}",
        }
        task_id = client.post("/v1/video_generation", json=body).json()["task_id"]
        yield app, client, task_id
    services.close()


def polls(task_id: str) -> list[str]:
    """Each direct poll: found, not found, and (where it is a query parameter) missing."""
    return [
        f"/v1/query/video_generation?task_id={task_id}",
        f"/minimax/v1/query/video_generation?task_id={task_id}",
        "/v1/query/video_generation?task_id=12345",
        "/v1/query/video_generation?task_id=",
        "/v1/query/video_generation",
        f"/v1/query/video_generation?task_id=1&task_id={task_id}",
        f"/v1/tasks/status?task_id={task_id}",
        "/v1/tasks/status",
        f"/v2/query/video_generation/{task_id}",
        "/v2/query/video_generation/777",
        f"/v1/videos/{task_id}",
        "/v1/videos/777",
    ]


def answered(client: TestClient, path: str) -> tuple[int, str, Any]:
    answer = client.get(path)
    body = answer.json()
    if isinstance(body, dict):
        for name in TRACES:
            body.pop(name, None)
    return answer.status_code, answer.headers["content-type"], body


def test_the_status_polls_skip_dependency_solving(
    served: tuple[FastAPI, TestClient, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, client, task_id = served
    solved: list[object] = []
    solve = fastapi.routing.solve_dependencies

    async def counted(*args: Any, **kwargs: Any) -> Any:
        solved.append(kwargs.get("dependant"))
        return await solve(*args, **kwargs)

    monkeypatch.setattr(fastapi.routing, "solve_dependencies", counted)
    for path in polls(task_id):
        client.get(path)
    assert solved == []
    client.get("/v1/files/list")  # not a poll: FastAPI's handler
    assert len(solved) == 1


def test_a_direct_poll_answers_as_fastapis_handler_does(
    served: tuple[FastAPI, TestClient, str],
) -> None:
    app, client, task_id = served
    direct = [answered(client, path) for path in polls(task_id)]
    assert direct[0][2]["status"] == "Queueing"
    assert direct[4][2]["base_resp"]["status_code"] != 0  # task_id missing: refused
    # Any override sends every route through FastAPI's own handler.
    app.dependency_overrides[installation] = lambda: app.state.services
    solved = [answered(client, path) for path in polls(task_id)]
    assert direct == solved
