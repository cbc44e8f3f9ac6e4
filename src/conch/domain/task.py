"""A task's life: its status, the moves allowed between statuses, and the record itself.

The canonical statuses follow MiniMax's (``Preparing | Queueing | Processing | Success |
Fail``); each dialect renames them. A task is *queued* when accepted, *preparing* once a
runner has claimed it and is loading inputs, *processing* while frames are produced, and
ends *success* or *fail*.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class TaskStatus(StrEnum):
    """Canonical task statuses, as stored."""

    QUEUED = "queued"
    PREPARING = "preparing"
    PROCESSING = "processing"
    SUCCESS = "success"
    FAIL = "fail"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL

    @property
    def is_running(self) -> bool:
        """Held by a runner under a lease."""
        return self in _RUNNING

    def can_become(self, other: TaskStatus) -> bool:
        return other in _ALLOWED[self]

    @property
    def sources(self) -> frozenset[TaskStatus]:
        """The statuses that may change into this one."""
        return frozenset(status for status in TaskStatus if status.can_become(self))


_TERMINAL = frozenset({TaskStatus.SUCCESS, TaskStatus.FAIL})
_RUNNING = frozenset({TaskStatus.PREPARING, TaskStatus.PROCESSING})
_ALLOWED: dict[TaskStatus, frozenset[TaskStatus]] = {
    # A queued task can fail without running: its retries ran out while it waited.
    TaskStatus.QUEUED: frozenset({TaskStatus.PREPARING, TaskStatus.FAIL}),
    # A running task goes back to the queue when its runner dies or gives it up.
    TaskStatus.PREPARING: frozenset(
        {TaskStatus.PROCESSING, TaskStatus.QUEUED, TaskStatus.SUCCESS, TaskStatus.FAIL}
    ),
    TaskStatus.PROCESSING: frozenset({TaskStatus.QUEUED, TaskStatus.SUCCESS, TaskStatus.FAIL}),
    TaskStatus.SUCCESS: frozenset(),
    TaskStatus.FAIL: frozenset(),
}


@dataclass(frozen=True)
class TaskOutput:
    """The video a successful task produced."""

    file_id: int
    width: int
    height: int


@dataclass(frozen=True)
class Task:
    """A stored task, as every dialect reads it."""

    id: int
    uuid: str
    owner_id: int
    dialect: str
    status: TaskStatus
    model: str
    mode: str
    spec: dict[str, Any]
    inputs: dict[str, Any]
    created_at: float
    updated_at: float
    attempts: int
    progress: float
    started_at: float | None = None
    finished_at: float | None = None
    error_code: str | None = None
    error_message: str | None = None
    output: TaskOutput | None = None

    @property
    def task_id(self) -> str:
        """The id as callers see it: a string of digits."""
        return str(self.id)
