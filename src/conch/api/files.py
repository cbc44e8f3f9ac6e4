"""Signed download links to conch itself, and the route that serves them.

A link names a file and an expiry time and carries an HMAC-SHA256 of both under the
installation's secret, so it needs no API key (a browser or a CDN can fetch it) and cannot
be altered or extended. Every retrieve issues a fresh link. The route serves HTTP Range
requests, so clients resume interrupted downloads.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse
from starlette.responses import Response

from conch.api.auth import Installation, services
from conch.domain.task import Task, TaskStatus
from conch.store.tasks import FileRecord

DOWNLOAD_PATH = "/downloads/{file_id}/{filename}"


def sign_link(secret: bytes, file_id: int, expires: int) -> str:
    """The signature of a link to ``file_id`` that expires at ``expires`` (unix seconds)."""
    message = f"{file_id}.{expires}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def signed_url(base_url: str, record: FileRecord, secret: bytes, ttl: int) -> str:
    """A signed link to ``record`` under ``base_url``, valid for ``ttl`` seconds from now."""
    expires = int(time.time() + ttl)
    path = DOWNLOAD_PATH.format(file_id=record.id, filename=record.filename)
    query = urlencode({"expires": expires, "signature": sign_link(secret, record.id, expires)})
    return f"{base_url.rstrip('/')}{path}?{query}"


def download_url(request: Request, record: FileRecord) -> str:
    """A fresh signed link to ``record``, under the address the caller used."""
    found = services(request)
    base = found.settings.public_url or str(request.base_url)
    return signed_url(base, record, found.secret, found.settings.download_ttl)


def video_urls(request: Request, task: Task) -> list[str]:
    """Fresh links to ``task``'s video: one once it succeeded, none before."""
    if task.status is not TaskStatus.SUCCESS or task.output is None:
        return []
    record = services(request).tasks.file(task.owner_id, task.output.file_id)
    return [download_url(request, record)]


def link_problem(
    secret: bytes, file_id: int, expires: int | None, signature: str | None
) -> str | None:
    """Why a link is refused, or None when it is good."""
    if expires is None or signature is None:
        return "the download link is incomplete: it needs its expires and signature parameters"
    expected = sign_link(secret, file_id, expires)
    # Bytes, not str: compare_digest refuses non-ASCII str (a crafted link would be a 500).
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        return "the download link's signature does not match; use the link exactly as issued"
    if expires < time.time():
        return "the download link has expired; retrieve the file again for a fresh link"
    return None


router = APIRouter(tags=["downloads"])


@router.get(DOWNLOAD_PATH, summary="Download by signed link")
def download(
    file_id: int,
    filename: str,
    found: Installation,
    expires: int | None = None,
    signature: str | None = None,
) -> Response:
    """The file behind a signed link; 403 when the link was altered or has expired."""
    problem = link_problem(found.secret, file_id, expires, signature)
    if problem is not None:
        return JSONResponse({"error": problem}, status_code=403)
    record = found.tasks.file_by_id(file_id)
    if record is None or record.filename != filename:
        return JSONResponse({"error": f"no file {file_id}"}, status_code=404)
    path = found.media.path(record.storage_key)
    return FileResponse(path, media_type="video/mp4", filename=filename)


router.add_api_route(DOWNLOAD_PATH, download, methods=["HEAD"], include_in_schema=False)
