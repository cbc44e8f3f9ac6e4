"""Getting an input image's bytes: from a data URL, or downloaded through the outbound guard.

Only the bytes are produced here; :mod:`conch.media.images` judges them. Every failure is
an ``InvalidParams`` naming the image's field, with the guard's reason in words, e.g.
``could not be downloaded: address 10.0.0.5 is private (10.0.0.0/8); set ...``.

Data URLs have the form :func:`conch.domain.request.check_image_reference` accepts (one rule,
checked at validation and again here): ``data:image/<type>[;param=value...];base64,<payload>``,
decoded strictly, with the standard base64 alphabet and correct padding. Line breaks and
spaces in the payload are dropped first: MIME encoders (Python's ``base64.encodebytes``,
``openssl base64``) wrap lines, and refusing their output would break clients for no
safety gain. The media type is not trusted (the content decides the format), and a payload
whose length alone shows it is over the byte cap is refused without being decoded. Decoding
runs in a worker thread: megabytes of base64 must not stall the event loop.
"""

from __future__ import annotations

import binascii
from functools import partial

import anyio

from conch.domain.errors import InvalidParams
from conch.domain.request import ImageRole, data_url_payload_start
from conch.media.images import describe_limit, oversize_detail
from conch.net import OutboundError, OutboundPolicy, TooLarge, fetch
from conch.net.safe_http import DEFAULT_MAX_REDIRECTS

_WHITESPACE = str.maketrans("", "", " \t\r\n")


async def fetch_image(
    source: str,
    role: ImageRole,
    policy: OutboundPolicy,
    *,
    max_bytes: int,
    deadline: float,
    max_redirects: int = DEFAULT_MAX_REDIRECTS,
) -> bytes:
    """The bytes of the image at ``source`` (a data URL or an http(s) URL), unjudged."""
    if source.startswith("data:"):
        decode = partial(decode_data_url, source, role, max_bytes=max_bytes)
        return await anyio.to_thread.run_sync(decode)
    try:
        return await fetch(
            source, policy, max_bytes=max_bytes, deadline=deadline, max_redirects=max_redirects
        )
    except TooLarge:
        raise InvalidParams(
            f"could not be downloaded: the image is over the limit of {describe_limit(max_bytes)}",
            field=role,
        ) from None
    except OutboundError as exc:
        raise InvalidParams(f"could not be downloaded: {exc.reason}", field=role) from None


def decode_data_url(source: str, role: ImageRole, *, max_bytes: int) -> bytes:
    """The payload of a base64 ``data:image/...`` URL, decoded strictly (blocking)."""
    payload = source[data_url_payload_start(source, role) :].translate(_WHITESPACE)
    size = _decoded_size(payload)
    if size > max_bytes:
        raise InvalidParams(oversize_detail(size, max_bytes), field=role)
    try:
        return binascii.a2b_base64(payload, strict_mode=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidParams(
            f"the data URL's base64 is invalid ({exc}); use the standard alphabet with '=' padding",
            field=role,
        ) from None


def _decoded_size(payload: str) -> int:
    """How many bytes ``payload`` would decode to, known from its length alone."""
    padding = len(payload) - len(payload.rstrip("="))
    return len(payload) * 3 // 4 - min(padding, 2)
