"""The frame strips in docs/images/ that docs/motion.md shows, made by the engine itself.

Each strip is a row of frames from one clip (or one frame per method), small JPEGs so that
the repository stays light. Run: ``.venv/bin/python benchmarks/motion_figures.py``; it
overwrites docs/images/motion-*.jpg.
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from _common import ROOT, photo
from _stills import EXTENSIONS, fitted
from camera import MOVES, render, views, world
from conch.domain.camera import CameraMove

Image = NDArray[np.uint8]

OUT = ROOT / "docs" / "images"
THUMB = (200, 112)
"""Each frame of a strip, in pixels."""
GAP = 4
"""Pixels of white between frames."""
FRAMES = 49
"""Frames per clip (2 s); a strip shows five of them, from first to last."""
SHOWN = (0, 12, 24, 36, 48)


def strip(frames: list[Image]) -> Image:
    """``frames`` side by side, each shrunk to :data:`THUMB`, white between them."""
    small = [cv2.resize(f, THUMB, interpolation=cv2.INTER_AREA) for f in frames]
    spacer = np.full((THUMB[1], GAP, 3), 255, np.uint8)
    row: list[Image] = []
    for frame in small:
        row += [np.asarray(frame, np.uint8), spacer]
    return np.concatenate(row[:-1], axis=1)


def save(name: str, rows: list[Image]) -> Path:
    """Rows of strips, one above the other, as docs/images/motion-``name``.jpg."""
    width = max(r.shape[1] for r in rows)
    padded = [
        np.pad(r, ((0, GAP), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows
    ]
    image = np.concatenate(padded, axis=0)[:-GAP]
    path = OUT / f"motion-{name}.jpg"
    cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 80])
    return path


def _pair(move: CameraMove) -> tuple[Image, Image]:
    first, last = views(world(photo("astronaut")), MOVES[move], [0.0, 1.0])
    return first, last


def commands_and_frames() -> list[Path]:
    """First + last: a command that names the frames' move, one that contradicts it, one
    the frames cannot show."""
    first, last = _pair(CameraMove.TRUCK_RIGHT)
    truck = [
        strip([render(prompt, first, last, FRAMES)[i] for i in SHOWN])
        for prompt in ("", "[右移]", "[Truck left]")
    ]
    near, far = _pair(CameraMove.PUSH_IN)
    push = [strip([render(p, near, far, FRAMES)[i] for i in SHOWN]) for p in ("", "[推进]")]
    same = [strip([render("[Push in]", first, first, FRAMES)[i] for i in SHOWN])]
    return [save("truck-commands", truck), save("push-commands", push), save("detour", same)]


def stills() -> list[Path]:
    """Image mode: every move begins on the picture; moves out look into its extension."""
    picture = fitted(photo("coffee"), 800, 450)
    rows = [
        strip([render(f"[{move.value}]", picture, None, FRAMES)[i] for i in SHOWN])
        for move in (
            CameraMove.PULL_OUT,
            CameraMove.ZOOM_OUT,
            CameraMove.TRUCK_RIGHT,
            CameraMove.TILT_UP,
        )
    ]
    return [save("stills", rows)]


def extensions() -> list[Path]:
    """The left edge of a pull out's last frame by each way of extending the picture, and
    the photo's true surroundings."""
    whole = fitted(photo("coffee"), 900, 506)
    margin = math.ceil(0.05 * 900 / 1.1)
    picture = np.ascontiguousarray(whole[margin:-margin, margin:-margin])
    crops = [method(picture, margin)[:, : 3 * margin] for method in EXTENSIONS.values()]
    crops.append(whole[:, : 3 * margin])
    spacer = np.full((whole.shape[0], GAP, 3), 255, np.uint8)
    row: list[Image] = []
    for crop in crops:
        row += [np.asarray(crop, np.uint8), spacer]
    return [save("extensions", [np.concatenate(row[:-1], axis=1)])]


def unrelated() -> list[Path]:
    """Two photos of different things: a dissolve, and the whip the engine draws."""
    first = fitted(photo("astronaut"), 800, 450)
    last = fitted(photo("coffee"), 800, 450)
    count = 145
    shown = (0, 60, 68, 72, 76, 84, 144)
    whip = render("", first, last, count)
    dissolve = [
        np.asarray(cv2.addWeighted(first, 1 - i / (count - 1), last, i / (count - 1), 0), np.uint8)
        for i in shown
    ]
    return [save("unrelated", [strip(dissolve), strip([whip[i] for i in shown])])]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for make in (commands_and_frames, stills, extensions, unrelated):
        for path in make():
            print(
                f"  wrote {path.relative_to(ROOT)} ({path.stat().st_size // 1024} KiB)", flush=True
            )


if __name__ == "__main__":
    main()
