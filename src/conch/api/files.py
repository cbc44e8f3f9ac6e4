"""The route that serves signed download links (made by :mod:`conch.media.links`), and the
links the dialects hand out. It serves HTTP Range requests, so clients resume interrupted
downloads. Refusals use conch's own error body (:mod:`conch.api.native`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from starlette.responses import Response

from conch.api.auth import Installation, services
from conch.api.native import error_response, render_error
from conch.api.routing import WRONG_METHOD, dialect_route, error_responses
from conch.domain.task import Task, TaskStatus
from conch.media.links import DOWNLOAD_PATH, link_base
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
    },
)


@router.get(DOWNLOAD_PATH, summary="Download by signed link", response_class=FileResponse)
def download(
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
    path = found.media.path(record.storage_key)
    return FileResponse(path, media_type="video/mp4", filename=filename)


router.add_api_route(DOWNLOAD_PATH, download, methods=["HEAD"], include_in_schema=False)
