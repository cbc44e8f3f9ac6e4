"""Retiming: a rendered clip of N frames onto the output's exact frame count at 24 fps.

Both clips span the same time, first frame on first frame and last on last, so output
frame ``i`` sits at source position ``i * (N - 1) / (count - 1)``.

- When the model rendered at least as many frames as the output needs (LTX at its native
  24 fps renders 8k+1 frames, one or a few more than asked), each output frame is the
  nearest source frame: dropping a frame here and there is invisible, while blending
  neighbours would soften every frame.
- When it rendered fewer (Wan at 16 fps, or a clip longer than a model renders in one
  pass), the missing in-between frames come from the motion engine's transition between
  the two neighbours (:class:`conch.engines.motion.morph.Transition`: camera alignment,
  averaged bidirectional flow, occlusion-aware blending), which ghosts far less than a
  crossfade.

Sound follows the same map (:func:`retime_sound`): output time ``t`` shows the clip at
``t * (N - 1) / (count - 1)`` of its frames, so the clip's sound is played at the rate that
puts each of its samples under the frame it was made with. That changes its pitch by the
same small factor as its speed (the engine renders the frame count nearest the output's, so
at most half a frame step: 6 s on MiniMax-H3 renders 141 frames, 2 % slower, about a third
of a semitone lower). The result is cut or padded to exactly the output's duration.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from conch.engines.base import Frame, Soundtrack
from conch.engines.motion.morph import Transition

_STILL_CAMERA = np.eye(3)
"""The in-betweens are seen through the frames' own view: no camera move of ours."""

SNAP = 0.05
"""Positions this close to a source frame take that frame instead of a morph."""


def source_positions(source_count: int, count: int) -> list[float]:
    """Where each of ``count`` output frames falls among ``source_count`` source frames."""
    if count == 1:
        return [0.0]
    return [i * (source_count - 1) / (count - 1) for i in range(count)]


def retime(frames: Sequence[Frame], count: int) -> Iterator[Frame]:
    """Yield ``count`` frames spanning ``frames`` from its first frame to its last."""
    positions = source_positions(len(frames), count)
    if len(frames) >= count:
        for position in positions:
            yield frames[round(position)]
        return
    pair: tuple[int, Transition] | None = None  # outputs come in order: one pair at a time
    for position in positions:
        low = int(position)
        fraction = position - low
        if fraction < SNAP or low + 1 >= len(frames):
            yield frames[low]
        elif fraction > 1 - SNAP:
            yield frames[low + 1]
        else:
            if pair is None or pair[0] != low:
                pair = (low, Transition(frames[low], frames[low + 1]))
            yield pair[1].frame(fraction, _STILL_CAMERA, fraction)


def retime_sound(
    sound: Soundtrack, source_count: int, source_rate: float, count: int, fps: int
) -> Soundtrack:
    """``sound``, made with ``source_count`` frames at ``source_rate`` frames per second,
    timed to the ``count`` frames at ``fps`` those frames are retimed to, and exactly as
    long as they last."""
    stretch = (source_count - 1) / (count - 1) if count > 1 and source_count > 1 else 1.0
    rate = max(1, round(sound.sample_rate * fps * stretch / source_rate))
    wanted = round(count * rate / fps)
    samples = np.zeros((sound.channels, wanted), np.float32)
    kept = min(wanted, sound.samples.shape[1])
    samples[:, :kept] = sound.samples[:, :kept]
    return Soundtrack(samples, rate)
