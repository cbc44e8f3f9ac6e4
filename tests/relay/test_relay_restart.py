"""kill -9 of the gateway mid-relay, then a restart: polling resumes from the stored
upstream id, no second create is sent, and the task ends once, Success."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from conch.engines.relay.calls import CallState
from conch.media.video import encode_mp4
from conch.store.db import open_database
from conch.store.relay_calls import RelayCallStore
from relay.gateway import KEY_ENV, fetched_video, gateway_env, submit
from support.faulty_upstream import KEY, FaultyUpstream, Script
from support.live import LiveConch, wait_for_task


def test_a_gateway_killed_mid_relay_resumes_from_the_stored_id(tmp_path: Path) -> None:
    path = tmp_path / "upstream.mp4"
    frames = (np.full((72, 128, 3), shade, np.uint8) for shade in range(0, 240, 10))
    encode_mp4(frames, path, 128, 72, produce_id="upstream")
    with FaultyUpstream(path.read_bytes()) as upstream:
        terms = {"kind": "minimax", "base_url": f"{upstream.base_url}/a", "api_key_env": KEY_ENV}
        terms |= {"poll_first": 0.1, "poll_ceiling": 0.3}
        env = gateway_env({"a": terms}, {"MiniMax-Hailuo-02": {"upstreams": ["a"]}}, {KEY_ENV: KEY})
        gateway = LiveConch(tmp_path / "gateway", env).start()
        try:
            prompt = "outlives its gateway"
            upstream.scripts[prompt] = Script(polls=["Processing"])
            key = gateway.create_key()
            with gateway.client(key) as client:
                task_id = submit(client, {"model": "MiniMax-Hailuo-02", "prompt": prompt})
            database = open_database(f"sqlite:///{gateway.data_dir / 'conch.db'}", upgrade=False)
            calls = RelayCallStore(database)
            deadline = time.monotonic() + 60
            while not (upstream.tasks and upstream.task_of(prompt).polls >= 2):
                assert time.monotonic() < deadline, gateway.log()
                time.sleep(0.05)
            gateway.kill9()  # mid-relay: accepted upstream, being polled

            upstream.then(prompt, "Success")
            gateway.start()
            with gateway.client(key) as client:
                done = wait_for_task(client, task_id, timeout=60)
                assert done["status"] == "Success", done
                video = fetched_video(gateway, client, done, tmp_path / "relayed.mp4")
            assert video.frames == 24
            assert upstream.creates(prompt) == 1
            (call,) = calls.calls(int(task_id))
            assert call.state is CallState.SUCCEEDED
            assert call.upstream_task_id == upstream.task_of(prompt).task_id
        finally:
            gateway.stop()
