"""The Engine protocol: a job in, frames out.

Engines never touch HTTP, the database, the dialects or the encoder. A runner builds a
:class:`Job` (images already decoded and fitted to the output size), calls
:meth:`Engine.generate`, and streams the frames it yields into the one encoder.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import ClassVar, Protocol

import numpy as np

from conch.domain.camera import CameraPlan
from conch.domain.catalog import FPS, Mode

Frame = np.ndarray
"""An RGB image: uint8, shape (height, width, 3), C-contiguous."""

ProgressFn = Callable[[float], None]
"""Told the fraction done, 0..1. It may raise to stop the engine (the task was taken away)."""


@dataclass(frozen=True)
class Job:
    """Everything an engine needs to render one video.

    ``first_frame`` and ``last_frame`` are already fitted to ``width`` x ``height`` (the last
    frame cropped to the first frame's aspect); the engine must keep them as the video's
    first and last frames. ``subject_image`` is passed as given.

    In image mode the first frame is the input for every camera command: a move that must
    look past the picture's edges (a pull out, a zoom out) sees the picture extended a
    little instead (docs/motion.md).
    """

    mode: Mode
    prompt: str
    camera_plan: CameraPlan
    width: int
    height: int
    frame_count: int
    fps: int = FPS
    first_frame: Frame | None = None
    last_frame: Frame | None = None
    subject_image: Frame | None = None
    prompt_optimizer: bool = True
    seed: int = 0


class Engine(Protocol):
    """Renders jobs. One instance lives in a runner process and serves many jobs."""

    name: ClassVar[str]

    def generate(self, job: Job, progress: ProgressFn) -> Iterator[Frame]:
        """Yield exactly ``job.frame_count`` frames of ``job.height`` x ``job.width``."""
        ...

    def close(self) -> None:
        """Release what the engine holds (models, threads)."""
        ...


class EngineFailure(Exception):
    """An engine could not render a job for a reason worth retrying (not the caller's)."""
