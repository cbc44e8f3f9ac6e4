"""Reading a create that may come as JSON or as multipart/form-data (``/v1/videos``).

The official ``openai`` package always sends a create as multipart/form-data, nested fields
flattened with brackets (``metadata[first_frame_image]``, ``input_reference[image_url]``) and
an uploaded image as a file part. The form is parsed with the standard library's MIME
parser (``email``, which Python's documentation names for multipart/form-data since the
``cgi`` module left); the body has already passed the body-size limit. Bracketed names
become nested objects again, so both kinds of body reach one model.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import re
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from conch.api.json_body import declares_json
from conch.domain.errors import MalformedRequest

MULTIPART = "multipart/form-data"
_BRACKETED = re.compile(r"([^\[\]]+)\[([^\[\]]+)\]")


@dataclass(frozen=True)
class Upload:
    """A file part."""

    filename: str
    content_type: str
    data: bytes


@dataclass
class CreateForm:
    """A create's fields (nested where the names were bracketed) and its uploaded files."""

    fields: dict[str, Any] = field(default_factory=dict)
    files: dict[str, Upload] = field(default_factory=dict)


async def read_create(request: Request) -> CreateForm:
    """The body as fields and files, whichever of JSON and multipart it is."""
    content_type = request.headers.get("content-type", "")
    body = await request.body()
    if content_type.lower().startswith(MULTIPART):
        return parse_multipart(content_type, body)
    if not body.strip():
        raise MalformedRequest(
            f"the request body is empty; send a JSON object, or {MULTIPART} as the openai SDK does"
        )
    try:
        fields = json.loads(body)
    except ValueError as error:
        given = f" (Content-Type: {content_type})" if content_type else ""
        kind = (
            "is not valid JSON"
            if declares_json(content_type or "application/json")
            else "is neither JSON nor a form"
        )
        raise MalformedRequest(f"the request body {kind}{given}: {error}") from None
    if not isinstance(fields, dict):
        raise MalformedRequest("the request body must be a JSON object")
    return CreateForm(fields)


def parse_multipart(content_type: str, body: bytes) -> CreateForm:
    """A multipart/form-data body as fields and files."""
    head = b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n"
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise MalformedRequest(f"the {MULTIPART} body could not be read (is its boundary right?)")
    form = CreateForm()
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or not name:
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            form.files[name] = Upload(filename, part.get_content_type(), data)
        else:
            _put(form.fields, name, _text(name, data))
    return form


def _text(name: str, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedRequest(f"the form field {name!r} is not UTF-8 text") from None


def _put(fields: dict[str, Any], name: str, value: str) -> None:
    """``metadata[first_frame_image]`` goes in ``fields["metadata"]["first_frame_image"]``."""
    nested = _BRACKETED.fullmatch(name)
    if nested is None:
        fields[name] = value
        return
    outer = fields.setdefault(nested[1], {})
    if not isinstance(outer, dict):
        raise MalformedRequest(f"the form gives {nested[1]!r} both as a value and as an object")
    outer[nested[2]] = value
