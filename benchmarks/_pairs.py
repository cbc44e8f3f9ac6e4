"""Which frame pairs share no geometry, and how much a transition mixes two pictures.
Section 4 of ``benchmarks/camera.py``."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator

import cv2
import numpy as np
import skimage.data
from numpy.typing import NDArray

from _common import read_clip
from conch.engines.motion.alignment import MIN_INLIERS, match, shares_geometry
from conch.engines.motion.whip import RIGHT, Whip

Image = NDArray[np.uint8]
Gray = NDArray[np.uint8]

SIZE = (640, 360)
"""The engine's working size for a 16:9 frame."""

UNRELATED_PHOTOS = (
    "astronaut",
    "coffee",
    "chelsea",
    "rocket",
    "camera",
    "immunohistochemistry",
    "hubble_deep_field",
    "coins",
    "page",
    "brick",
    "grass",
    "gravel",
)
"""Pictures of different things (``skimage.data``); a clip frame joins them."""


def _gray(picture: Image) -> Gray:
    """``picture`` cropped to 16:9, at the working size, in grey."""
    rgb = picture if picture.ndim == 3 else np.dstack([picture] * 3)
    height, width = rgb.shape[:2]
    crop_h = min(height, round(width * 9 / 16))
    crop_w = min(width, round(crop_h * 16 / 9))
    top, left = (height - crop_h) // 2, (width - crop_w) // 2
    cropped = rgb[top : top + crop_h, left : left + crop_w, :3]
    small = cv2.resize(np.ascontiguousarray(cropped), SIZE, interpolation=cv2.INTER_AREA)
    return np.asarray(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), np.uint8)


def _clip_pairs(clip: NDArray[np.uint8]) -> Iterator[tuple[str, Gray, Gray]]:
    for gap in (8, 24, 48, 96):
        for start in range(0, len(clip) - gap, 20):
            yield f"clip, {gap} frames apart", _gray(clip[start]), _gray(clip[start + gap])


def _move_pairs(moves: Iterable[tuple[Image, Image]]) -> Iterator[tuple[str, Gray, Gray]]:
    for first, last in moves:
        yield "camera moves over photos", _gray(first), _gray(last)


def _unrelated_pairs(clip_frame: Image) -> Iterator[tuple[str, Gray, Gray]]:
    pictures = {name: getattr(skimage.data, name)() for name in UNRELATED_PHOTOS}
    pictures["clip frame"] = clip_frame
    grays = {name: _gray(np.asarray(p, np.uint8)) for name, p in pictures.items()}
    for a, b in itertools.combinations(grays, 2):
        yield "different pictures", grays[a], grays[b]


def geometry_rule(moves: Iterable[tuple[Image, Image]]) -> list[list[object]]:
    """Agreeing feature matches per group of pairs, and how the rule reads each group:
    frames of the test clip, ``moves`` (first and last views of known camera moves) and
    pairs of different pictures."""
    clip = read_clip()
    groups: dict[str, list[tuple[int, bool]]] = {}
    pairs = itertools.chain(_clip_pairs(clip), _move_pairs(moves), _unrelated_pairs(clip[40]))
    for group, first, last in pairs:
        found = match(first, last)
        groups.setdefault(group, []).append((found.inliers, shares_geometry(found, first, last)))
    rows: list[list[object]] = []
    for group, readings in groups.items():
        inliers = [n for n, _ in readings]
        related = sum(shared for _, shared in readings)
        rows.append(
            [
                group,
                len(readings),
                min(inliers),
                int(np.median(inliers)),
                max(inliers),
                f"{related} related, {len(readings) - related} not",
            ]
        )
    rows.append(["(the rule: related from", MIN_INLIERS, "agreeing matches)", "", "", ""])
    return rows


MIXED = (0.2, 0.8)
"""A pixel that is between 20 % and 80 % one picture is a double exposure there."""


def mixing(count: int = 145, width: int = 1366, height: int = 768) -> list[list[object]]:
    """How much of a 6 s clip shows both pictures at once: a dissolve against the whip.

    The two pictures are flat 0 and 255 (their mix is read off each pixel's value); the whip
    is the engine's own, rightward.
    """
    dark = np.zeros((height, width, 3), np.uint8)
    light = np.full((height, width, 3), 255, np.uint8)
    whip_frames = Whip(dark, light, RIGHT).frames(count)
    fades = (
        np.full((height, width, 3), round(255 * i / (count - 1)), np.uint8) for i in range(count)
    )
    return [_mixing_row("dissolve", fades, count), _mixing_row("whip (chosen)", whip_frames, count)]


def _mixing_row(name: str, frames: Iterator[Image], count: int) -> list[object]:
    shares = []
    for frame in frames:
        share = frame[..., 0].astype(np.float32) / 255
        shares.append(float(((share > MIXED[0]) & (share < MIXED[1])).mean()))
    mixed_frames = sum(share > 0.01 for share in shares)
    return [
        name,
        f"{mixed_frames} of {count}",
        f"{100 * np.mean(shares):.1f}",
        f"{100 * max(shares):.0f}",
    ]
