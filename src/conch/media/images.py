"""Input images: judged by their content, decoded to RGB, and fitted to a frame.

The rules are MiniMax's: JPEG, PNG or WebP (told apart by their bytes, never by a URL or a
header), at most ``max_image_bytes``, short side over 300 px, aspect ratio within 2:5..5:2,
all judged after the EXIF orientation is applied. Decompression bombs are refused from the
header's dimensions before any pixel is decoded; Pillow's own bomb limit counts as a refusal
too (its warning threshold as well as its error). Animated images count by their first frame.

Every refusal is an :class:`InvalidParams` naming the image's field (its :class:`ImageRole`).
"""

from __future__ import annotations

import io
import re
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from PIL import ExifTags, Image, ImageOps

from conch.domain.errors import InvalidParams
from conch.domain.request import ImageRole

MIN_SHORT_SIDE = 300
"""The short side must be over this many pixels (exactly 300 is refused)."""
ASPECT_LIMIT = (5, 2)
"""The long side may be at most 5/2 of the short side."""
BACKGROUND = (255, 255, 255)
"""Transparent pixels are flattened onto white: most transparent inputs (logos, product
cut-outs) were drawn to sit on a white page."""

# Pillow raises these, depending on the decoder, for data it cannot read.
_UNREADABLE = (OSError, ValueError, SyntaxError, EOFError, IndexError, struct.error)
_SWAPPED_ORIENTATIONS = {5, 6, 7, 8}  # EXIF orientations that turn the picture a quarter


class ImageFormat(StrEnum):
    """An accepted image format; the value doubles as a file extension."""

    JPEG = "jpeg"
    PNG = "png"
    WEBP = "webp"


_PILLOW_NAMES = {ImageFormat.JPEG: "JPEG", ImageFormat.PNG: "PNG", ImageFormat.WEBP: "WEBP"}
_OTHER_SIGNATURES = {
    b"GIF8": "GIF",
    b"BM": "BMP",
    b"II*\x00": "TIFF",
    b"MM\x00*": "TIFF",
    b"\x00\x00\x01\x00": "ICO",
    b"%PDF": "PDF",
    b"<": "text (SVG or HTML?)",
}


@dataclass(frozen=True)
class ImageInfo:
    """What :func:`inspect_image` found: the format and the upright size in pixels."""

    format: ImageFormat
    width: int
    height: int


def inspect_image(data: bytes, role: ImageRole, *, max_bytes: int, max_pixels: int) -> ImageInfo:
    """Judge ``data`` against every image rule; raise ``InvalidParams(field=role)``.

    The pixels are decoded once at the end (bounded by ``max_pixels``) to prove the file
    is whole, so that a truncated upload is refused here and not in the middle of a render.
    """
    if len(data) > max_bytes:
        raise InvalidParams(oversize_detail(len(data), max_bytes), field=role)
    image_format = sniff_format(data)
    if image_format is None:
        raise InvalidParams(
            f"image content is {_describe_unknown(data)}; allowed formats are JPEG, PNG and "
            "WebP (judged by content, not by name or Content-Type)",
            field=role,
        )
    with _opened(data, role, image_format, max_pixels) as image:
        width, height = _upright_size(image)
        _check_dimensions(width, height, role)
        _load(image, role, image_format)
    return ImageInfo(image_format, width, height)


def decode_rgb(data: bytes) -> np.ndarray:
    """``data`` as an upright, writable RGB uint8 array (H x W x 3), alpha flattened on white.

    Meant for bytes :func:`inspect_image` accepted; anything unreadable raises
    ``InvalidParams`` without a field.
    """
    with _opened(data, None, None, _pillow_limit()) as image:
        _load(image, None, None)
        upright = ImageOps.exif_transpose(image)
    return np.ascontiguousarray(_to_rgb(upright))


def fit_frame(image: np.ndarray, width: int, height: int, vertical: float = 0.5) -> np.ndarray:
    """``image`` cropped to the aspect of ``width`` x ``height``, then resized to it.

    The crop is centred across; down the picture, ``vertical`` is the share of the excess
    height dropped above the crop (0.5: centred; 1/3 keeps more of the top, where a face
    usually is in a portrait). Lanczos resampling over the exact (sub-pixel) crop box:
    sharp when enlarging, and properly low-passed when shrinking, with no rounding drift in
    the aspect.
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected an RGB uint8 image, got {image.dtype} {image.shape}")
    if width <= 0 or height <= 0:
        raise ValueError(f"the frame size must be positive, got {width}x{height}")
    if not 0.0 <= vertical <= 1.0:
        raise ValueError(f"vertical must be between 0 and 1, got {vertical}")
    source_height, source_width = image.shape[:2]
    if (source_width, source_height) == (width, height):
        return image.copy()
    box = _crop_box(source_width, source_height, width / height, vertical)
    resized = Image.fromarray(image).resize((width, height), Image.Resampling.LANCZOS, box=box)
    return np.array(resized)  # a writable copy: engines draw on frames


def sniff_format(data: bytes) -> ImageFormat | None:
    """The accepted format ``data``'s leading bytes announce, or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return ImageFormat.JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return ImageFormat.PNG
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ImageFormat.WEBP
    return None


def oversize_detail(size: int, max_bytes: int) -> str:
    """The refusal for an image of ``size`` bytes over ``max_bytes``."""
    return f"image is {size} bytes; at most {describe_limit(max_bytes)} are allowed"


def describe_limit(max_bytes: int) -> str:
    """A byte limit for people: ``20971520 bytes (20 MB)``."""
    megabytes = f" ({max_bytes / 2**20:.3g} MB)" if max_bytes >= 2**20 else ""
    return f"{max_bytes} bytes{megabytes}"


def _describe_unknown(data: bytes) -> str:
    if not data:
        return "empty"
    if data[4:8] == b"ftyp":
        return "HEIF/AVIF"
    for signature, name in _OTHER_SIGNATURES.items():
        if data.lstrip().startswith(signature):
            return name
    return "not a recognised image"


@contextmanager
def _opened(
    data: bytes, role: ImageRole | None, image_format: ImageFormat | None, max_pixels: int
) -> Iterator[Image.Image]:
    """The image with only its header read, its declared size checked against the limits."""
    formats = [_PILLOW_NAMES[image_format]] if image_format else list(_PILLOW_NAMES.values())
    limit = min(max_pixels, _pillow_limit())
    try:
        image = Image.open(io.BytesIO(data), formats=formats)
    except Image.DecompressionBombError as bomb:  # Pillow's own check, on the header's size
        raise InvalidParams(_bomb_detail(bomb, limit), field=role) from None
    except _UNREADABLE as exc:
        raise InvalidParams(_unreadable_detail(image_format, exc), field=role) from None
    with image:
        _check_pixels(image, role, limit)
        yield image


def _bomb_detail(bomb: Image.DecompressionBombError, limit: int) -> str:
    # Pillow refuses before the size is exposed; its message carries the declared count.
    declared = re.search(r"\((\d+) pixels\)", str(bomb))
    count = declared.group(1) if declared else f"over {2 * _pillow_limit()}"
    return f"image declares {count} pixels; at most {limit} pixels are allowed"


def _pillow_limit() -> int:
    # Pillow only warns between MAX_IMAGE_PIXELS and twice that; conch refuses from the first.
    return Image.MAX_IMAGE_PIXELS or 2**63


def _check_pixels(image: Image.Image, role: ImageRole | None, limit: int) -> None:
    width, height = image.size
    if width * height > limit:
        raise InvalidParams(
            f"image declares {width}x{height} = {width * height} pixels; at most {limit} "
            "pixels are allowed",
            field=role,
        )


def _upright_size(image: Image.Image) -> tuple[int, int]:
    width, height = image.size
    try:
        orientation = image.getexif().get(ExifTags.Base.Orientation)
    except _UNREADABLE:  # a broken EXIF block is ignored, as viewers ignore it
        orientation = None
    return (height, width) if orientation in _SWAPPED_ORIENTATIONS else (width, height)


def _check_dimensions(width: int, height: int, role: ImageRole) -> None:
    short_side, long_side = sorted((width, height))
    if short_side <= MIN_SHORT_SIDE:
        raise InvalidParams(
            f"image is {width}x{height}; its short side must be over {MIN_SHORT_SIDE} px",
            field=role,
        )
    most, least = ASPECT_LIMIT
    if long_side * least > short_side * most:
        raise InvalidParams(
            f"image is {width}x{height}, an aspect ratio of {width / height:.3g}; it must be "
            f"between {least}:{most} and {most}:{least} (0.4 to 2.5)",
            field=role,
        )


def _load(image: Image.Image, role: ImageRole | None, image_format: ImageFormat | None) -> None:
    try:
        image.load()
    except Image.DecompressionBombError as bomb:
        raise InvalidParams(_bomb_detail(bomb, _pillow_limit()), field=role) from None
    except _UNREADABLE as exc:
        raise InvalidParams(_unreadable_detail(image_format, exc), field=role) from None


def _unreadable_detail(image_format: ImageFormat | None, exc: Exception) -> str:
    kind = _PILLOW_NAMES[image_format] if image_format else "JPEG, PNG or WebP"
    return f"image data is not a readable {kind} file ({exc})"


def _to_rgb(image: Image.Image) -> np.ndarray:
    if image.mode.startswith("I"):  # 16/32-bit grey: scale, as Pillow's convert clips at 255
        grey = (np.asarray(image).astype(np.uint32).clip(0, 65535) >> 8).astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        background = Image.new("RGBA", image.size, (*BACKGROUND, 255))
        return np.array(Image.alpha_composite(background, image.convert("RGBA")).convert("RGB"))
    return np.array(image.convert("RGB"))  # np.array, not asarray: callers may write to it


def _crop_box(
    width: int, height: int, aspect: float, vertical: float
) -> tuple[float, float, float, float]:
    """The largest box of ``aspect`` (width / height) inside ``width`` x ``height``: centred
    across, ``vertical`` of the excess height above it."""
    if width / height > aspect:
        crop_width = height * aspect
        left = (width - crop_width) / 2
        return (left, 0.0, left + crop_width, float(height))
    crop_height = width / aspect
    top = (height - crop_height) * vertical
    return (0.0, top, float(width), top + crop_height)
