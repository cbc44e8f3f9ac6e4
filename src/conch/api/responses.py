"""The JSON response every conch route answers with (:func:`conch.wire.encoding.json_bytes`),
and :func:`model_answer`, the same answer written straight from a typed model."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel
from pydantic_core import PydanticSerializationError
from starlette.responses import Response

from conch.wire.encoding import json_bytes


class JSONAnswer(JSONResponse):
    """FastAPI's JSON response, which still answers when a stored text cannot be UTF-8."""

    def render(self, content: Any) -> bytes:
        return json_bytes(content)


def model_answer(model: BaseModel, *, exclude_none: bool = False) -> Response:
    """``model``'s fields (by alias, as FastAPI writes a response model) as a JSON answer,
    written by pydantic in one step: the same bytes as ``JSONAnswer(model.model_dump(
    by_alias=True))`` in a third of the time, for the hot status polls. A stored text that
    cannot be UTF-8 is written with :class:`JSONAnswer`'s escapes."""
    try:
        body = model.model_dump_json(by_alias=True, exclude_none=exclude_none)
    except PydanticSerializationError:
        return JSONAnswer(model.model_dump(by_alias=True, exclude_none=exclude_none))
    return Response(body, media_type=JSONAnswer.media_type)
