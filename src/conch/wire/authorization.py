"""The credential in an ``Authorization`` header: ``Bearer <key>``, or the bare key as
Modelverse's examples send it."""

from __future__ import annotations


def key_from_header(value: str | None) -> str | None:
    """The key in an Authorization header, with or without the Bearer scheme."""
    if not value or not value.strip():
        return None
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() == "bearer":
        return rest.strip() or None
    return value.strip()
