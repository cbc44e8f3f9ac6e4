"""Which status changes push: the events a callback receiver is told about.

A task's canonical life is ``queued -> preparing -> processing -> success | fail``, with
``preparing | processing -> queued`` when a runner dies or gives the task back. MiniMax
pushes only ``processing | success | failed``, so:

- entering ``processing`` (frames are being made) pushes ``processing``, the first time
  only: a task retried after a crash does not tell its receiver it started again;
- ``success`` pushes ``success``, and ``fail`` and ``cancelled`` push ``failed`` (MiniMax's
  push has no word for a cancel; the body says "cancelled"), once (they are terminal);
- ``queued`` (accepted, or put back after a crash) and ``preparing`` (a runner loading
  inputs) push nothing: the submit answer already said the task was accepted, and a
  receiver cannot act on a runner's bookkeeping.

So a receiver sees at most two pushes per task, in this order: ``processing`` (absent when
the task failed before making frames) and then ``success`` or ``failed``.
"""

from __future__ import annotations

import secrets
from enum import StrEnum

from conch.domain.task import TaskStatus


class PushEvent(StrEnum):
    """A push's event; the values are MiniMax's lowercase push statuses."""

    PROCESSING = "processing"
    SUCCESS = "success"
    FAILED = "failed"


_EVENTS: dict[TaskStatus, PushEvent] = {
    TaskStatus.PROCESSING: PushEvent.PROCESSING,
    TaskStatus.SUCCESS: PushEvent.SUCCESS,
    TaskStatus.FAIL: PushEvent.FAILED,
    TaskStatus.CANCELLED: PushEvent.FAILED,
}


def event_for(status: TaskStatus) -> PushEvent | None:
    """The event a change to ``status`` pushes, or None when it pushes nothing."""
    return _EVENTS.get(status)


WEBHOOK_ID_PREFIX = "msg_"


def new_webhook_id() -> str:
    """A fresh push id, ``msg_...`` (its ``webhook-id`` when signed): one per push, kept
    across its retries."""
    return WEBHOOK_ID_PREFIX + secrets.token_urlsafe(18)
