"""Easing curves: how a camera move gathers speed and settles.

Every curve maps clip or segment time ``u`` in [0, 1] to a fraction of the move done. They
start and end with zero velocity, so consecutive segments join without a jolt.
"""

from __future__ import annotations

import math


def ease_in_out(u: float) -> float:
    """A sine ease: 0 at 0, 1 at 1, zero velocity at both ends."""
    u = min(1.0, max(0.0, u))
    return 0.5 - 0.5 * math.cos(math.pi * u)


def plateau(u: float, edge: float) -> float:
    """1 in the middle, easing to 0 over the first and last ``edge`` of ``u`` in [0, 1].

    Used for moves that must vanish at both ends of a clip (a residual move between two
    fixed frames, a shake that starts and stops).
    """
    if edge <= 0:
        return 1.0
    return min(ease_in_out(u / edge), ease_in_out((1.0 - u) / edge))


def settle(u: float, edge: float) -> float:
    """1 until the last ``edge`` of ``u`` in [0, 1], then easing to 0 at the end."""
    if edge <= 0 or u <= 1.0 - edge:
        return 1.0
    return ease_in_out((1.0 - u) / edge)


def clip_time(index: int, count: int) -> float:
    """The time of frame ``index`` of ``count`` in [0, 1]: the first frame 0, the last 1."""
    return index / (count - 1) if count > 1 else 0.0
