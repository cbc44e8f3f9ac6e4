"""Text-to-video, which the motion engine refuses, served end to end through a gateway: the
upstream conch runs a tiny random-weight LTX pipeline (built offline, as the diffusion
tests build it), the gateway relays MiniMax-Hailuo-02 to it in the Modelverse dialect, and
the caller downloads a decodable video from the gateway."""

from __future__ import annotations

import json
from pathlib import Path

from conch.media.video import probe
from relay.gateway import KEY_ENV, gateway_env
from support.dialects import modelverse_client, wait_modelverse
from support.live import SERVER_ENV, LiveConch

FAST = {"dtype": "float32", "device": "cpu", "steps": 2, "max_area": 64 * 32, "upsampler": False}


def test_text_to_video_goes_through_the_gateway_to_a_diffusion_upstream(tmp_path: Path) -> None:
    from engines.diffusion.tiny import save_tiny

    weights = save_tiny("ltx-video", tmp_path / "ltx", upsampler=False)
    route = {"engine": "diffusion", "preset": "ltx-video", "weights": str(weights), "options": FAST}
    upstream_env = {**SERVER_ENV, "CONCH_MODELS": json.dumps({"MiniMax-Hailuo-02": route})}
    upstream_env["HF_HUB_OFFLINE"] = "1"
    with LiveConch(tmp_path / "upstream", upstream_env) as upstream:
        terms = {
            "kind": "conch",
            "dialect": "modelverse",
            "base_url": upstream.base_url,
            "api_key_env": KEY_ENV,
            "poll_first": 0.2,
            "poll_ceiling": 0.5,
        }
        env = gateway_env(
            {"gpu-box": terms},
            {"MiniMax-Hailuo-02": {"upstreams": ["gpu-box"]}},
            {KEY_ENV: upstream.create_key("gateway")},
        )
        with (
            LiveConch(tmp_path / "gateway", env) as gateway,
            gateway.client(gateway.create_key()) as client,
        ):
            body = {"model": "MiniMax-Hailuo-02", "prompt": "a cat runs"}
            created = client.post("/v1/video_generation", json=body).json()
            assert created["base_resp"]["status_code"] == 0, created
            task_id = created["task_id"]
            with modelverse_client(gateway, client.headers["Authorization"].split()[1]) as mv:
                done = wait_modelverse(mv, task_id, timeout=300)  # read in another dialect
            assert done["output"]["task_status"] == "Success", done
            (url,) = done["output"]["urls"]
            assert url.startswith(gateway.base_url)
            video = tmp_path / "t2v.mp4"
            with gateway.client(None) as anonymous:
                video.write_bytes(anonymous.get(url).content)
    probed = probe(video)
    assert (probed.codec, probed.frames) == ("h264", 6 * 24)
    assert probed.width > probed.height > 0
