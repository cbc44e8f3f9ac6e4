"""A conch gateway in front of upstreams: the settings that route models to the relay, and
what the relay tests share (keys written at once, servers started side by side, the
gateway's record of its calls, its /metrics)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from conch.engines.relay.calls import RelayCall
from conch.media.video import ProbedVideo, probe
from conch.store.chanjing import ChanjingStore
from conch.store.db import open_database
from conch.store.keys import KeyStore
from conch.store.relay_calls import RelayCallStore
from support.dialects import ChanjingCredentials
from support.live import SERVER_ENV, LiveConch, wait_for_task

METRICS_TOKEN = "relay-metrics"
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


def new_key(server: LiveConch, name: str) -> str:
    """A key made in the server's database as `conch keys create` makes one, in this
    process (a CLI run costs seconds of start-up): before the server starts, or while it
    runs."""
    return KeyStore(_database(server)).create(name)[1]


def new_chanjing_key(server: LiveConch, name: str) -> ChanjingCredentials:
    """A key with a Chanjing app, as `conch keys create --chanjing` makes it."""
    engine = _database(server)
    record, key = KeyStore(engine).create(name)
    app = ChanjingStore(engine).create_app(record.id)
    return ChanjingCredentials(app.app_id, app.secret_key, key)


def _database(server: LiveConch) -> Engine:
    server.data_dir.mkdir(parents=True, exist_ok=True)
    return open_database(f"sqlite:///{server.data_dir / 'conch.db'}")


def start_together(*servers: LiveConch) -> None:
    """Start the servers side by side (each start is seconds of imports)."""
    with ThreadPoolExecutor(len(servers)) as pool:
        for started in [pool.submit(server.start) for server in servers]:
            started.result()


def stop_together(*servers: LiveConch) -> None:
    """Stop the servers side by side."""
    with ThreadPoolExecutor(len(servers)) as pool:
        for stopped in [pool.submit(server.stop) for server in servers]:
            stopped.result()


def relay_calls(gateway: LiveConch, task_id: str) -> list[RelayCall]:
    """The gateway's record of a task's upstream calls, read from its database."""
    database = open_database(f"sqlite:///{gateway.data_dir / 'conch.db'}", upgrade=False)
    return RelayCallStore(database).calls(int(task_id))


def scrape(server: LiveConch) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample the server's /metrics shows (``METRICS_TOKEN``), by name and labels."""
    answer = httpx.get(
        f"{server.base_url}/metrics",
        headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }
