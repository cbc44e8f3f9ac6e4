"""Still pictures of a video, made from its MP4 on demand: a thumbnail (one frame) and a
spritesheet (frames at even steps, in a grid), each one JPEG.

Made when asked for rather than at success: they are asked for rarely, a 6 s video decodes
in well under a second, the runner's work stays the video alone, and there is nothing to
keep in step with the video (nor to remove when it is deleted).
"""

from __future__ import annotations

import io
from pathlib import Path

import av
import numpy as np
from PIL import Image

JPEG_QUALITY = 85
SHEET_COLUMNS = 5
SHEET_ROWS = 2
TILE_WIDTH = 256
"""Each spritesheet frame's width in pixels (its height keeps the video's aspect)."""


def thumbnail(video: Path) -> bytes:
    """The video's middle frame, full size, as a JPEG."""
    frames = _frames(video, 1)
    return _jpeg(Image.fromarray(frames[0]))


def spritesheet(video: Path) -> bytes:
    """``SHEET_COLUMNS`` x ``SHEET_ROWS`` frames at even steps through the video, left to
    right then top to bottom, each ``TILE_WIDTH`` wide, as one JPEG."""
    frames = _frames(video, SHEET_COLUMNS * SHEET_ROWS)
    height, width = frames[0].shape[:2]
    tile = (TILE_WIDTH, max(2, round(TILE_WIDTH * height / width)))
    sheet = Image.new("RGB", (tile[0] * SHEET_COLUMNS, tile[1] * SHEET_ROWS))
    for index, frame in enumerate(frames):
        row, column = divmod(index, SHEET_COLUMNS)
        small = Image.fromarray(frame).resize(tile, Image.Resampling.LANCZOS)
        sheet.paste(small, (column * tile[0], row * tile[1]))
    return _jpeg(sheet)


def _frames(video: Path, count: int) -> list[np.ndarray]:
    """``count`` RGB frames at even steps (one: the middle frame), decoded in one pass."""
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        total = stream.frames or sum(1 for _ in container.demux(stream) if _.size)
        container.seek(0)
        wanted = _steps(total, count)
        picked: list[np.ndarray] = []
        for index, frame in enumerate(container.decode(stream)):
            if index in wanted:
                picked.append(frame.to_ndarray(format="rgb24"))
                if len(picked) == len(wanted):
                    break
    if not picked:
        raise ValueError(f"{video} holds no video frames")
    while len(picked) < count:  # a file shorter than its header said: repeat the last
        picked.append(picked[-1])
    return picked


def _steps(total: int, count: int) -> set[int]:
    if count == 1:
        return {max(0, total // 2)}
    return {round(i * (total - 1) / (count - 1)) for i in range(count)}


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=JPEG_QUALITY)
    return out.getvalue()
