"""Wire field rules every dialect shares.

A ``null`` field means "not given", so the canonical default applies (clients serialise
absent options as ``null``). A duration must be a whole number: JSON ``true`` is not one
second, although Python's ``bool`` is an ``int``.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator


def _whole_seconds(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"must be a whole number of seconds, not {str(value).lower()}")
    return value


Seconds = Annotated[int, BeforeValidator(_whole_seconds)]
"""A duration in whole seconds on the wire."""


def given(**fields: Any) -> dict[str, Any]:
    """``fields`` without the ones the caller left out or sent as ``null``."""
    return {name: value for name, value in fields.items() if value is not None}
