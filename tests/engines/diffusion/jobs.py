"""Jobs for the diffusion engine's tests, and what every rendered video must be."""

from __future__ import annotations

from typing import Any

import numpy as np

from conch.domain.camera import parse_prompt
from conch.domain.catalog import Mode
from conch.engines.base import Job
from conch.engines.diffusion import DiffusionEngine
from conch.engines.diffusion.engine import SUBJECT_VERTICAL
from conch.media.images import fit_frame
from engines.diffusion.tiny import photo_frame

WIDTH, HEIGHT, FRAMES = 64, 44, 24
PROMPT = "A cat runs [Pan left, Pedestal up], then sits [推进]"


def make_job(mode: Mode, **changes: Any) -> Job:
    parsed = parse_prompt(PROMPT)
    fields: dict[str, Any] = {
        "mode": mode,
        "prompt": parsed.text,
        "camera_plan": parsed.plan,
        "width": WIDTH,
        "height": HEIGHT,
        "frame_count": FRAMES,
        "seed": 7,
    }
    if mode in (Mode.IMAGE, Mode.FIRST_LAST):
        fields["first_frame"] = photo_frame("astronaut", WIDTH, HEIGHT)
    if mode is Mode.FIRST_LAST:
        fields["last_frame"] = photo_frame("coffee", WIDTH, HEIGHT)
    if mode is Mode.SUBJECT:
        fields["subject_image"] = photo_frame("chelsea", 300, 451)
    fields.update(changes)
    width, height = fields["width"], fields["height"]
    for role, name in (("first_frame", "astronaut"), ("last_frame", "coffee")):
        if fields.get(role) is not None and fields[role].shape[:2] != (height, width):
            fields[role] = photo_frame(name, width, height)
    return Job(**fields)


def render(engine: DiffusionEngine, job: Job) -> tuple[list[np.ndarray], list[float]]:
    reports: list[float] = []
    return list(engine.generate(job, reports.append)), reports


def assert_video(frames: list[np.ndarray], job: Job) -> None:
    assert len(frames) == job.frame_count
    for frame in frames:
        assert frame.shape == (job.height, job.width, 3)
        assert frame.dtype == np.uint8
        assert frame.flags.c_contiguous


def as_array(image: Any) -> np.ndarray:
    return np.asarray(image.convert("RGB"))


def expected_anchors(job: Job) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The first and last frames the video must show, at the output size."""
    if job.mode is Mode.SUBJECT:
        assert job.subject_image is not None
        return fit_frame(job.subject_image, job.width, job.height, SUBJECT_VERTICAL), None
    if job.mode is Mode.TEXT:
        return None, None
    return job.first_frame, job.last_frame
