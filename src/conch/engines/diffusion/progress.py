"""Progress of one render: each denoising step, then each output frame.

Denoising is nearly all of a render's time, so steps fill the first 95 % of the bar
(through diffusers' step callback); the output frames (retimed, resized, handed to the
encoder) fill the last 5 %, one report per frame, reaching 1.0 after the last one. The
task's progress callback may raise to stop the render (the task was taken away): raising
inside the pipeline's step callback stops the pipeline at once, which is what we want.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from conch.engines.base import Frame, ProgressFn

DENOISING_SHARE = 0.95
"""The fraction of the progress bar that denoising steps fill."""


class StepProgress:
    """Counts denoising steps across every stage of one render, then output frames."""

    def __init__(self, report: ProgressFn, total_steps: int) -> None:
        self.report = report
        self.total_steps = max(1, total_steps)
        self.done = 0

    def step(self) -> None:
        """One denoising step finished."""
        self.done += 1
        self.report(DENOISING_SHARE * min(self.done, self.total_steps) / self.total_steps)

    def on_step_end(
        self, _pipeline: Any, _step: int, _timestep: Any, tensors: dict[str, Any]
    ) -> dict[str, Any]:
        """diffusers' ``callback_on_step_end`` (called with the pipeline, the step and the
        timestep, by position): it must hand the tensors back unchanged."""
        self.step()
        return tensors

    def output(self, frames: Iterator[Frame], count: int) -> Iterator[Frame]:
        """``frames`` (``count`` of them), reporting each once its consumer has taken it."""
        for index, frame in enumerate(frames, start=1):
            yield frame
            self.report(DENOISING_SHARE + (1 - DENOISING_SHARE) * min(index, count) / count)
