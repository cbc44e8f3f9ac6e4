"""Naming request fields the way each dialect's callers spell them.

Errors name fields canonically (MiniMax's spelling, ``ConchError.field``). A dialect whose
callers spell fields differently (``input.first_frame_image``, ``start_frame``) holds one
table from canonical to wire names and renders every error message through
:func:`wire_message`, so a caller reads the names it sent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from conch.domain.errors import ConchError
from conch.domain.request import ImageRole
from conch.domain.task import Task

FieldNames = Mapping[str, str]
"""Canonical field name -> the dialect's wire name; names not in it are shown as they are."""

# Canonical names that can be told apart from ordinary words inside a sentence ("it requires
# first_frame_image"): only these are respelled in an error's free text.
_IDENTIFIERS = (*(role.value for role in ImageRole), "callback_url")


def wire_field(error: ConchError, names: FieldNames) -> str | None:
    """The field an error concerns, as the dialect spells it."""
    return names.get(error.field, error.field) if error.field else None


def wire_message(error: ConchError, names: FieldNames) -> str:
    """The error's full message with every field named as the dialect spells it."""
    detail = respell(error.detail, names)
    return ConchError(detail, field=wire_field(error, names)).message()


def respell(text: str, names: FieldNames) -> str:
    """``text`` (e.g. a stored failure reason) with field names as the dialect spells them."""
    for canonical in _IDENTIFIERS:
        wire = names.get(canonical)
        if wire and wire != canonical:
            text = _word(canonical).sub(wire, text)
    return text


def _word(name: str) -> re.Pattern[str]:
    # Not part of a longer identifier, a URL or a path.
    return re.compile(rf"(?<![\w./:-]){re.escape(name)}(?![\w/-])(?!\.\w)")


def failure(task: Task, names: FieldNames) -> str:
    """Why ``task`` failed, in the dialect's spelling; "" unless it failed or was cancelled
    (whose reason is "cancelled")."""
    return respell(task.failure_reason, names)
