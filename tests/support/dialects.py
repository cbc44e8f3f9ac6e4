"""Talking to a live conch in the Modelverse and Chanjing dialects."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

from support.live import LiveConch, conch_command

MODELVERSE_DONE = {"Success", "Failure"}
CHANJING_DONE = {"Success", "Error"}


@dataclass(frozen=True)
class ChanjingCredentials:
    """What `conch keys create --chanjing` prints: an app pair and the key it is bound to."""

    app_id: str
    secret_key: str
    key: str


def create_chanjing_key(conch: LiveConch, name: str) -> ChanjingCredentials:
    """A new key with a Chanjing app, from the CLI's output (pair line, then the key alone)."""
    result = conch_command(
        "keys", "create", "--name", name, "--chanjing", "--data-dir", str(conch.data_dir),
        env=conch.env,
    )  # fmt: skip
    pair, key = result.stdout.strip().splitlines()[-2:]
    fields = dict(part.split("=", 1) for part in pair.split())
    return ChanjingCredentials(fields["app_id"], fields["secret_key"], key)


def chanjing_token(conch: LiveConch, credentials: ChanjingCredentials) -> dict[str, Any]:
    """The whole answer of POST /open/v1/access_token."""
    body = {"app_id": credentials.app_id, "secret_key": credentials.secret_key}
    answer = httpx.post(f"{conch.base_url}/open/v1/access_token", json=body, timeout=30)
    assert answer.status_code == 200
    return dict(answer.json())


def chanjing_client(conch: LiveConch, credentials: ChanjingCredentials) -> httpx.Client:
    """A client sending a fresh access_token."""
    answer = chanjing_token(conch, credentials)
    assert answer["code"] == 0, answer
    headers = {"access_token": answer["data"]["access_token"]}
    return httpx.Client(base_url=conch.base_url, headers=headers, timeout=30.0)


def modelverse_client(conch: LiveConch, key: str) -> httpx.Client:
    """A client sending the key as Modelverse's examples do: no Bearer."""
    return httpx.Client(base_url=conch.base_url, headers={"Authorization": key}, timeout=30.0)


def wait_modelverse(client: httpx.Client, task_id: str, timeout: float = 120.0) -> dict[str, Any]:
    """Poll /v1/tasks/status until the task ends; its last answer."""
    deadline = time.monotonic() + timeout
    while True:
        answer = client.get("/v1/tasks/status", params={"task_id": task_id})
        assert answer.status_code == 200, answer.text
        body = dict(answer.json())
        if body["output"]["task_status"] in MODELVERSE_DONE or time.monotonic() > deadline:
            return body
        time.sleep(0.3)


def wait_chanjing(client: httpx.Client, unique_id: str, timeout: float = 120.0) -> dict[str, Any]:
    """Poll /open/v1/ai_creation/task until the task ends; its last ``data``."""
    deadline = time.monotonic() + timeout
    while True:
        answer = client.get("/open/v1/ai_creation/task", params={"unique_id": unique_id}).json()
        assert answer["code"] == 0, answer
        task = dict(answer["data"])
        if task["progress_desc"] in CHANJING_DONE or time.monotonic() > deadline:
            return task
        time.sleep(0.3)
