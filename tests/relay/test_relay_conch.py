"""A conch relaying to another conch, in each of the upstream's dialects: the task goes
through the gateway, the upstream renders it (the motion engine), and the gateway re-hosts
the video under its own links; what the caller downloads is decoded and checked against
what the upstream made."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conch.store.db import open_database
from conch.store.relay_calls import RelayCallStore
from relay.gateway import APP_ENV, KEY_ENV, SECRET_ENV, fetched_video, gateway_env, submit
from support.dialects import create_chanjing_key
from support.live import SERVER_ENV, LiveConch, task_store, wait_for_task
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


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveConch, str, Any]]:
    env = {**SERVER_ENV, "CONCH_WORKERS": "2"}
    with LiveConch(tmp_path_factory.mktemp("upstream"), env) as server:
        yield server, server.create_key("gateway"), create_chanjing_key(server, "gateway-cj")


@pytest.fixture(scope="module")
def gateway(
    tmp_path_factory: pytest.TempPathFactory, upstream: tuple[LiveConch, str, Any]
) -> Iterator[tuple[LiveConch, httpx.Client]]:
    server, key, chanjing = upstream
    upstreams: dict[str, dict[str, Any]] = {}
    for dialect in DIALECTS:
        upstreams[dialect] = {
            "kind": "conch",
            "dialect": dialect,
            "base_url": server.base_url,
            "poll_first": 0.2,
            "poll_ceiling": 0.5,
        }
        if dialect == "chanjing":
            upstreams[dialect] |= {"app_id_env": APP_ENV, "secret_key_env": SECRET_ENV}
        else:
            upstreams[dialect]["api_key_env"] = KEY_ENV
    models = {
        model: {"upstreams": [dialect], "upstream_model": sent}
        for dialect, (model, sent) in DIALECTS.items()
    }
    secrets = {KEY_ENV: key, APP_ENV: chanjing.app_id, SECRET_ENV: chanjing.secret_key}
    env = gateway_env(upstreams, models, secrets)
    with (
        LiveConch(tmp_path_factory.mktemp("gateway"), env) as gateway,
        gateway.client(gateway.create_key()) as client,
    ):
        yield gateway, client


@pytest.fixture(scope="module")
def relayed(gateway: tuple[LiveConch, httpx.Client]) -> dict[str, dict[str, Any]]:
    """One task per dialect, submitted at once (the gateway follows them side by side);
    each one's last answer once all have ended."""
    _, client = gateway
    picture = data_url(encode(photo("astronaut")))
    created = {
        dialect: submit(client, {"model": model, "first_frame_image": picture})
        for dialect, (model, _) in DIALECTS.items()
    }
    return {dialect: wait_for_task(client, task_id) for dialect, task_id in created.items()}


@pytest.mark.parametrize("dialect", list(DIALECTS))
def test_a_task_relayed_in_each_dialect_is_rehosted_and_decodes(
    dialect: str,
    gateway: tuple[LiveConch, httpx.Client],
    upstream: tuple[LiveConch, str, Any],
    relayed: dict[str, dict[str, Any]],
    tmp_path: Path,
) -> None:
    server, client = gateway
    done = relayed[dialect]
    assert done["status"] == "Success", done

    video = fetched_video(server, client, done, tmp_path / "relayed.mp4")
    assert (video.codec, video.frames) == ("h264", 6 * 24)
    assert (video.width, video.height) == (done["video_width"], done["video_height"])

    # The upstream made exactly one task for it, and the gateway's record names it.
    database = open_database(f"sqlite:///{server.data_dir / 'conch.db'}", upgrade=False)
    (call,) = RelayCallStore(database).calls(int(done["task_id"]))
    assert (call.upstream, call.state) == (dialect, "succeeded")
    made = task_store(upstream[0].data_dir).latest(None, limit=1000)
    assert [task.status for task in made] == ["success"] * len(DIALECTS)
