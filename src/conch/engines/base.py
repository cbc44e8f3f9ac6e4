"""The Engine protocol: a job in, frames out (and, from some engines, sound).

Engines never touch HTTP, the database, the dialects or the encoder. A runner builds a
:class:`Job` (images already decoded and fitted to the output size), calls
:meth:`Engine.generate`, and streams the frames it yields into the one encoder. An engine
whose model makes sound returns :class:`Footage`: the frames, and a :class:`Soundtrack` the
encoder muxes alongside them (:func:`soundtrack_of` reads it; other engines' frames are
silent and the file gets no audio track).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import ClassVar, Protocol, Self

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


@dataclass(frozen=True)
class Soundtrack:
    """The sound of a video: ``samples`` float32 in [-1, 1], shape (channels, count), at
    ``sample_rate`` samples per second, starting with the first frame.

    An engine hands over sound that lasts exactly as long as its frames (``frame_count /
    fps``, to the nearest sample); the encoder checks it.
    """

    samples: np.ndarray
    sample_rate: int

    def __post_init__(self) -> None:
        if self.samples.ndim != 2 or self.samples.shape[0] not in (1, 2):
            shape = self.samples.shape
            raise ValueError(
                f"a soundtrack is (channels, samples) with 1 or 2 channels; got {shape}"
            )
        if self.sample_rate <= 0:
            raise ValueError(f"a soundtrack's sample rate must be positive; got {self.sample_rate}")

    @property
    def channels(self) -> int:
        return int(self.samples.shape[0])

    @property
    def duration(self) -> float:
        """Seconds of sound."""
        return self.samples.shape[1] / self.sample_rate


class Footage(Iterator[Frame]):
    """An engine's frames, and the sound that goes with them.

    The engine sets :attr:`soundtrack` before it yields the first frame, so a consumer may
    read it once it holds a frame (the encoder does); None means the video is silent.
    """

    def __init__(self) -> None:
        self.soundtrack: Soundtrack | None = None
        self._frames: Iterator[Frame] = iter(())

    def play(self, frames: Iterator[Frame]) -> Self:
        """Serve ``frames`` (whose producer sets :attr:`soundtrack` before the first)."""
        self._frames = frames
        return self

    def __next__(self) -> Frame:
        return next(self._frames)

    def close(self) -> None:
        """Stop the producer early (a generator runs its clean-up now)."""
        close = getattr(self._frames, "close", None)
        if close is not None:
            close()


def soundtrack_of(frames: Iterator[Frame]) -> Soundtrack | None:
    """The sound an engine's ``generate`` set on its frames, once the first was drawn."""
    return frames.soundtrack if isinstance(frames, Footage) else None


class Engine(Protocol):
    """Renders jobs. One instance lives in a runner process and serves many jobs."""

    name: ClassVar[str]

    def generate(self, job: Job, progress: ProgressFn) -> Iterator[Frame]:
        """Yield exactly ``job.frame_count`` frames of ``job.height`` x ``job.width``.

        An engine that makes sound returns :class:`Footage` with its soundtrack set.
        """
        ...

    def close(self) -> None:
        """Release what the engine holds (models, threads)."""
        ...


class EngineFailure(Exception):
    """An engine could not render a job for a reason worth retrying (not the caller's)."""
