"""The SDK against a live conch in every dialect: submit, wait, download, decode."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from client.helpers import FAST_POLL, FAST_RETRY, Frames, sdk_client
from conch.client import Client, State, Status
from conch.media.video import probe
from support.dialects import ChanjingCredentials
from support.live import LiveConch

# One render per dialect, each as cheap as the dialect allows; QuickRouter and Chanjing
# make the first+last-frame video the SDK is mostly for.
CASES: dict[str, tuple[dict[str, Any], tuple[int, int]]] = {
    "minimax": ({"model": "I2V-01", "prompt": "[Push in] a helmet"}, (720, 720)),
    "quickrouter": ({"resolution": "768P", "prompt": "[Truck left] a meadow"}, (1366, 768)),
    "modelverse": ({"resolution": "512P", "prompt": "a meadow"}, (910, 512)),
    "chanjing": ({"resolution": "768P", "prompt": "[Pan left] a meadow"}, (1366, 768)),
}


def _images(dialect: str, frames: Frames) -> dict[str, Path]:
    if dialect == "minimax":
        return {"first_frame": frames.photo}
    if dialect == "modelverse":
        return {"first_frame": frames.first}
    return {"first_frame": frames.first, "last_frame": frames.last}


@pytest.mark.parametrize("dialect", list(CASES))
def test_generate_makes_a_decodable_video_in_every_dialect(
    dialect: str,
    conch: LiveConch,
    key: str,
    app: ChanjingCredentials,
    frames: Frames,
    tmp_path: Path,
) -> None:
    fields, (width, height) = CASES[dialect]
    seen: list[Status] = []
    submitted: list[str] = []
    with sdk_client(conch, dialect, key, app) as client:
        video = client.generate(
            **fields,
            **_images(dialect, frames),
            output=tmp_path / "out.mp4",
            on_submitted=submitted.append,
            on_status=seen.append,
        )
        assert [video.task_id] == submitted
        again = client.status(video.task_id)
    assert video.path == tmp_path / "out.mp4" and video.path.stat().st_size == video.bytes
    assert not list(tmp_path.glob("*.part"))
    decoded = probe(video.path)
    assert (decoded.width, decoded.height, decoded.frames) == (width, height, 144)
    assert decoded.codec == "h264"
    assert seen[-1].state is State.SUCCEEDED and seen[-1].done
    assert {status.state for status in seen} <= {State.QUEUED, State.RUNNING, State.SUCCEEDED}
    assert again.state is State.SUCCEEDED and again.raw  # the provider's answer, attached
    assert again.provider_status == "Success"


def test_a_task_is_resumed_from_its_id_by_a_new_client(
    conch: LiveConch, key: str, frames: Frames, tmp_path: Path
) -> None:
    with Client(conch.base_url, key, poll=FAST_POLL, retry=FAST_RETRY) as first:
        task_id = first.submit(model="I2V-01", first_frame=frames.photo.read_bytes())
    # The process that submitted is gone; another finishes the task, without resubmitting.
    with Client(conch.base_url, key, poll=FAST_POLL, retry=FAST_RETRY) as second:
        video = second.resume(task_id, tmp_path / "resumed.mp4")
        assert second.download(task_id, tmp_path / "again.mp4").bytes == video.bytes
    assert video.task_id == task_id
    assert probe(video.path).frames == 144
    assert (tmp_path / "again.mp4").read_bytes() == video.path.read_bytes()


def test_one_task_is_the_same_task_in_minimax_and_quickrouter(
    conch: LiveConch, key: str, frames: Frames
) -> None:
    with sdk_client(conch, "minimax", key) as minimax:
        task_id = minimax.submit(model="I2V-01", first_frame=str(frames.photo))
        done = minimax.wait(task_id)
    with Client(f"{conch.base_url}/minimax", key, dialect="quickrouter") as quickrouter:
        # QuickRouter's own base URL already ends with /minimax: no second prefix is added.
        assert quickrouter.status(task_id).file_id == done.file_id
