"""The route that serves signed download links (made by :mod:`conch.media.links`), and the
links the dialects hand out. It serves HTTP Range requests, so clients resume interrupted
downloads. Refusals use conch's own error body (:mod:`conch.api.native`).

With ``CONCH_S3_PRESIGNED_DOWNLOADS`` a checked link redirects to a presigned URL of the
bucket instead, valid no longer than the link itself."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from starlette.responses import RedirectResponse, Response

from conch.api.auth import Installation, services
from conch.api.native import error_response, render_error
from conch.api.ranges import stored_file_response
from conch.api.routing import WRONG_METHOD, dialect_route, error_responses
from conch.domain.errors import NotFound
from conch.domain.task import Task, TaskStatus
from conch.media.links import DOWNLOAD_PATH, link_base
from conch.services import Services
from conch.store.tasks import FileRecord
from conch.wire.native import ErrorAnswer

INVALID_LINK = "invalid_link"
"""The code of a link that was altered, is incomplete or has expired."""


def download_url(request: Request, record: FileRecord) -> str:
    """A fresh signed link to ``record`` (it starts at :func:`link_base`)."""
    found = services(request)
    return found.links.url(link_base(found.settings), record.id, record.filename)


def video_urls(request: Request, task: Task) -> list[str]:
    """Fresh links to ``task``'s video: one once it succeeded, none before (nor once its
    owner deleted the file)."""
    if task.status is not TaskStatus.SUCCESS or task.output is None:
        return []
    record = services(request).tasks.file_by_id(task.output.file_id)
    return [] if record is None else [download_url(request, record)]


VIDEO: dict[str, Any] = {"content": {"video/mp4": {}}}
router = APIRouter(
    tags=["downloads"],
    route_class=dialect_route(render_error),
    responses={
        **error_responses(ErrorAnswer, 400, 403, 404, WRONG_METHOD),
        200: {"description": "The video", **VIDEO},
        206: {"description": "Part of the video (a Range request)", **VIDEO},
        307: {"description": "The video's presigned URL (CONCH_S3_PRESIGNED_DOWNLOADS)"},
        416: {"description": "The Range starts past the end of the video"},
    },
)


@router.get(DOWNLOAD_PATH, summary="Download by signed link", response_class=FileResponse)
def download(
    request: Request,
    file_id: int,
    filename: str,
    found: Installation,
    expires: int | None = None,
    signature: str | None = None,
) -> Response:
    """The file behind a signed link; 403 when the link was altered or has expired."""
    problem = found.links.problem(file_id, expires, signature)
    if problem is not None:
        return error_response(403, INVALID_LINK, problem)
    record = found.tasks.file_by_id(file_id)
    if record is None or record.filename != filename:
        return error_response(404, "not_found", f"no file {file_id} named {filename!r}")
    presigned = found.media.presigned_url(record.storage_key, filename, _left(found, expires))
    if presigned is not None:
        return RedirectResponse(presigned, status_code=307)
    try:
        return stored_file_response(request, found.media, record.storage_key, filename)
    except NotFound as missing:
        return error_response(404, "not_found", missing.message())


def _left(found: Services, expires: int | None) -> int:
    """Seconds a checked link has left: no presigned URL outlives the link it stands for."""
    if expires is None:
        return found.settings.download_ttl
    return max(1, expires - int(found.links.clock()))


router.add_api_route(DOWNLOAD_PATH, download, methods=["HEAD"], include_in_schema=False)
