"""The relay's record of its upstream creates: one row per create it began.

A create is recorded twice, each in its own committed write: its *intent* before the
request leaves, and the upstream's task id as soon as an answer carries it. Whatever dies
in between (the process, the connection, the lease), the next runner finds the row and
knows a create may exist upstream: it resumes polling from the stored id, or looks for the
task in the upstream's list, and never sends the create again blindly.

States (``OPEN`` ones still have something to learn upstream)::

    intent ──► accepted ──► succeeded | failed
       │          ├──────► cancelled (the caller cancelled; the upstream cancelled its task)
       │          └──────► (task ended by conch: deadline, cancel) ─► late_success | failed
       ├──► refused       (certainly not created: the next upstream may be tried)
       └──► unconfirmed ─► accepted (found in the upstream's list) | given_up
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class CallState(StrEnum):
    INTENT = "intent"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    UNCONFIRMED = "unconfirmed"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    LATE_SUCCESS = "late_success"
    GIVEN_UP = "given_up"
    CANCELLED = "cancelled"

    @property
    def is_open(self) -> bool:
        """Whether the upstream may still hold a task this call made that is unaccounted."""
        return self in OPEN


OPEN = frozenset({CallState.INTENT, CallState.ACCEPTED, CallState.UNCONFIRMED})


@dataclass(frozen=True)
class RelayCall:
    """One create the relay began for a task."""

    id: int
    task_id: int
    attempt: int
    """The task's attempt number when the create began (failover is within one attempt)."""
    upstream: str
    dialect: str
    upstream_model: str
    state: CallState
    created_at: float
    """Unix seconds when the intent was recorded (the create left after it)."""
    upstream_task_id: str | None = None
    deadline_at: float | None = None
    """Unix seconds after which polling gives up (set when the create is accepted)."""
    outcome: str | None = None
    """For the operator: why the call ended as it did (never shown to callers)."""
    next_check_at: float | None = None
    """When the reconciling sweep looks at it next (a call whose task conch has ended)."""
    file_key: str | None = None
    """Where a late success's video was kept in the media store."""


class CallLog(Protocol):
    """Where the relay records its calls (the database: ``conch.store.relay_calls``)."""

    def calls(self, task_id: int) -> list[RelayCall]:
        """The task's calls, oldest first."""

    def intend(
        self, task_id: int, fence: int, attempt: int, upstream: str, dialect: str, model: str
    ) -> RelayCall | None:
        """Record the intent to create, committed; None (nothing written) when the claim
        ``(task_id, fence)`` no longer holds the task."""

    def accepted(self, call_id: int, upstream_task_id: str, deadline_at: float) -> bool:
        """Record the upstream's id, committed; False when another call already holds that
        upstream task (two tasks cannot adopt one upstream task)."""

    def settle(self, call_id: int, state: CallState, outcome: str | None) -> None:
        """Move the open call to ``state``, saying why (a closed call's record is final)."""

    def failed(self, call_id: int, outcome: str) -> bool:
        """The upstream task failed while a runner followed it: the call is ``failed``;
        False, and nothing written, when a cancel of it was taken meanwhile (its task was
        cancelled here: what the cancel learns is recorded instead)."""

    def recheck(self, call_id: int, next_check_at: float, outcome: str | None = None) -> None:
        """Ask the reconciling sweep to look again at ``next_check_at``."""

    def collected(self, call_id: int, file_key: str, outcome: str) -> None:
        """A late success was downloaded and kept under ``file_key``."""

    def cancelling(self, call_id: int, next_check_at: float) -> bool:
        """Take the sending of the call's upstream cancel: True, and its next look put at
        ``next_check_at``, when the call is open and was never looked at since its task
        ended (no ``next_check_at``); False when another runner or the sweep took it."""
