"""A task as the SDK reports it, whichever provider runs it.

Every dialect names its statuses its own way (``Queueing``, ``Pending``, ``Queued``...);
the SDK reads them back to conch's canonical statuses through the dialect's own table and
reports four states: ``queued | running | succeeded | failed``, with the provider's answer
attached unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from conch.domain.errors import ErrorCode
from conch.domain.task import TaskStatus


class State(StrEnum):
    """Where a task is, in the SDK's four words."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @property
    def is_terminal(self) -> bool:
        return self in (State.SUCCEEDED, State.FAILED)


STATES: Mapping[TaskStatus, State] = {
    TaskStatus.QUEUED: State.QUEUED,
    TaskStatus.PREPARING: State.RUNNING,
    TaskStatus.PROCESSING: State.RUNNING,
    TaskStatus.SUCCESS: State.SUCCEEDED,
    TaskStatus.FAIL: State.FAILED,
    TaskStatus.CANCELLED: State.FAILED,
}
"""Canonical status -> the SDK's state (a cancelled task failed: it will make no video)."""


def state_of(wire_status: str, names: Mapping[TaskStatus, str]) -> State:
    """The state a dialect's status name stands for (``names``: the dialect's own table).

    A name the table does not know (a provider added one) reads as running: the task is
    polled on rather than given up.
    """
    for status, name in names.items():
        if name == wire_status:
            return STATES[status]
    return State.RUNNING


@dataclass(frozen=True)
class Failure:
    """Why a task failed: the canonical reason when the provider gives a code, its words."""

    message: str
    reason: ErrorCode | None = None
    provider_code: int | str | None = None


@dataclass(frozen=True)
class Status:
    """One look at a task.

    ``provider_status`` is the provider's own status name and ``raw`` its whole answer.
    The video is named by ``file_id`` (MiniMax, QuickRouter) or ``video_urls`` (Modelverse,
    Chanjing: signed links, fresh at the time of this answer) once the task succeeded.
    What was asked for (``model``, ``prompt``, ...) and ``created_at`` (unix seconds) are
    filled in where the answer says them (task lists do), else None.
    """

    task_id: str
    state: State
    provider_status: str
    raw: Mapping[str, Any] = field(repr=False)
    file_id: str | None = None
    video_urls: tuple[str, ...] = ()
    width: int | None = None
    height: int | None = None
    progress: float | None = None
    failure: Failure | None = None
    model: str | None = None
    mode: str | None = None
    prompt: str | None = None
    duration: int | None = None
    resolution: str | None = None
    created_at: float | None = None

    @property
    def done(self) -> bool:
        return self.state.is_terminal


@dataclass(frozen=True)
class Page:
    """One page of a task list, newest first; ``next_after`` asks for the next page (None
    on the last)."""

    tasks: list[Status]
    next_after: str | None = None


@dataclass(frozen=True)
class Video:
    """A downloaded video."""

    task_id: str
    path: Path
    bytes: int
    width: int | None = None
    height: int | None = None
