"""What the SDK tests share besides fixtures: fast polling, real frames, a client maker."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from conch.client import Backoff, Client, Retry
from support.dialects import ChanjingCredentials
from support.live import LiveConch

FAST_POLL = Backoff(first=0.1, factor=1.5, ceiling=0.5)
"""Polls for a conch on this machine, whose renders take a second or two."""

FAST_RETRY = Retry(attempts=5, backoff=Backoff(first=0.1, factor=2.0, ceiling=0.5))


@dataclass(frozen=True)
class Frames:
    """Real footage: a first and a last frame, and a photo, as files."""

    first: Path
    last: Path
    photo: Path


def sdk_client(
    conch: LiveConch, dialect: str, key: str, app: ChanjingCredentials | None = None
) -> Client:
    """A client of ``conch`` in ``dialect``, polling fast."""
    if dialect == "chanjing":
        assert app is not None
        return Client(
            conch.base_url,
            dialect=dialect,
            app_id=app.app_id,
            secret_key=app.secret_key,
            poll=FAST_POLL,
            retry=FAST_RETRY,
        )
    return Client(conch.base_url, key, dialect=dialect, poll=FAST_POLL, retry=FAST_RETRY)
