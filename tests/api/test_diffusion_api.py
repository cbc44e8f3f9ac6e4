"""The diffusion engine behind the API: tiny random-weight pipelines of every preset, saved
to folders and loaded by a live conch through the real loading path, render every mode their
presets serve to decoded MP4s of the right size and length, with sound where the model
makes it.

Three servers, one after the other: the first routes MiniMax-Hailuo-02 to LTX (without its
upsampler); the second routes it to Wan2.1-FLF2V (MiniMax-Hailuo-02 is the only catalog
model with first+last) and MiniMax-Hailuo-2.3 to LTX with its latent upsampler, for 1080P;
the third routes MiniMax-Hailuo-02 to MiniMax-H3 and MiniMax-Hailuo-2.3 to LTX-2, whose
videos carry an AAC track, and leaves I2V-01 on the silent motion engine. The first is also
the upstream of a gateway that relays text-to-video to it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from conch.media.video import AUDIO_RATE, ProbedVideo, probe
from relay.gateway import KEY_ENV, gateway_env, new_key
from support.dialects import modelverse_client, wait_modelverse
from support.files_http import FileServer
from support.live import SERVER_ENV, LiveConch, wait_for_task

FAST = {"dtype": "float32", "device": "cpu", "steps": 2, "max_area": 64 * 32, "upsampler": False}


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each preset's tiny pipeline, and LTX's upsampler in its published layout."""
    from engines.diffusion.tiny import BUILDERS, save_tiny, save_tiny_upsampler

    root = tmp_path_factory.mktemp("weights")
    folders = {preset: save_tiny(preset, root / preset, upsampler=False) for preset in BUILDERS}
    return {**folders, "upsampler": save_tiny_upsampler(root / "ltxv-spatial-upscaler")}


def route(preset: str, weights: dict[str, Path], **options: Any) -> dict[str, Any]:
    folder = str(weights[preset])
    return {"engine": "diffusion", "preset": preset, "weights": folder, "options": FAST | options}


def serve(
    tmp_path_factory: pytest.TempPathFactory, routes: dict[str, dict[str, Any]]
) -> Iterator[tuple[LiveConch, httpx.Client]]:
    env = {**SERVER_ENV, "CONCH_MODELS": json.dumps(routes), "HF_HUB_OFFLINE": "1"}
    with (
        LiveConch(tmp_path_factory.mktemp("conch-diffusion"), env) as server,
        server.client(server.create_key()) as client,
    ):
        yield server, client


def render(client: httpx.Client, body: dict[str, Any], tmp_path: Path) -> Path:
    created = client.post("/v1/video_generation", json=body).json()
    assert created["base_resp"]["status_code"] == 0, created
    done = wait_for_task(client, created["task_id"], timeout=300)
    assert done["status"] == "Success", done
    video = client.get("/v1/files/retrieve_content", params={"file_id": done["file_id"]})
    path = tmp_path / "video.mp4"
    path.write_bytes(video.content)
    return path


def first_and_last(files: FileServer) -> dict[str, str]:
    return {
        "first_frame_image": files.base_url + "/clip/first.jpg",
        "last_frame_image": files.base_url + "/clip/last.jpg",
    }


@pytest.fixture(scope="class")
def first(
    tmp_path_factory: pytest.TempPathFactory, weights: dict[str, Path]
) -> Iterator[tuple[LiveConch, httpx.Client]]:
    """The first server (stopped after its class's tests)."""
    routes = {
        "MiniMax-Hailuo-02": route("ltx-video", weights),
        "MiniMax-Hailuo-2.3": route("wan2.2-ti2v-5b", weights),
        "S2V-01": route("wan2.2-i2v-a14b", weights),
    }
    yield from serve(tmp_path_factory, routes)


@pytest.fixture(scope="class")
def client(first: tuple[LiveConch, httpx.Client]) -> httpx.Client:
    return first[1]


@pytest.fixture(scope="class")
def served(
    tmp_path_factory: pytest.TempPathFactory, weights: dict[str, Path]
) -> Iterator[tuple[LiveConch, httpx.Client]]:
    """The second server: LTX with its upsampler, at most 33 frames a pass (so that the
    refining stage's attention stays small)."""
    upsampler = str(weights["upsampler"])
    routes = {
        "MiniMax-Hailuo-02": route("wan2.1-flf2v-14b", weights),
        "MiniMax-Hailuo-2.3": route("ltx-video", weights, upsampler=upsampler, max_frames=33),
    }
    yield from serve(tmp_path_factory, routes)


class TestLtxAndWan:
    """MiniMax-Hailuo-02 on LTX, -2.3 on Wan2.2-TI2V-5B, S2V-01 on Wan2.2-I2V-A14B."""

    @pytest.mark.parametrize(
        ("body", "size", "frames"),
        [
            ({"model": "MiniMax-Hailuo-02", "prompt": "a cat runs [Pan left]"}, (1366, 768), 144),
            (
                {"model": "MiniMax-Hailuo-2.3", "prompt": "a dog sits", "duration": 10},
                (1366, 768),
                240,
            ),
        ],
        ids=["ltx text-to-video", "wan ti2v text-to-video 10 s"],
    )
    def test_text_to_video(
        self,
        client: httpx.Client,
        body: dict[str, Any],
        size: tuple[int, int],
        frames: int,
        tmp_path: Path,
    ) -> None:
        video = probe(render(client, body, tmp_path))
        assert (video.width, video.height, video.frames, video.fps) == (*size, frames, 24)

    def test_image_to_video_on_ltx(
        self, client: httpx.Client, files: FileServer, tmp_path: Path
    ) -> None:
        body = {
            "model": "MiniMax-Hailuo-02",
            "first_frame_image": files.base_url + "/clip/first.jpg",
            "prompt": "the rabbit walks [Truck left]",
            "resolution": "512P",
        }
        video = probe(render(client, body, tmp_path))
        assert (video.width, video.height, video.frames) == (910, 512, 144)

    def test_first_and_last_frame_on_ltx(
        self, client: httpx.Client, files: FileServer, tmp_path: Path
    ) -> None:
        body = {"model": "MiniMax-Hailuo-02", "prompt": "[Push in] the camera moves"}
        video = probe(render(client, body | first_and_last(files), tmp_path))
        assert (video.width, video.height, video.frames) == (1366, 768, 144)

    def test_text_to_video_goes_through_a_gateway_to_this_server(
        self, first: tuple[LiveConch, httpx.Client], tmp_path: Path
    ) -> None:
        """Text-to-video, which the motion engine refuses, served end to end through a
        gateway (docs/relay.md): the gateway relays MiniMax-Hailuo-02 to this server (LTX)
        in the Modelverse dialect, and the caller reads the task in that dialect and
        downloads a decodable video from the gateway. (Here, not in tests/relay: this
        module's server has torch and LTX loaded already; hence also its place, after the
        LTX tests and before Wan's.)"""
        upstream, _ = first
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
            {KEY_ENV: new_key(upstream, "gateway")},
        )
        gateway = LiveConch(tmp_path / "gateway", env)
        with gateway, gateway.client(new_key(gateway, "caller")) as client:
            body = {"model": "MiniMax-Hailuo-02", "prompt": "a cat runs"}
            created = client.post("/v1/video_generation", json=body).json()
            assert created["base_resp"]["status_code"] == 0, created
            key = client.headers["Authorization"].split()[1]
            with modelverse_client(gateway, key) as modelverse:
                done = wait_modelverse(modelverse, created["task_id"], timeout=300)
            assert done["output"]["task_status"] == "Success", done
            (url,) = done["output"]["urls"]
            assert url.startswith(gateway.base_url)
            with gateway.client(None) as anonymous:
                (tmp_path / "t2v.mp4").write_bytes(anonymous.get(url).content)
        video = probe(tmp_path / "t2v.mp4")
        assert (video.codec, video.width, video.height, video.frames) == ("h264", 1366, 768, 144)

    def test_subject_reference_on_wan(
        self, client: httpx.Client, files: FileServer, tmp_path: Path
    ) -> None:
        subject = [{"type": "character", "image": [files.base_url + "/photo/astronaut.png"]}]
        body = {"model": "S2V-01", "prompt": "a girl smiles", "subject_reference": subject}
        video = probe(render(client, body, tmp_path))
        assert (video.width, video.height, video.frames) == (1280, 720, 144)

    def test_models_left_on_the_motion_engine_still_refuse_text(self, client: httpx.Client) -> None:
        answer = client.post("/v1/video_generation", json={"model": "T2V-01", "prompt": "a cat"})
        assert "motion engine" in answer.json()["base_resp"]["status_msg"]


class TestFlf2vAndUpsampledLtx:
    """MiniMax-Hailuo-02 on Wan2.1-FLF2V; -2.3 on LTX with its upsampler."""

    def test_first_and_last_frame_on_wan_flf2v(
        self, served: tuple[LiveConch, httpx.Client], files: FileServer, tmp_path: Path
    ) -> None:
        _, client = served
        body = {"model": "MiniMax-Hailuo-02", "prompt": "the rabbit looks up"}
        video = probe(render(client, body | first_and_last(files), tmp_path))
        assert (video.width, video.height, video.frames) == (1366, 768, 144)

    def test_1080p_on_ltx_through_its_latent_upsampler(
        self, served: tuple[LiveConch, httpx.Client], tmp_path: Path
    ) -> None:
        server, client = served
        body = {"model": "MiniMax-Hailuo-2.3", "prompt": "a cat runs", "resolution": "1080P"}
        video = probe(render(client, body, tmp_path))
        assert (video.width, video.height, video.frames) == (1920, 1080, 144)
        # Half of 1920x1080 within the 64x32 test area is 64x32: rendered, then doubled.
        assert "at 128x64 (x2), 33 frames, for 1920x1080, 144 frames" in server.log()


@pytest.fixture(scope="class")
def with_sound(
    tmp_path_factory: pytest.TempPathFactory, weights: dict[str, Path]
) -> Iterator[httpx.Client]:
    """The third server: the presets whose models make sound."""
    routes = {
        "MiniMax-Hailuo-02": route("minimax-h3", weights),
        "MiniMax-Hailuo-2.3": route("ltx-2", weights),
    }
    for _, client in serve(tmp_path_factory, routes):
        yield client


def assert_stereo_aac_as_long_as_the_video(video: ProbedVideo, seconds: float) -> None:
    assert video.audio is not None, "the video carries its model's sound"
    assert (video.audio.codec, video.audio.channels) == ("aac", 2)
    assert video.audio.sample_rate == AUDIO_RATE
    assert video.duration == pytest.approx(seconds)
    assert video.audio.duration == pytest.approx(video.duration, abs=1e-6)
    assert np.abs(video.audio.samples).max() > 0  # the model's sound, not silence


class TestSound:
    """MiniMax-Hailuo-02 on MiniMax-H3, -2.3 on LTX-2, I2V-01 on the motion engine."""

    def test_text_to_video_on_minimax_h3_has_its_sound(
        self, with_sound: httpx.Client, tmp_path: Path
    ) -> None:
        body = {"model": "MiniMax-Hailuo-02", "prompt": "a dog runs and barks [Tracking shot]"}
        video = probe(render(with_sound, body, tmp_path))
        assert (video.width, video.height, video.frames, video.fps) == (1366, 768, 144, 24)
        assert_stereo_aac_as_long_as_the_video(video, 6.0)

    def test_first_and_last_frame_on_minimax_h3_has_its_sound(
        self, with_sound: httpx.Client, files: FileServer, tmp_path: Path
    ) -> None:
        body = {"model": "MiniMax-Hailuo-02", "prompt": "the rabbit looks up"}
        video = probe(render(with_sound, body | first_and_last(files), tmp_path))
        assert (video.width, video.height, video.frames) == (1366, 768, 144)
        assert_stereo_aac_as_long_as_the_video(video, 6.0)

    def test_ten_seconds_from_an_image_on_ltx2_has_ten_seconds_of_sound(
        self, with_sound: httpx.Client, files: FileServer, tmp_path: Path
    ) -> None:
        body = {
            "model": "MiniMax-Hailuo-2.3",
            "first_frame_image": files.base_url + "/clip/first.jpg",
            "prompt": "the rabbit walks through the grass",
            "duration": 10,
        }
        video = probe(render(with_sound, body, tmp_path))
        assert (video.width, video.height, video.frames) == (1366, 768, 240)
        assert_stereo_aac_as_long_as_the_video(video, 10.0)

    def test_the_motion_engines_videos_stay_silent(
        self, with_sound: httpx.Client, files: FileServer, tmp_path: Path
    ) -> None:
        body = {"model": "I2V-01", "first_frame_image": files.base_url + "/clip/first.jpg"}
        video = probe(render(with_sound, body | {"prompt": "[Push in]"}, tmp_path))
        assert video.frames == 144
        assert video.audio is None  # no empty track either
