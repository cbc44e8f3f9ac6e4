"""Hand-held shake: smooth, band-limited jitter of the camera's aim.

A sum of a few sines per axis, at frequencies a hand produces (about 1-4 Hz), with phases
drawn from the job's seed so that a render is repeatable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from conch.engines.motion.geometry import CameraPose

ANGLE = math.radians(0.35)
"""Typical swing of yaw and pitch."""

ROLL = math.radians(0.25)
"""Typical swing of roll."""

SHIFT = 0.002
"""Typical sideways and vertical wobble, in scene distances."""

FREQUENCIES = (1.3, 2.3, 3.7)
"""Hertz of the three sines each axis sums, before a per-axis random detune."""


@dataclass(frozen=True)
class Shake:
    """A repeatable jitter; :meth:`at` gives the camera's offset at a time in seconds."""

    frequencies: np.ndarray
    phases: np.ndarray

    @classmethod
    def seeded(cls, seed: int) -> Shake:
        """The jitter for ``seed``: per-axis detuned frequencies and random phases, repeatable."""
        rng = np.random.default_rng(seed)
        axes = 5  # x, y, yaw, pitch, roll
        detune = rng.uniform(0.8, 1.25, size=(axes, len(FREQUENCIES)))
        return cls(np.array(FREQUENCIES) * detune, rng.uniform(0, 2 * math.pi, detune.shape))

    def at(self, seconds: float) -> CameraPose:
        """The camera's offset ``seconds`` into the shake (aim, roll and a slight wobble)."""
        waves = np.sin(2 * math.pi * self.frequencies * seconds + self.phases)
        # Lower frequencies swing wider, as a hand does.
        weights = 1.0 / np.arange(1, len(FREQUENCIES) + 1)
        x, y, yaw, pitch, roll = (waves * weights).sum(axis=1) / weights.sum()
        return CameraPose(
            x=SHIFT * x, y=SHIFT * y, yaw=ANGLE * yaw, pitch=ANGLE * pitch, roll=ROLL * roll
        )
