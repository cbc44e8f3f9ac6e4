"""Image to video, measured: first frames, how far each move goes, and where pixels past the
picture's edges should come from. Sections 2 and 3 of ``benchmarks/camera.py``."""

from __future__ import annotations

import math
from collections.abc import Callable

import cv2
import numpy as np
from numpy.typing import NDArray

from _common import photo, read_frames
from conch.domain.camera import CameraMove, CameraPlan, CameraSegment
from conch.domain.catalog import Resolution, frame_count, output_size
from conch.engines.motion.alignment import global_homography
from conch.engines.motion.extension import extended, margin_for
from conch.engines.motion.framing import STILL_REACH, Pin, framed_views, raw_views
from conch.engines.motion.geometry import Lens
from conch.engines.motion.reading import FrameMotion
from conch.engines.motion.timeline import CameraPath, plan_path
from conch.media.quality import psnr

Image = NDArray[np.uint8]
Matrix = NDArray[np.float64]

STILL_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")
FIRST_FRAME_DB = 40.0
SECONDS = 6


def fitted(picture: Image, width: int, height: int) -> Image:
    """``picture`` cropped to the frame's aspect and scaled to it, as the runner fits inputs."""
    h, w = picture.shape[:2]
    scale = max(width / w, height / h)
    size = (max(width, round(w * scale)), max(height, round(h * scale)))
    resized = cv2.resize(picture, size, interpolation=cv2.INTER_AREA)
    top, left = (size[1] - height) // 2, (size[0] - width) // 2
    return np.ascontiguousarray(resized[top : top + height, left : left + width])


def still_pictures(width: int, height: int) -> dict[str, Image]:
    """The test photos and a clip frame, fitted to a frame of ``width`` x ``height``."""
    found = {name: fitted(photo(name), width, height) for name in STILL_PHOTOS}
    found["clip frame 40"] = fitted(read_frames([40])[0], width, height)
    return found


Render = Callable[[str, Image, int], list[Image]]
"""The engine in image mode: a prompt, a picture and a frame count in, frames out."""


def first_frames(render: Render) -> list[list[object]]:
    """The first frame against the input for all 15 commands, at 768P, and what each move
    does over 6 s: the picture centre's travel, its scale, and the share of the last frame
    that lies past the picture (its extension)."""
    width, height = output_size(Resolution.R768, 16, 9)
    pictures = still_pictures(width, height)
    lens = Lens(width, height)
    rows: list[list[object]] = []
    for move in CameraMove:
        first_db, motions = [], []
        for picture in pictures.values():
            frames = render(f"[{move.value}]", picture, frame_count(SECONDS))
            first_db.append(psnr(frames[0], picture))
            motions.append(_measured(frames[0], frames[-1], lens))
        rows.append(_first_frame_row(move, first_db, motions, lens))
        print(f"  done: {move.value}", flush=True)
    return rows


def _measured(first: Image, last: Image, lens: Lens) -> FrameMotion:
    """The camera motion from ``first`` to ``last``, measured from the frames themselves."""
    gray = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in (first, last)]
    return FrameMotion.of(global_homography(gray[0], gray[1]), lens)


def _first_frame_row(
    move: CameraMove, first_db: list[float], motions: list[FrameMotion], lens: Lens
) -> list[object]:
    across = np.median([m.across for m in motions])
    up = np.median([m.up for m in motions])
    scale = np.median([m.scale for m in motions])
    invented = _invented_share(move, lens)
    worst = min(first_db)
    return [
        move.value,
        f"{worst:.1f}" if worst < 99 else "exact",
        "met" if worst >= FIRST_FRAME_DB else "NOT MET",
        f"{100 * across:+.1f}",
        f"{100 * up:+.1f}",
        f"{scale:.3f}",
        f"{100 * invented:.1f}",
    ]


def _path(move: CameraMove) -> CameraPath:
    return plan_path(CameraPlan((CameraSegment(frozenset([move])),)), float(SECONDS))


def _invented_share(move: CameraMove, lens: Lens) -> float:
    """Share of the last frame of ``move``'s image clip that lies past the picture."""
    reach = STILL_REACH * max(lens.width, lens.height)
    last = framed_views(_path(move), lens, frame_count(SECONDS), Pin.START, reach=reach)[-1]
    return _outside(last, lens)


def _outside(view: Matrix, lens: Lens) -> float:
    """Share of the frame that ``view`` samples from outside the picture."""
    ys, xs = np.mgrid[0 : lens.height : 8, 0 : lens.width : 8].astype(np.float64)
    points = np.stack([xs.ravel(), ys.ravel(), np.ones(xs.size)])
    mapped = view @ points
    x, y = mapped[0] / mapped[2], mapped[1] / mapped[2]
    inside = (x >= 0) & (x <= lens.width - 1) & (y >= 0) & (y <= lens.height - 1)
    return float(1.0 - inside.mean())


# --- Section 3: where pixels beyond the picture come from -----------------------------------

BAND = STILL_REACH
"""Depth of the band the extension methods are scored on: the reach a still's views have."""


def _flat(picture: Image, margin: int) -> Image:
    colour = [float(c) for c in picture.reshape(-1, 3).mean(axis=0)]
    return _border(picture, margin, cv2.BORDER_CONSTANT, colour)


def _border(picture: Image, margin: int, kind: int, colour: float | list[float] = 0.0) -> Image:
    padded = cv2.copyMakeBorder(picture, margin, margin, margin, margin, kind, value=colour)
    return np.asarray(padded, np.uint8)


def _inpainted(picture: Image, margin: int) -> Image:
    """OpenCV's Telea inpainting, run at a quarter size (at full size it takes seconds)."""
    canvas = _border(picture, margin, cv2.BORDER_CONSTANT)
    mask = np.full(canvas.shape[:2], 255, np.uint8)
    mask[margin:-margin, margin:-margin] = 0
    small = cv2.resize(canvas, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    small_mask = cv2.resize(mask, small.shape[1::-1], interpolation=cv2.INTER_NEAREST)
    filled = cv2.inpaint(small, small_mask, 5, cv2.INPAINT_TELEA)
    out = np.asarray(cv2.resize(filled, canvas.shape[1::-1], interpolation=cv2.INTER_LINEAR))
    out[margin:-margin, margin:-margin] = picture
    return out.astype(np.uint8)


EXTENSIONS: dict[str, Callable[[Image, int], Image]] = {
    "flat colour": _flat,
    "replicated edge": lambda p, m: _border(p, m, cv2.BORDER_REPLICATE),
    "mirror": lambda p, m: _border(p, m, cv2.BORDER_REFLECT_101),
    "inpainting (Telea)": _inpainted,
    "blurred mirror (chosen)": lambda p, m: np.asarray(extended(p, m), np.uint8),
}


def extension_methods() -> list[list[object]]:
    """Each method extends the centre of real photos; the band past the centre's edges is
    scored against the photos' true surroundings, and checked for a seam and for streaks."""
    scores: dict[str, list[tuple[float, float, float]]] = {name: [] for name in EXTENSIONS}
    for whole in still_pictures(960, 540).values():
        margin = math.ceil(BAND * whole.shape[1] / (1 + 2 * BAND))
        picture = np.ascontiguousarray(whole[margin:-margin, margin:-margin])
        band = np.ones(whole.shape[:2], bool)
        band[margin:-margin, margin:-margin] = False
        for name, method in EXTENSIONS.items():
            canvas = method(picture, margin)
            scores[name].append(
                (psnr(canvas[band], whole[band]), _seam(canvas, margin), _streaks(canvas, margin))
            )
    return [
        [name, *(f"{np.mean([s[k] for s in found]):.2f}" for k in range(3))]
        for name, found in scores.items()
    ]


def _seam(canvas: Image, margin: int) -> float:
    """The step across the picture's left and right edges, over the step between columns
    just inside it: about 1 for no seam, far above for a border."""
    c = canvas.astype(np.float64)
    rows = slice(margin, -margin)
    steps = []
    for edge, inward in ((margin, 1), (c.shape[1] - margin - 1, -1)):
        across = np.abs(c[rows, edge - inward] - c[rows, edge]).mean()
        inside = np.abs(c[rows, edge] - c[rows, edge + inward]).mean()
        steps.append(across / max(inside, 1e-6))
    return float(np.mean(steps))


def _streaks(canvas: Image, margin: int) -> float:
    """Change across the left band (away from the edge) over change along it, relative to
    the same ratio inside the picture: about 1 for texture like the picture's, near 0 for
    streaks (repeated edge pixels change only along the edge)."""
    c = canvas.astype(np.float64)
    rows = slice(margin, -margin)

    def ratio(region: NDArray[np.float64]) -> float:
        across = np.abs(np.diff(region, axis=1)).mean()
        along = np.abs(np.diff(region, axis=0)).mean()
        return float(across / max(along, 1e-6))

    return ratio(c[rows, 1:margin]) / ratio(c[rows, margin : 2 * margin])


def _warp(image: Image, view: Matrix, size: tuple[int, int]) -> Image:
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    return np.asarray(
        cv2.warpPerspective(image, view, size, flags=flags, borderMode=cv2.BORDER_REPLICATE),
        np.uint8,
    )


def _shift(dx: float, dy: float) -> Matrix:
    return np.array([[1.0, 0.0, dx], [0.0, 1.0, dy], [0.0, 0.0, 1.0]])


OUT_MOVES = (
    CameraMove.PULL_OUT,
    CameraMove.ZOOM_OUT,
    CameraMove.TRUCK_RIGHT,
    CameraMove.PAN_LEFT,
    CameraMove.PEDESTAL_UP,
    CameraMove.TILT_DOWN,
)
"""Moves whose views look past a still's edges."""


def reach_candidates() -> list[list[object]]:
    """For each move that looks past the edges, each way to find the pixels, over 6 s clips
    of real photos whose true surroundings are known: the first frame against the input,
    every 12th frame against the true view of the same move (quarter size), the share of
    the last frame that is invented, and how far the picture's centre travels or scales."""
    rows: list[list[object]] = []
    for move in OUT_MOVES:
        for name, views_of in _candidates().items():
            first_db, clip_db, invented, travel = _candidate_scores(move, views_of)
            rows.append([move.value, name, first_db, clip_db, invented, travel])
        print(f"  done: {move.value}", flush=True)
    return rows


ViewsOf = Callable[[CameraPath, Lens, int], tuple[list[Matrix], float]]
"""A candidate: the views of a clip, and how far past the edges they may look (pixels)."""


def _candidates() -> dict[str, ViewsOf]:
    def crop_start(path: CameraPath, lens: Lens, count: int) -> tuple[list[Matrix], float]:
        return framed_views(path, lens, count, Pin.END), 0.0

    def reaching(share: float) -> ViewsOf:
        def views(path: CameraPath, lens: Lens, count: int) -> tuple[list[Matrix], float]:
            reach = share * max(lens.width, lens.height)
            return framed_views(path, lens, count, Pin.START, reach=reach), reach

        return views

    return {
        "start on a crop (before)": crop_start,
        "zoom only": reaching(0.0),
        "extension, 2.5 %": reaching(0.025),
        f"extension, {100 * STILL_REACH:.0f} % (chosen)": reaching(STILL_REACH),
        "extension, 10 %": reaching(0.10),
    }


def _candidate_scores(move: CameraMove, views_of: ViewsOf) -> tuple[str, str, str, str]:
    first_db, clip_db, invented, travel = [], [], [], []
    count = frame_count(SECONDS)
    samples = [*range(0, count, 12), count - 1]
    for scene in still_pictures(1200, 675).values():
        lens = Lens(800, 450)
        size = (lens.width, lens.height)
        onto_scene = _shift((scene.shape[1] - lens.width) / 2, (scene.shape[0] - lens.height) / 2)
        picture = _warp(scene, onto_scene, size)
        path = _path(move)
        truth_views = raw_views(path, lens, count, Pin.START)
        views, reach = views_of(path, lens, count)
        margin = margin_for(reach)
        canvas = np.asarray(extended(picture, margin), np.uint8)
        frames = [_warp(canvas, _shift(margin, margin) @ views[i], size) for i in samples]
        truths = [_warp(scene, onto_scene @ truth_views[i], size) for i in samples]
        first_db.append(psnr(frames[0], picture))
        clip_db.append(
            np.mean([psnr(_quarter(f), _quarter(t)) for f, t in zip(frames, truths, strict=True)])
        )
        invented.append(_outside(views[-1], lens))
        travel.append(_travel(views[0], views[-1], lens))
    worst_first = min(first_db)
    return (
        "exact" if worst_first > 99 else f"{worst_first:.1f}",
        f"{np.mean(clip_db):.2f}",
        f"{100 * np.mean(invented):.1f}",
        str(np.median(travel, axis=0).round(3).tolist()),
    )


def _quarter(image: Image) -> Image:
    h, w = image.shape[:2]
    return np.asarray(cv2.resize(image, (w // 4, h // 4), interpolation=cv2.INTER_AREA), np.uint8)


def _travel(first: Matrix, last: Matrix, lens: Lens) -> tuple[float, float, float]:
    """The picture's motion from the first view to the last: across and up (shares of the
    frame, the camera's direction) and scale."""
    camera = np.linalg.inv(last) @ first  # first-frame pixels to last-frame pixels
    motion = FrameMotion.of(camera, lens)
    return motion.across, motion.up, motion.scale
