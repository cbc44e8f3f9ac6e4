"""A stored video over HTTP, from any media store, with Range requests (RFC 9110 §14).

One range (``bytes=a-b``, ``a-``, ``-n``) is answered 206 with just those bytes, streamed a
chunk at a time from the store; a range past the end is answered 416 with the size. A Range
this server does not serve (another unit, several ranges, a malformed one) or an If-Range
that names an older version is ignored, as the RFC allows: the whole file, 200.
"""

from __future__ import annotations

import re
from email.utils import formatdate

from fastapi import Request
from starlette.responses import Response, StreamingResponse

from conch.media.storage import MediaStore, StoredFile, attachment

VIDEO_TYPE = "video/mp4"
_ONE_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


class Unsatisfiable(Exception):
    """The range starts past the end of the file."""


def stored_file_response(request: Request, media: MediaStore, key: str, filename: str) -> Response:
    """The file under ``key``, whole or the range the request asks for; HEAD: headers only."""
    stored = media.stat(key)
    headers = {
        "accept-ranges": "bytes",
        "content-disposition": attachment(filename),
        "etag": stored.etag,
        "last-modified": _http_date(stored),
    }
    try:
        wanted = requested_range(request, stored)
    except Unsatisfiable:
        return Response(status_code=416, headers={"content-range": f"bytes */{stored.size}"})
    start, stop = wanted or (0, stored.size)
    if wanted is not None:
        headers["content-range"] = f"bytes {start}-{stop - 1}/{stored.size}"
    headers["content-length"] = str(stop - start)
    status = 200 if wanted is None else 206
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers, media_type=VIDEO_TYPE)
    chunks = media.open_range(key, start, stop)
    return StreamingResponse(chunks, status_code=status, headers=headers, media_type=VIDEO_TYPE)


def requested_range(request: Request, stored: StoredFile) -> tuple[int, int] | None:
    """The (start, stop) of the one range to send, or None for the whole file."""
    header = request.headers.get("range")
    if_range = request.headers.get("if-range")
    if header is None or request.method not in ("GET", "HEAD"):
        return None
    if if_range is not None and if_range not in (stored.etag, _http_date(stored)):
        return None  # the client's copy is of another version: send this one whole
    return parse_range(header.strip(), stored.size)


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """(start, stop) of a single ``bytes=`` range over ``size`` bytes; None to send all;
    :class:`Unsatisfiable` when it starts at or past the end."""
    found = _ONE_RANGE.fullmatch(header)
    if found is None:
        return None  # another unit, several ranges, or malformed
    first, last = found.groups()
    if not first:  # "-n": the last n bytes
        if not last:
            return None
        if int(last) == 0 or size == 0:
            raise Unsatisfiable
        return max(0, size - int(last)), size
    start = int(first)
    if last and int(last) < start:
        return None  # invalid: ignored
    if start >= size:
        raise Unsatisfiable
    return start, min(size, int(last) + 1) if last else size


def _http_date(stored: StoredFile) -> str:
    return formatdate(stored.modified, usegmt=True)
