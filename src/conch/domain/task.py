"""A task's life: its status, the moves allowed between statuses, and the record itself.

The canonical statuses follow MiniMax's (``Preparing | Queueing | Processing | Success |
Fail``); each dialect renames them. A task is *queued* when accepted, *preparing* once a
runner has claimed it and is loading inputs, *processing* while frames are produced, and
ends *success* or *fail*, or *cancelled* when its owner cancels it before it ends.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from conch.domain.catalog import Mode
from conch.domain.request import ImageRole, TaskSpec


class TaskStatus(StrEnum):
    """Canonical task statuses, as stored."""

    QUEUED = "queued"
    PREPARING = "preparing"
    PROCESSING = "processing"
    SUCCESS = "success"
    FAIL = "fail"
    CANCELLED = "cancelled"

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


_TERMINAL = frozenset({TaskStatus.SUCCESS, TaskStatus.FAIL, TaskStatus.CANCELLED})
_RUNNING = frozenset({TaskStatus.PREPARING, TaskStatus.PROCESSING})
_ALLOWED: dict[TaskStatus, frozenset[TaskStatus]] = {
    # A queued task can fail without running: its retries ran out while it waited.
    TaskStatus.QUEUED: frozenset({TaskStatus.PREPARING, TaskStatus.FAIL, TaskStatus.CANCELLED}),
    # A running task goes back to the queue when its runner dies or gives it up.
    TaskStatus.PREPARING: frozenset(
        {
            TaskStatus.PROCESSING,
            TaskStatus.QUEUED,
            TaskStatus.SUCCESS,
            TaskStatus.FAIL,
            TaskStatus.CANCELLED,
        }
    ),
    TaskStatus.PROCESSING: frozenset(
        {TaskStatus.QUEUED, TaskStatus.SUCCESS, TaskStatus.FAIL, TaskStatus.CANCELLED}
    ),
    TaskStatus.SUCCESS: frozenset(),
    TaskStatus.FAIL: frozenset(),
    TaskStatus.CANCELLED: frozenset(),
}

CANCELLED_REASON = "cancelled"
"""The reason a cancelled task gives, where a dialect shows it as failed (``Fail``,
``Failure``, ``Error``), and its ``error_code`` as stored."""


@dataclass(frozen=True)
class TaskOutput:
    """The video a successful task produced (``audio_channels`` 0: silent)."""

    file_id: int
    width: int
    height: int
    audio_channels: int = 0
    seconds: int | None = None
    """Whole seconds delivered (None: recorded before conch kept them)."""


@dataclass(frozen=True)
class StoredImage:
    """An input image as a submit stored it: where its bytes are, and what they are."""

    key: str
    """The media store's key of the bytes."""
    format: str
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
    spec: TaskSpec
    """What was asked for, validated (data URLs shortened: their bytes are in ``inputs``)."""
    inputs: Mapping[ImageRole, StoredImage]
    created_at: float
    updated_at: float
    attempts: int
    progress: float
    started_at: float | None = None
    finished_at: float | None = None
    error_code: str | None = None
    error_message: str | None = None
    output: TaskOutput | None = None
    trace_id: str | None = None
    """The Trace-Id of the submit that made the task (its runner's log lines carry it)."""

    @property
    def task_id(self) -> str:
        """The id as callers see it: a string of digits."""
        return str(self.id)

    def to_json(self) -> dict[str, Any]:
        """The task as JSON (the outbox keeps one with each push)."""
        return {
            **dataclasses.asdict(self),
            "status": self.status.value,
            "spec": self.spec.to_json(),
            "inputs": {
                role.value: dataclasses.asdict(image) for role, image in self.inputs.items()
            },
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Task:
        """The task :meth:`to_json` made (earlier versions' extra keys are ignored)."""
        known = {field.name for field in dataclasses.fields(cls)}
        output = data.get("output")
        return cls(
            **{
                **{name: value for name, value in data.items() if name in known},
                "status": TaskStatus(data["status"]),
                "spec": TaskSpec.from_json(data["spec"]),
                "inputs": {
                    ImageRole(role): StoredImage(**image) for role, image in data["inputs"].items()
                },
                "output": TaskOutput(**output) if output else None,
            }
        )

    @property
    def failure_reason(self) -> str:
        """Why the task ended without a video ("" while it runs or once it succeeded); a
        cancelled task's reason is :data:`CANCELLED_REASON`."""
        if self.status is TaskStatus.CANCELLED:
            return CANCELLED_REASON
        if self.status is TaskStatus.FAIL:
            return self.error_message or ""
        return ""

    @property
    def model(self) -> str:
        return self.spec.model

    @property
    def mode(self) -> Mode:
        return self.spec.mode
