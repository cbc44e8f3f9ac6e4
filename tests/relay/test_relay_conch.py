"""A conch relaying to another conch, in each of the upstream's dialects: the task goes
through the gateway, the upstream renders it (the motion engine), and the gateway re-hosts
the video under its own links; what the caller downloads is decoded and checked against
what the upstream made. The time each relayed task took is in the gateway's relay-seconds
histogram.

A relayed task cancelled on the gateway is cancelled on its upstream, through each kind of
cancel call a conch upstream answers (conch's own, MiniMax v2's DELETE, /v1/videos' DELETE):
a second upstream with no runners holds those tasks queued until the cancel comes.

Three servers for the module (the upstreams and the gateway, started side by side)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from conch.domain.task import TaskStatus
from conch.engines.relay.calls import CallState, RelayCall
from conch.store.tables import tasks
from relay.gateway import (
    APP_ENV,
    KEY_ENV,
    METRICS_TOKEN,
    SECRET_ENV,
    fetched_video,
    gateway_env,
    new_chanjing_key,
    new_key,
    relay_calls,
    scrape,
    start_together,
    stop_together,
    submit,
)
from support.live import SERVER_ENV, LiveConch, owner_id, task_store, wait_for_task
from support.photos import data_url, encode, photo

# Each dialect on its own gateway model (a route names one list of upstreams), sending
# upstream I2V-01 (the 01 series' fixed 6 s at 720P), or for Chanjing, which has no 720P,
# MiniMax-Hailuo-2.3-Fast at 768P.
DIALECTS = {
    "minimax": ("I2V-01", "I2V-01"),
    "quickrouter": ("I2V-01-live", "I2V-01"),
    "modelverse": ("I2V-01-Director", "I2V-01"),
    "chanjing": ("MiniMax-Hailuo-2.3-Fast", "MiniMax-Hailuo-2.3-Fast"),
    "openai-videos": ("video-01", "I2V-01"),
    "minimax-v2": ("video-01-live2d", "I2V-01"),
}
# The gateway models relayed to the idle upstream, each through one kind of cancel call:
# the upstream (kind, dialect) it goes to, and what the idle upstream is asked for.
CANCELLING = {
    "conch's own cancel": ("MiniMax-Hailuo-02", "conch", "minimax"),
    "v2's DELETE": ("MiniMax-Hailuo-2.3", "conch", "minimax-v2"),
    "/v1/videos' DELETE": ("MiniMax-H3", "openai-videos", None),
}
POLLING = {"poll_first": 0.2, "poll_ceiling": 0.5}


@dataclass
class Servers:
    upstream: LiveConch
    idle: LiveConch
    """An upstream with no runners: what it is given stays queued."""
    idle_owner: int
    """The gateway's key on the idle upstream."""
    gateway: LiveConch
    client: httpx.Client
    """The gateway's client, with a key of its own."""


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    upstream = LiveConch(tmp_path_factory.mktemp("upstream"), {**SERVER_ENV, "CONCH_WORKERS": "2"})
    idle = LiveConch(tmp_path_factory.mktemp("idle"), {**SERVER_ENV, "CONCH_WORKERS": "0"})
    key, chanjing = new_key(upstream, "gateway"), new_chanjing_key(upstream, "gateway-cj")
    idle_key_env = "RELAY_TEST_IDLE_KEY"
    upstreams: dict[str, dict[str, Any]] = {}
    for dialect in DIALECTS:
        terms = {"kind": "conch", "dialect": dialect, "base_url": upstream.base_url, **POLLING}
        if dialect == "chanjing":
            terms |= {"app_id_env": APP_ENV, "secret_key_env": SECRET_ENV}
        else:
            terms["api_key_env"] = KEY_ENV
        upstreams[dialect] = terms
    models = {
        model: {"upstreams": [dialect], "upstream_model": sent}
        for dialect, (model, sent) in DIALECTS.items()
    }
    for name, (model, kind, dialect) in CANCELLING.items():
        terms = {"kind": kind, "base_url": idle.base_url, "api_key_env": idle_key_env, **POLLING}
        upstreams[name] = terms | ({"dialect": dialect} if dialect else {})
        models[model] = {"upstreams": [name]}
    idle_key = new_key(idle, "gateway")
    secrets = {
        KEY_ENV: key,
        APP_ENV: chanjing.app_id,
        SECRET_ENV: chanjing.secret_key,
        idle_key_env: idle_key,
    }
    env = gateway_env(upstreams, models, secrets, CONCH_METRICS_TOKEN=METRICS_TOKEN)
    gateway = LiveConch(tmp_path_factory.mktemp("gateway"), env)
    own_key = new_key(gateway, "caller")
    try:
        start_together(upstream, idle, gateway)
        with gateway.client(own_key) as client:
            yield Servers(upstream, idle, owner_id(idle.data_dir, idle_key), gateway, client)
    finally:
        stop_together(gateway, upstream, idle)


@pytest.fixture(scope="module")
def relayed(servers: Servers) -> dict[str, dict[str, Any]]:
    """One task per dialect, submitted at once (the gateway follows them side by side);
    each one's last answer once all have ended."""
    picture = data_url(encode(photo("astronaut")))
    created = {
        dialect: submit(servers.client, {"model": model, "first_frame_image": picture})
        for dialect, (model, _) in DIALECTS.items()
    }
    return {dialect: wait_for_task(servers.client, task_id) for dialect, task_id in created.items()}


@pytest.mark.parametrize("dialect", list(DIALECTS))
def test_a_task_relayed_in_each_dialect_is_rehosted_and_decodes(
    dialect: str, servers: Servers, relayed: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    done = relayed[dialect]
    assert done["status"] == "Success", done

    video = fetched_video(servers.gateway, servers.client, done, tmp_path / "relayed.mp4")
    assert (video.codec, video.frames) == ("h264", 6 * 24)
    assert (video.width, video.height) == (done["video_width"], done["video_height"])

    # The upstream made exactly one task for it, and the gateway's record names it.
    (call,) = relay_calls(servers.gateway, done["task_id"])
    assert (call.upstream, call.state) == (dialect, "succeeded")
    made = task_store(servers.upstream.data_dir).latest(None, limit=1000)
    assert [task.status for task in made] == ["success"] * len(DIALECTS)


@pytest.mark.usefixtures("relayed")
def test_each_relayed_task_is_observed_in_the_relay_seconds_histogram(servers: Servers) -> None:
    samples = scrape(servers.gateway)
    for model, _ in DIALECTS.values():
        labels = frozenset({"model": model, "outcome": "success"}.items())
        assert samples[("conch_relay_seconds_count", labels)] == 1, model
        assert samples[("conch_relay_seconds_sum", labels)] > 0
        every = frozenset({**dict(labels), "le": "+Inf"}.items())
        assert samples[("conch_relay_seconds_bucket", every)] == 1
    # Relayed tasks are not renders: the gateway rendered nothing itself.
    assert not [name for name, _ in samples if name.startswith("conch_render_seconds_count")]


@pytest.mark.parametrize("cancel", list(CANCELLING))
def test_a_task_cancelled_on_the_gateway_is_cancelled_upstream(
    cancel: str, servers: Servers
) -> None:
    model, _, _ = CANCELLING[cancel]
    picture = data_url(encode(photo("rocket")))
    task_id = submit(servers.client, {"model": model, "first_frame_image": picture})
    (call,) = _eventually(
        lambda: [c for c in relay_calls(servers.gateway, task_id) if c.upstream_task_id]
    )
    assert call.upstream_task_id is not None
    idle = task_store(servers.idle.data_dir)
    made = idle.find(servers.idle_owner, call.upstream_task_id)
    assert made.status is TaskStatus.QUEUED  # no runner there: only a cancel ends it

    answer = servers.client.post(f"/v1/tasks/{task_id}/cancel")
    assert answer.status_code == 200, answer.text
    assert wait_for_task(servers.client, task_id)["status"] == "Fail"  # v1's cancelled

    (ended,) = _eventually(
        lambda: [c for c in relay_calls(servers.gateway, task_id) if not c.state.is_open]
    )
    assert (ended.id, ended.state) == (call.id, CallState.CANCELLED), ended
    assert call.upstream_task_id in (ended.outcome or "")
    assert idle.by_id(made.id).status is TaskStatus.CANCELLED
    # One create upstream for it, and no other (/v1/videos' DELETE deleted it too).
    with idle.engine.begin() as conn:
        made_there = conn.execute(select(tasks.c.id).where(tasks.c.model == model)).scalars()
        assert list(made_there) == [made.id]


def _eventually(find: Callable[[], list[RelayCall]], timeout: float = 60) -> list[RelayCall]:
    """``find()``'s first non-empty answer, looked for until ``timeout``."""
    deadline = time.monotonic() + timeout
    while not (found := find()):
        assert time.monotonic() < deadline, "not found in time"
        time.sleep(0.1)
    return found


def test_a_task_cancelled_while_its_gateway_is_down_is_cancelled_upstream_by_the_sweep(
    servers: Servers,
) -> None:
    """No runner follows the task when it is cancelled (the gateway was killed): the sweep
    sends the cancel on its first look at the call. (Last in the module: it restarts the
    module's gateway.)"""
    model = CANCELLING["conch's own cancel"][0]
    gateway, picture = servers.gateway, data_url(encode(photo("rocket")))
    task_id = submit(servers.client, {"model": model, "first_frame_image": picture})
    (call,) = _eventually(lambda: [c for c in relay_calls(gateway, task_id) if c.upstream_task_id])
    gateway.kill9()
    # As `conch tasks cancel ID --data-dir ...` does it, on the stopped gateway's data.
    key = servers.client.headers["Authorization"].split()[1]
    task_store(gateway.data_dir).cancel(owner_id(gateway.data_dir, key), task_id)
    gateway.start()

    (ended,) = _eventually(
        lambda: [c for c in relay_calls(gateway, task_id) if not c.state.is_open]
    )
    assert (ended.id, ended.state) == (call.id, CallState.CANCELLED), ended
    assert call.upstream_task_id is not None
    made = task_store(servers.idle.data_dir).find(servers.idle_owner, call.upstream_task_id)
    assert made.status is TaskStatus.CANCELLED
