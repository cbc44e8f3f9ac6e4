"""The JSON response every conch route answers with (:func:`conch.wire.encoding.json_bytes`)."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from conch.wire.encoding import json_bytes


class JSONAnswer(JSONResponse):
    """FastAPI's JSON response, which still answers when a stored text cannot be UTF-8."""

    def render(self, content: Any) -> bytes:
        return json_bytes(content)
