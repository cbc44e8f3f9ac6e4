"""The MiniMax dialect's routes (wire format: :mod:`conch.wire.minimax`), also served under
``/minimax`` for QuickRouter. This module only translates."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse
from starlette.responses import Response

from conch import cancellation
from conch.api.auth import Installation, Owner, Submitter
from conch.api.files import download_url
from conch.api.ranges import stored_file_response
from conch.api.responses import JSONAnswer, model_answer
from conch.api.routing import (
    ID_DIGITS,
    TASK_REFERENCE,
    WRONG_METHOD,
    dialect_route,
    error_responses,
)
from conch.domain.errors import ConchError
from conch.store.tasks import FileRecord
from conch.submission import submit
from conch.wire import minimax as wire
from conch.wire.minimax import (
    OK,
    DeleteFileAnswer,
    DeleteFileBody,
    ErrorAnswer,
    FileObject,
    ListFilesAnswer,
    QueryAnswer,
    RetrieveAnswer,
    SubmitAnswer,
    VideoGenerationBody,
)


def render_error(error: ConchError, _request: Request) -> Response:
    # MiniMax answers business errors with HTTP 200; the code is in base_resp.
    return JSONAnswer(wire.ErrorAnswer(base_resp=wire.base_resp(error)).model_dump())


def file_object(request: Request, record: FileRecord) -> FileObject:
    """A file as the file calls describe it, with a fresh signed download link."""
    return FileObject(
        file_id=record.id,
        bytes=record.bytes,
        created_at=int(record.created_at),
        filename=record.filename,
        purpose=record.purpose,
        download_url=download_url(request, record),
    )


def router(tag: str = "MiniMax") -> APIRouter:
    """The MiniMax routes (included once at the root and once under ``/minimax``)."""
    # Some clients omit Content-Type (curl -d sends a form type): read their bodies as JSON.
    # Callers authenticate by a header no cross-site form can send, so no CSRF hole opens.
    routes = APIRouter(
        route_class=dialect_route(render_error),
        strict_content_type=False,
        tags=[tag],
        responses=error_responses(ErrorAnswer, WRONG_METHOD),
    )

    @routes.post(wire.SUBMIT_PATH, response_model=SubmitAnswer | ErrorAnswer)
    async def video_generation(
        body: VideoGenerationBody,
        owner: Submitter,
        found: Installation,
    ) -> SubmitAnswer:
        """Create a video task: text, first frame, first+last frame, or subject reference."""
        task = await submit(found, owner, body.to_request(), dialect=wire.DIALECT)
        return SubmitAnswer(task_id=task.task_id, base_resp=OK)

    # Width and height exist only on success: typed clients break on a null.
    @routes.get(
        wire.QUERY_PATH, response_model=QueryAnswer | ErrorAnswer, response_model_exclude_none=True
    )
    async def query_video_generation(
        task_id: Annotated[
            str,
            Query(
                description="The task_id that video_generation returned",
                json_schema_extra=TASK_REFERENCE,
            ),
        ],
        owner: Owner,
        found: Installation,
    ) -> Response:
        """A task's status; ``file_id`` and the video size once it succeeded."""
        # The hot path: one indexed read, inline (a thread's round trip costs more), and the
        # answer written straight from its typed model.
        answer = wire.query_answer(found.tasks.find(owner.id, task_id))
        return model_answer(answer, exclude_none=True)

    @routes.get(wire.RETRIEVE_PATH, response_model=RetrieveAnswer | ErrorAnswer)
    def retrieve(
        request: Request,
        file_id: Annotated[
            str, Query(description="The file_id from the query", json_schema_extra=ID_DIGITS)
        ],
        owner: Owner,
        found: Installation,
    ) -> RetrieveAnswer:
        """A file's details and a fresh signed download link."""
        record = found.tasks.file(owner.id, wire.file_id(file_id))
        return RetrieveAnswer(file=file_object(request, record), base_resp=OK)

    @routes.get(wire.LIST_FILES_PATH, response_model=ListFilesAnswer | ErrorAnswer)
    def list_files(
        request: Request,
        owner: Owner,
        found: Installation,
        purpose: Annotated[
            str | None, Query(description=f"{wire.VIDEO_PURPOSE}: the videos conch made")
        ] = None,
    ) -> ListFilesAnswer:
        """The key's files, newest first, each with a fresh signed download link."""
        wire.check_purpose(purpose)
        records = found.tasks.files(owner.id, limit=wire.MAX_LISTED_FILES)
        return ListFilesAnswer(
            files=[file_object(request, record) for record in records], base_resp=OK
        )

    @routes.post(wire.DELETE_FILE_PATH, response_model=DeleteFileAnswer | ErrorAnswer)
    def delete_file(body: DeleteFileBody, owner: Owner, found: Installation) -> DeleteFileAnswer:
        """Delete a file: its links stop working at once; its task still says Success."""
        wire.check_purpose(body.purpose)
        record = cancellation.delete_file(found, owner.id, wire.file_id(str(body.file_id)))
        return DeleteFileAnswer(file_id=record.id, base_resp=OK)

    @routes.get(
        wire.RETRIEVE_CONTENT_PATH,
        response_class=FileResponse,
        responses={
            200: {
                "model": ErrorAnswer,
                "description": "The video; or, as every MiniMax error, a JSON base_resp",
                "content": {"video/mp4": {}},
            }
        },
    )
    def retrieve_content(
        file_id: Annotated[
            str, Query(description="The file_id from the query", json_schema_extra=ID_DIGITS)
        ],
        owner: Owner,
        found: Installation,
        request: Request,
    ) -> Response:
        """The file's bytes (HTTP Range requests are served)."""
        record = found.tasks.file(owner.id, wire.file_id(file_id))
        return stored_file_response(request, found.media, record.storage_key, record.filename)

    return routes
