"""A conch gateway in front of upstreams: the settings that route models to the relay."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from conch.media.video import ProbedVideo, probe
from support.live import SERVER_ENV, LiveConch, wait_for_task

KEY_ENV = "RELAY_TEST_UPSTREAM_KEY"
APP_ENV = "RELAY_TEST_UPSTREAM_APP"
SECRET_ENV = "RELAY_TEST_UPSTREAM_SECRET"


def gateway_env(
    upstreams: Mapping[str, Mapping[str, Any]],
    models: Mapping[str, Mapping[str, Any]],
    secrets: Mapping[str, str],
    **extra: str,
) -> dict[str, str]:
    """A gateway's environment: the upstreams, the relayed models, their secrets."""
    return {
        **SERVER_ENV,
        "CONCH_UPSTREAMS": json.dumps(upstreams),
        "CONCH_MODELS": json.dumps({m: {"engine": "relay", **r} for m, r in models.items()}),
        **secrets,
        **extra,
    }


def fetched_video(
    gateway: LiveConch, client: httpx.Client, done: dict[str, Any], to: Path
) -> ProbedVideo:
    """The video of a finished MiniMax-dialect task, downloaded from the gateway's own link
    (which must point at the gateway), and decoded."""
    retrieved = client.get("/v1/files/retrieve", params={"file_id": done["file_id"]}).json()
    link = retrieved["file"]["download_url"]
    assert link.startswith(gateway.base_url), link
    answer = httpx.get(link, timeout=30)
    assert answer.status_code == 200
    to.write_bytes(answer.content)
    return probe(to)


def submit(client: httpx.Client, body: dict[str, Any]) -> str:
    """A MiniMax-dialect create, accepted; its task id."""
    created = client.post("/v1/video_generation", json=body).json()
    assert created["base_resp"]["status_code"] == 0, created
    return str(created["task_id"])


def submit_and_wait(
    client: httpx.Client, body: dict[str, Any], timeout: float = 120
) -> dict[str, Any]:
    """A MiniMax-dialect create, and its last answer once it ended."""
    return wait_for_task(client, submit(client, body), timeout=timeout)
