"""What the relay's steps share: the upstreams as the engine talks to them, the runner's
hooks, the call log and the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from conch.client.adapters import Adapter
from conch.config import Settings
from conch.engines.relay.calls import CallLog
from conch.engines.relay.transport import Session
from conch.engines.relay.upstreams import Endpoint
from conch.media.storage import MediaStore

Clock = Callable[[], float]
"""Unix seconds: deadlines are stored, so they outlive the process that set them."""


class Hooks(Protocol):
    """What the runner lends a relayed task."""

    def pause(self, seconds: float) -> None:
        """Wait; raise when the task must stop (taken away, cancelled, runner stopping)."""

    def processing(self) -> None:
        """The upstream is making the video."""

    def progress(self, fraction: float) -> None:
        """The upstream reported this fraction done."""


class ClaimGone(Exception):
    """The task is no longer this runner's: nothing more may be created for it."""


@dataclass
class Upstream:
    """One upstream as the engine talks to it: where, how, with which credentials."""

    endpoint: Endpoint
    adapter: Adapter
    session: Session

    @property
    def name(self) -> str:
        return self.endpoint.name


@dataclass(frozen=True)
class Relaying:
    """The engine's parts, as its steps use them."""

    settings: Settings
    calls: CallLog
    media: MediaStore
    upstream: Callable[[str], Upstream]
    now: Clock
