"""The seam between the engine and one model family: a render request in, frames out.

The engine (``engine.py``) works in output terms: modes, the job's size, 24 fps, camera
plans. A renderer (``ltx.py``, ``wan.py``) works in the model's terms: a legal size and
frame count, conditioning images, denoising steps. Everything here is import-light.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from conch.engines.base import Frame, Soundtrack
from conch.engines.diffusion.geometry import Grid
from conch.engines.diffusion.progress import StepProgress

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class RenderRequest:
    """One clip in the model's terms.

    ``width`` x ``height`` and ``frame_count`` are legal for the renderer's grid; with
    ``upscale`` 2 the model renders at half the size and its latent upsampler doubles it.
    ``first_image`` and ``last_image`` are already ``width`` x ``height``.
    """

    prompt: str
    negative_prompt: str
    width: int
    height: int
    frame_count: int
    frame_rate: int
    seed: int
    upscale: int = 1
    first_image: Frame | None = None
    last_image: Frame | None = None


@dataclass(frozen=True)
class RenderedClip:
    """What a model rendered: uint8 RGB frames (frame_count, height, width, 3), and, from a
    model that makes sound, the sound of those frames played at ``frame_rate``."""

    frames: np.ndarray
    frame_rate: float
    sound: Soundtrack | None = None


class Renderer(Protocol):
    """A loaded model family, kept between jobs."""

    grid: Grid
    upscale: int
    """2 when a latent upsampler is loaded (renders above the native area use it), else 1."""
    device: torch.device
    """Where the models run (or, under CPU offload, where each runs in its turn)."""

    def step_count(self, request: RenderRequest) -> int:
        """The denoising steps ``render`` will take, for progress reports."""
        ...

    def render(self, request: RenderRequest, progress: StepProgress) -> RenderedClip:
        """The clip: ``request.frame_count`` frames of ``request`` width x height, and its
        sound if the model makes any."""
        ...

    def close(self) -> None:
        """Free the models (and the GPU memory they hold)."""
        ...
