"""The example requests of MiniMax's and QuickRouter's pages, sent as written (host and
image URLs swapped), carried through to a decoded MP4."""

from __future__ import annotations

import json
from pathlib import Path

import av
import cv2
import httpx
import numpy as np

from conch.media.video import probe
from support.files_http import FileServer
from support.live import LiveConch, wait_for_task
from support.photos import clip_frame, encode
from support.receiver import Receiver, receiving

# minimax-official-first-last-frame.md, VideoGenerationReq.example
OFFICIAL_EXAMPLE = """{
  "prompt": "A little girl grow up.",
  "first_frame_image": "https://filecdn.minimax.chat/public/fe9d04da-f60e-444d-a2e0-18ae743add33.jpeg",
  "last_frame_image": "https://filecdn.minimax.chat/public/97b7cd08-764e-4b8b-a7bf-87a0bd898575.jpeg",
  "model": "MiniMax-Hailuo-02",
  "duration": 6,
  "resolution": "1080P"
}"""

# quickrouter-first-last-frame.md: the curl, JavaScript and Python examples send this body.
QUICKROUTER_EXAMPLE = """{
"model": "MiniMax-Hailuo-02",
"last_frame_image": "https://filecdn.minimax.chat/public/97b7cd08-764e-4b8b-a7bf-87a0bd898575.jpeg",
"first_frame_image": "https://filecdn.minimax.chat/public/fe9d04da-f60e-444d-a2e0-18ae743add33.jpeg",
"prompt": "A little girl grow up [推进].",
"duration": 6,
"resolution": "1080P",
"prompt_optimizer": true,
"callback_url": "https://your-domain.com/api/video/callback",
"aigc_watermark": false
}"""

FIRST = "https://filecdn.minimax.chat/public/fe9d04da-f60e-444d-a2e0-18ae743add33.jpeg"
LAST = "https://filecdn.minimax.chat/public/97b7cd08-764e-4b8b-a7bf-87a0bd898575.jpeg"
CALLBACK = "https://your-domain.com/api/video/callback"


def as_written(example: str, files: FileServer, receiver: Receiver | None = None) -> str:
    """The example with only its hosts swapped: images on the local image server, the
    callback on a local receiver that answers MiniMax's challenge handshake."""
    first = files.put("/public/fe9d04da-f60e-444d-a2e0-18ae743add33.jpeg", _jpeg(0))
    last = files.put("/public/97b7cd08-764e-4b8b-a7bf-87a0bd898575.jpeg", _jpeg(24))
    written = example.replace(FIRST, first).replace(LAST, last)
    if receiver is not None:
        written = written.replace(CALLBACK, receiver.route("/api/video/callback"))
    return written


def _jpeg(index: int) -> bytes:
    return encode(clip_frame(index), quality=95)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255.0**2 / mse)


def check_video(path: Path, width: int, height: int, frames: int) -> None:
    video = probe(path)
    assert (video.width, video.height, video.frames, video.fps) == (width, height, frames, 24)
    assert (video.codec, video.pix_fmt) == ("h264", "yuv420p")
    assert json.loads(video.metadata["AIGC"])["Label"] == "1"


def end_to_end(client: httpx.Client, body: str, tmp_path: Path) -> Path:
    answer = client.post(
        "/v1/video_generation", content=body.encode(), headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 200
    created = answer.json()
    assert created["base_resp"] == {"status_code": 0, "status_msg": "success"}, created
    assert isinstance(created["task_id"], str) and created["task_id"].isdigit()
    done = wait_for_task(client, created["task_id"])
    assert done["status"] == "Success", done
    assert isinstance(done["file_id"], str) and done["file_id"].isdigit()
    retrieved = client.get("/v1/files/retrieve", params={"file_id": done["file_id"]}).json()
    file = retrieved["file"]
    assert isinstance(file["file_id"], int) and str(file["file_id"]) == done["file_id"]
    assert file["filename"] == "output_aigc.mp4" and file["purpose"] == "video_generation"
    video = httpx.get(file["download_url"], timeout=30)
    assert video.status_code == 200 and len(video.content) == file["bytes"]
    path = tmp_path / "video.mp4"
    path.write_bytes(video.content)
    assert (done["video_width"], done["video_height"]) == (probe(path).width, probe(path).height)
    return path


def test_official_example(api: httpx.Client, files: FileServer, tmp_path: Path) -> None:
    path = end_to_end(api, as_written(OFFICIAL_EXAMPLE, files), tmp_path)
    check_video(path, 1920, 1080, 144)
    first, last = _ends(path)
    # The video opens on the first frame and closes on the last (within encoder noise).
    assert psnr(first, _resized(clip_frame(0), 1920, 1080)) > 30
    assert psnr(last, _resized(clip_frame(24), 1920, 1080)) > 30


def test_quickrouter_example_under_its_prefix(
    conch: LiveConch, key: str, files: FileServer, tmp_path: Path
) -> None:
    with receiving() as receiver, conch.client(key, prefix="/minimax") as quickrouter:
        body = as_written(QUICKROUTER_EXAMPLE, files, receiver)
        path = end_to_end(quickrouter, body, tmp_path)
        pushes = receiver.wait_for_pushes("/api/video/callback", 2)
    check_video(path, 1920, 1080, 144)
    assert [push.json["status"] for push in pushes] == ["processing", "success"]


def _ends(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with av.open(str(path)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    return frames[0], frames[-1]


def _resized(image: np.ndarray, width: int, height: int) -> np.ndarray:
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_CUBIC)
