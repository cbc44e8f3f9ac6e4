"""JSON as conch sends it: compact UTF-8, and never a failure to encode.

Submits refuse text that is not valid Unicode, but a value stored before that check (an
unpaired surrogate from ``"\\ud800"``) cannot be written as UTF-8. Rather than fail every
answer, page and push that holds it, such a document is written with ASCII escapes, which
every JSON reader reads back to the same string.
"""

from __future__ import annotations

import json
from typing import Any


def json_bytes(content: Any) -> bytes:
    """``content`` as compact JSON bytes."""
    try:
        return json.dumps(
            content, ensure_ascii=False, allow_nan=False, separators=(",", ":")
        ).encode()
    except UnicodeEncodeError:
        return json.dumps(
            content, ensure_ascii=True, allow_nan=False, separators=(",", ":")
        ).encode()
