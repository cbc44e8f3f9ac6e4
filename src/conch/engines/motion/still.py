"""Image to video: one picture, seen through a moving camera."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import cv2
import numpy as np

from conch.engines.motion.geometry import Homography, is_identity


def render_views(source: np.ndarray, views: Sequence[Homography]) -> Iterator[np.ndarray]:
    """Yield ``source`` as each sampling map in ``views`` shows it, one frame at a time."""
    height, width = source.shape[:2]
    for view in views:
        if is_identity(view):
            # The pinned frame is the source itself, bit for bit.
            yield source
            continue
        yield cv2.warpPerspective(
            source,
            view,
            (width, height),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            # Views stay inside the source; replicating only steadies the last half pixel.
            borderMode=cv2.BORDER_REPLICATE,
        )
