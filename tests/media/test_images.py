"""Images judged by content, decoded upright, fitted to frames: real photos from skimage."""

from __future__ import annotations

import struct
import zlib
from typing import Any

import numpy as np
import pytest
import skimage.data
from PIL import ExifTags, Image, ImageFile

from conch.domain.errors import InvalidParams
from conch.domain.request import ImageRole
from conch.media.images import ImageFormat, ImageInfo, decode_rgb, fit_frame, inspect_image
from support.photos import encode, photo

ROLE = ImageRole.FIRST_FRAME
LIMITS = {"max_bytes": 20 * 1024 * 1024, "max_pixels": 40_000_000}


def inspect(data: bytes, **limits: int) -> ImageInfo:
    return inspect_image(data, ROLE, **{**LIMITS, **limits})


def refusal(data: bytes, **limits: int) -> InvalidParams:
    with pytest.raises(InvalidParams) as refused:
        inspect(data, **limits)
    assert refused.value.field == ROLE
    return refused.value


def resized(name: str, width: int, height: int) -> np.ndarray:
    return np.asarray(
        Image.fromarray(photo(name)).resize((width, height), Image.Resampling.LANCZOS)
    )


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height``: a decompression bomb."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grey
    pixels = zlib.compress(b"\x00" * 4096, 9)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    error = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255**2 / error)) if error else float("inf")


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp"])
def test_each_allowed_format_is_known_by_its_content(fmt: str) -> None:
    assert inspect(encode(photo("astronaut"), fmt)) == ImageInfo(ImageFormat(fmt), 512, 512)
    assert inspect(encode(photo("rocket"), fmt)) == ImageInfo(ImageFormat(fmt), 640, 427)


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (encode(photo("astronaut"), "gif"), "GIF"),
        (encode(photo("astronaut"), "bmp"), "BMP"),
        (encode(photo("astronaut"), "tiff"), "TIFF"),
        (b"<!DOCTYPE html><html><body>Not found</body></html>", "text"),
        (b"", "empty"),
        (bytes(range(256)) * 8, "not a recognised image"),
    ],
)
def test_other_content_is_refused_naming_what_it_is(data: bytes, named: str) -> None:
    detail = refusal(data).detail
    assert detail.startswith(f"image content is {named}")
    assert "allowed formats are JPEG, PNG and WebP" in detail


def test_the_byte_cap_is_checked_first() -> None:
    data = encode(photo("astronaut"), "png")
    assert refusal(data, max_bytes=len(data) - 1).detail == (
        f"image is {len(data)} bytes; at most {len(data) - 1} bytes are allowed"
    )
    assert inspect(data, max_bytes=len(data)).format == ImageFormat.PNG
    assert "(20 MB)" in refusal(b"\xff\xd8\xff" + bytes(20 * 2**20)).detail


def test_a_short_side_of_exactly_300_is_refused() -> None:
    chelsea = photo("chelsea")
    assert chelsea.shape[:2] == (300, 451)
    assert refusal(encode(chelsea)).detail == "image is 451x300; its short side must be over 300 px"
    upright = np.ascontiguousarray(np.rot90(chelsea))
    assert refusal(encode(upright)).detail == "image is 300x451; its short side must be over 300 px"
    assert inspect(encode(resized("chelsea", 452, 301))) == ImageInfo(ImageFormat.JPEG, 452, 301)


@pytest.mark.parametrize(
    ("width", "height", "allowed"),
    [
        (760, 304, True),  # exactly 5:2
        (304, 760, True),  # exactly 2:5
        (752, 301, True),
        (761, 304, False),
        (760, 301, False),
        (301, 760, False),
    ],
)
def test_the_aspect_ratio_must_be_within_2_5_and_5_2(
    width: int, height: int, allowed: bool
) -> None:
    data = encode(resized("coffee", width, height), "png")
    if allowed:
        assert inspect(data) == ImageInfo(ImageFormat.PNG, width, height)
    else:
        assert refusal(data).detail.startswith(f"image is {width}x{height}, an aspect ratio of")
        assert "between 2:5 and 5:2" in refusal(data).detail


@pytest.fixture
def decoded(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """The sizes of the images whose pixels Pillow decodes, as it decodes them."""
    sizes: list[tuple[int, int]] = []
    load = ImageFile.ImageFile.load

    def recorded(image: ImageFile.ImageFile) -> Any:
        sizes.append(image.size)
        return load(image)

    monkeypatch.setattr(ImageFile.ImageFile, "load", recorded)
    return sizes


def test_a_decompression_bomb_is_refused_from_its_header(decoded: list[tuple[int, int]]) -> None:
    bomb = png_declaring(100_000, 100_000)  # 10 gigapixels in a few hundred bytes
    assert len(bomb) < 200
    assert "at most 40000000 pixels are allowed" in refusal(bomb).detail
    assert refusal(png_declaring(8000, 6000)).detail == (
        "image declares 8000x6000 = 48000000 pixels; at most 40000000 pixels are allowed"
    )
    assert decoded == []  # refused from the header: not one pixel was decoded
    inspect(encode(photo("coffee"), "png"))
    assert (600, 400) in decoded  # an image that passes is decoded (and seen decoded)


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_pillows_warning_threshold_counts_as_a_refusal() -> None:
    limit = Image.MAX_IMAGE_PIXELS
    assert limit is not None
    detail = refusal(png_declaring(10_000, 10_000), max_pixels=10**12).detail  # limit < 1e8 < 2x
    assert detail.endswith(f"at most {limit} pixels are allowed")


def test_the_pixel_limit_applies_to_real_photos_too() -> None:
    data = encode(photo("astronaut"))
    assert "512x512 = 262144 pixels" in refusal(data, max_pixels=262_143).detail
    assert inspect(data, max_pixels=262_144).width == 512


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp"])
def test_truncated_files_are_refused(fmt: str) -> None:
    data = encode(photo("astronaut"), fmt)
    detail = refusal(data[: len(data) // 2]).detail
    assert detail.startswith(f"image data is not a readable {fmt.upper()} file")


def exif_rotated(image: np.ndarray, orientation: int) -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    return encode(image, "jpeg", exif=exif, quality=90)


def test_exif_orientation_is_applied_before_judging_and_decoding() -> None:
    coffee = photo("coffee")  # 600x400 as stored
    plain = decode_rgb(encode(coffee, "jpeg", quality=90))
    turned = exif_rotated(coffee, 6)  # "rotate 90 degrees clockwise to display"
    assert inspect(turned) == ImageInfo(ImageFormat.JPEG, 400, 600)
    upright = decode_rgb(turned)
    assert upright.shape == (600, 400, 3)
    assert np.array_equal(upright, np.rot90(plain, k=-1))
    assert inspect(exif_rotated(coffee, 3)) == ImageInfo(ImageFormat.JPEG, 600, 400)


def test_decode_rgb_gives_rgb_uint8() -> None:
    for fmt in ("jpeg", "png", "webp"):
        rgb = decode_rgb(encode(photo("rocket"), fmt))
        assert (rgb.shape, rgb.dtype, rgb.flags.writeable) == ((427, 640, 3), np.uint8, True)
        assert psnr(rgb, photo("rocket")) > 30
    camera = skimage.data.camera()  # grey, 512x512
    assert np.array_equal(decode_rgb(encode(camera, "png"))[..., 1], camera)


def test_transparency_is_flattened_onto_white() -> None:
    astronaut = photo("astronaut")
    alpha = np.full(astronaut.shape[:2], 255, np.uint8)
    alpha[:, :256] = 0
    rgba = np.dstack([astronaut, alpha])
    for fmt in ("png", "webp"):
        rgb = decode_rgb(encode(rgba, fmt, lossless=True) if fmt == "webp" else encode(rgba, fmt))
        assert np.all(rgb[:, :256] == 255)
        assert np.array_equal(rgb[:, 256:], astronaut[:, 256:])


def test_sixteen_bit_grey_is_scaled_not_clipped() -> None:
    camera = skimage.data.camera()
    deep = camera.astype(np.uint16) * 257  # the same picture on 0..65535
    assert np.array_equal(decode_rgb(encode(deep, "png"))[..., 0], camera)


def test_unreadable_bytes_raise_invalid_params_from_decode_rgb() -> None:
    with pytest.raises(InvalidParams, match="not a readable"):
        decode_rgb(b"\xff\xd8\xff\xe0 broken")


def test_fit_frame_crops_the_centre_then_resizes() -> None:
    coffee = photo("coffee")  # 600x400
    square = fit_frame(coffee, 400, 400)
    assert psnr(square, coffee[:, 100:500]) > 45  # a crop, with no resize to speak of
    wide = fit_frame(photo("astronaut"), 1366, 768)
    assert (wide.shape, wide.dtype, wide.flags.writeable) == ((768, 1366, 3), np.uint8, True)
    reference = np.asarray(
        Image.fromarray(photo("astronaut")[112:400]).resize((1366, 768), Image.Resampling.BICUBIC)
    )
    assert psnr(wide, reference) > 30


def test_fit_frame_crops_a_last_frame_to_the_first_frames_aspect() -> None:
    chelsea = photo("chelsea")  # 451x300, landscape
    portrait = fit_frame(chelsea, 300, 400)
    assert portrait.shape == (400, 300, 3)
    centre = chelsea[:, 113:338]  # 225x300 is the 3:4 centre
    reference = np.asarray(Image.fromarray(centre).resize((300, 400), Image.Resampling.BICUBIC))
    assert psnr(portrait, reference) > 30


def test_fit_frame_shrinks_without_aliasing() -> None:
    rocket = photo("rocket")  # 640x427
    small = fit_frame(rocket, 320, 214)
    blurred = np.asarray(Image.fromarray(rocket).reduce(2))[:214, :320]
    assert psnr(small, blurred) > 28


def test_fit_frame_can_keep_more_of_the_top_of_a_portrait() -> None:
    portrait = np.zeros((300, 100, 3), np.uint8)
    portrait[:100] = 255  # the top third is white: the "face"
    centred = fit_frame(portrait, 160, 90)
    assert centred.max() == 0  # the centred 100x56 box lies below the face
    upper = fit_frame(portrait, 160, 90, vertical=1 / 3)
    assert upper.shape == (90, 160, 3)
    # The crop (100x56.25 of the 300 rows) starts 81.25 rows down: the face's last rows.
    assert upper[:20].min() == 255 and upper[-20:].max() == 0
    top = fit_frame(portrait, 160, 90, vertical=0)
    assert top.min() == 255  # the top 56 rows are all face
    landscape = np.zeros((100, 300, 3), np.uint8)
    landscape[:, 100:200] = 255
    assert fit_frame(landscape, 100, 100, vertical=0).min() == 255  # across: always centred


def test_fit_frame_returns_a_copy_at_the_same_size_and_refuses_bad_input() -> None:
    coffee = photo("coffee")
    same = fit_frame(coffee, 600, 400)
    assert np.array_equal(same, coffee) and same is not coffee
    with pytest.raises(ValueError, match="RGB uint8"):
        fit_frame(coffee[..., 0], 100, 100)
    with pytest.raises(ValueError, match="positive"):
        fit_frame(coffee, 0, 100)
    with pytest.raises(ValueError, match="vertical must be between 0 and 1"):
        fit_frame(coffee, 100, 100, vertical=1.5)
