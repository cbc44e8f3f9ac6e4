"""Image bytes from data URLs and from real downloads, every failure an InvalidParams."""

from __future__ import annotations

import base64
import socket
from collections.abc import Iterator

import pytest

from conch.config import Settings
from conch.domain.errors import InvalidParams
from conch.domain.request import ImageRole
from conch.media.fetch import fetch_image
from conch.media.images import ImageFormat, inspect_image
from conch.net import OutboundPolicy
from support.files_http import FileServer
from support.photos import FORMATS, data_url, encode, photo

pytestmark = pytest.mark.anyio

ROLE = ImageRole.LAST_FRAME
CAP = 20 * 1024 * 1024
OPEN = OutboundPolicy.from_settings(Settings(allow_private_urls=True))
STRICT = OutboundPolicy.from_settings(Settings(allow_private_urls=False, allowed_networks=[]))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def files() -> Iterator[FileServer]:
    with FileServer() as server:
        for fmt in ("jpeg", "png", "webp"):
            server.put(f"/astronaut.{fmt}", encode(photo("astronaut"), fmt), FORMATS[fmt])
        yield server


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


async def refusal(
    source: str, policy: OutboundPolicy = OPEN, *, max_bytes: int = CAP, deadline: float = 5.0
) -> str:
    with pytest.raises(InvalidParams) as refused:
        await fetch_image(source, ROLE, policy, max_bytes=max_bytes, deadline=deadline)
    assert refused.value.field == ROLE
    return refused.value.detail


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp"])
async def test_data_urls_are_decoded(fmt: str) -> None:
    data = encode(photo("astronaut"), fmt)
    assert await fetch_image(data_url(data, fmt), ROLE, OPEN, max_bytes=CAP, deadline=5) == data


async def test_the_declared_media_type_is_not_trusted() -> None:
    jpeg = encode(photo("coffee"))
    fetched = await fetch_image(data_url(jpeg, "png"), ROLE, OPEN, max_bytes=CAP, deadline=5)
    info = inspect_image(fetched, ROLE, max_bytes=CAP, max_pixels=40_000_000)
    assert info.format == ImageFormat.JPEG


async def test_line_wrapped_base64_is_accepted() -> None:
    jpeg = encode(photo("coffee"))
    source = "data:image/jpeg;base64," + base64.encodebytes(jpeg).decode()  # 76-column lines
    assert "\n" in source
    assert await fetch_image(source, ROLE, OPEN, max_bytes=CAP, deadline=5) == jpeg


async def test_media_type_parameters_are_allowed() -> None:
    jpeg = encode(photo("coffee"))
    source = "data:image/jpeg;name=coffee.jpg;base64," + base64.b64encode(jpeg).decode()
    assert await fetch_image(source, ROLE, OPEN, max_bytes=CAP, deadline=5) == jpeg


@pytest.mark.parametrize(
    "payload",
    [
        "QUJ-REV_",  # the URL-safe alphabet
        "QUJDRA",  # missing padding
        "QUJDRA==QUJD",  # data after the padding
        "QUJDRA===",  # too much padding
        "QUJD%3D",  # percent-encoding
    ],
)
async def test_base64_is_decoded_strictly(payload: str) -> None:
    detail = await refusal(f"data:image/png;base64,{payload}")
    assert detail.startswith("the data URL's base64 is invalid")


@pytest.mark.parametrize(
    "source",
    ["data:text/plain;base64,QUJD", "data:image/png,rawbytes", "data:image/png;base64", "data:,"],
)
async def test_data_urls_must_be_base64_images(source: str) -> None:
    assert (await refusal(source)).startswith("a data URL must look like data:image/")


async def test_an_oversized_data_url_is_refused_before_decoding() -> None:
    # not valid base64 at all: only the length can have refused it
    detail = await refusal("data:image/png;base64," + "!" * 1400, max_bytes=1000)
    assert detail == "image is 1050 bytes; at most 1000 bytes are allowed"
    exact = base64.b64encode(b"x" * 1000).decode()
    assert (
        len(
            await fetch_image(
                f"data:image/png;base64,{exact}", ROLE, OPEN, max_bytes=1000, deadline=5
            )
        )
        == 1000
    )
    over = base64.b64encode(b"x" * 1001).decode()
    assert (await refusal(f"data:image/png;base64,{over}", max_bytes=1000)).startswith(
        "image is 1001 bytes"
    )


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp"])
async def test_urls_are_downloaded_through_the_guard(files: FileServer, fmt: str) -> None:
    url = f"{files.base_url}/astronaut.{fmt}"
    assert (
        await fetch_image(url, ROLE, OPEN, max_bytes=CAP, deadline=5)
        == files.files[f"/astronaut.{fmt}"][0]
    )


async def test_a_private_address_is_refused_with_the_setting_that_allows_it(
    files: FileServer,
) -> None:
    detail = await refusal(f"{files.base_url}/astronaut.png", STRICT)
    assert detail == (
        "could not be downloaded: address 127.0.0.1 is loopback (127.0.0.0/8); "
        "set CONCH_ALLOW_PRIVATE_URLS or CONCH_ALLOWED_NETWORKS to allow it"
    )


async def test_download_failures_say_what_went_wrong(files: FileServer) -> None:
    png = f"{files.base_url}/astronaut.png"
    size = len(files.files["/astronaut.png"][0])
    assert await refusal(png, max_bytes=size - 1) == (
        f"could not be downloaded: the image is over the limit of {size - 1} bytes"
    )
    missing = await refusal(f"{files.base_url}/nothing.png")
    assert missing == "could not be downloaded: the server answered HTTP 404 Not Found"
    assert (await refusal("ftp://127.0.0.1/a.png")).startswith(
        "could not be downloaded: the URL scheme must be http or https"
    )


async def test_a_silent_server_is_cut_off_at_the_deadline(silent_port: int) -> None:
    detail = await refusal(f"http://127.0.0.1:{silent_port}/a.png", deadline=0.5)
    # The overall deadline's own words: not a connect failure, not httpx's read timeout
    # ("the server stopped answering"), which would mean some other timer had ended it.
    assert detail == "could not be downloaded: the exchange did not finish within 0.5 s"
