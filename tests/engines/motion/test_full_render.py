"""Full-length renders through the encoder, decoded back: what a client downloads."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from conch.domain.camera import parse_prompt
from conch.domain.catalog import Mode, Resolution, frame_count, output_size
from conch.engines.base import Job
from conch.engines.motion import MotionEngine
from conch.media.video import encode_mp4, probe
from support.photos import clip_frame, photo


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b) ** 2))
    return 10 * np.log10(255.0**2 / max(mse, 1e-10))


def _decoded_ends(path: Path) -> tuple[np.ndarray, np.ndarray, int]:
    first = last = None
    count = 0
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            image = frame.to_ndarray(format="rgb24")
            first = image if first is None else first
            last = image
            count += 1
    assert first is not None and last is not None
    return first, last, count


def _encoder_floor(picture: np.ndarray, path: Path) -> float:
    """PSNR of ``picture`` after a trip through the encoder on its own: the noise floor."""
    height, width = picture.shape[:2]
    encode_mp4([picture] * 3, path, width, height, produce_id="floor")
    return _psnr(_decoded_ends(path)[0], picture)


def _render(job: Job, path: Path) -> None:
    encode_mp4(
        MotionEngine().generate(job, lambda _: None),
        path,
        job.width,
        job.height,
        produce_id="7",
        fps=job.fps,
    )


@pytest.mark.slow
def test_a_768p_first_last_video_starts_and_ends_on_its_frames(tmp_path: Path) -> None:
    width, height = output_size(Resolution.R768, 16, 9)
    first, last = (
        cv2.resize(clip_frame(i), (width, height), interpolation=cv2.INTER_CUBIC) for i in (10, 40)
    )
    job = Job(
        mode=Mode.FIRST_LAST,
        prompt="",
        camera_plan=parse_prompt("[Push in]").plan,
        width=width,
        height=height,
        frame_count=frame_count(6),
        first_frame=first,
        last_frame=last,
    )
    _render(job, tmp_path / "out.mp4")
    probed = probe(tmp_path / "out.mp4")
    assert (probed.width, probed.height, probed.frames, probed.fps) == (1366, 768, 144, 24.0)
    start, end, count = _decoded_ends(tmp_path / "out.mp4")
    assert count == 144
    for decoded, given in ((start, first), (end, last)):
        floor = _encoder_floor(given, tmp_path / "floor.mp4")
        assert _psnr(decoded, given) > floor - 1.5, "equal within encoder noise"


@pytest.mark.slow
def test_an_image_video_starts_on_its_picture(tmp_path: Path) -> None:
    picture = cv2.resize(photo("rocket"), (910, 512), interpolation=cv2.INTER_AREA)
    job = Job(
        mode=Mode.IMAGE,
        prompt="",
        camera_plan=parse_prompt("[左摇, 上升]").plan,
        width=910,
        height=512,
        frame_count=frame_count(10),
        first_frame=picture,
    )
    _render(job, tmp_path / "out.mp4")
    start, end, count = _decoded_ends(tmp_path / "out.mp4")
    assert count == 240
    floor = _encoder_floor(picture, tmp_path / "floor.mp4")
    assert _psnr(start, picture) > floor - 1.5
    assert _psnr(end, picture) < floor - 10, "and moves away from it"
