"""Image to video: one picture, seen through a moving camera."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import cv2
import numpy as np

from conch.engines.motion.extension import extended, margin_for
from conch.engines.motion.geometry import Homography, is_identity


def render_views(
    source: np.ndarray, views: Sequence[Homography], reach: float = 0.0
) -> Iterator[np.ndarray]:
    """Yield ``source`` as each sampling map in ``views`` shows it, one frame at a time.

    Views may look up to ``reach`` pixels past the source's edges, where it is extended
    (:mod:`.extension`).
    """
    height, width = source.shape[:2]
    margin = margin_for(reach)
    canvas = extended(source, margin)
    onto_canvas = np.array([[1.0, 0.0, margin], [0.0, 1.0, margin], [0.0, 0.0, 1.0]])
    for view in views:
        if is_identity(view):
            # The pinned frame is the source itself, bit for bit.
            yield source
            continue
        yield cv2.warpPerspective(
            canvas,
            onto_canvas @ view,
            (width, height),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            # Views stay inside the canvas; replicating only steadies the last half pixel.
            borderMode=cv2.BORDER_REPLICATE,
        )
