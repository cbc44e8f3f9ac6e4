"""What a push says, in the dialect its task was submitted in; and the bytes conch sends.

- MiniMax and QuickRouter: the query answer (:func:`conch.wire.minimax.push_body`) with the
  lowercase push status ``processing | success | failed`` in ``status``.
- Chanjing: its task object (:func:`conch.wire.chanjing.task_object`), with fresh links in
  ``output_url``.

A push renders the task as it was at the status change (the outbox's snapshot), not as it
is when the push is sent, so a late ``processing`` push never reports a finished video.

:func:`encode` is how every callback request's JSON (pushes and the handshake) becomes the
bytes that are sent and signed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conch.delivery.links import VideoLinks
from conch.domain.events import PushEvent
from conch.domain.task import Task
from conch.wire import chanjing, minimax
from conch.wire.encoding import json_bytes

PushBody = Callable[[Task, PushEvent, VideoLinks], dict[str, Any]]


def minimax_push(task: Task, event: PushEvent, _links: VideoLinks) -> dict[str, Any]:
    """MiniMax's push: the query-shaped body with the lowercase push status."""
    return minimax.push_body(task, event.value)


def chanjing_push(task: Task, _event: PushEvent, links: VideoLinks) -> dict[str, Any]:
    """Chanjing's push: its task object."""
    return chanjing.task_object(task, links.video_urls(task)).model_dump()


PUSH_BODIES: dict[str, PushBody] = {minimax.DIALECT: minimax_push, chanjing.DIALECT: chanjing_push}
"""Dialect -> its push body; a dialect without its own gets MiniMax's."""


def push_body(task: Task, event: PushEvent, links: VideoLinks) -> dict[str, Any]:
    """The push for ``event`` of ``task``, as its dialect's callers read it."""
    return PUSH_BODIES.get(task.dialect, minimax_push)(task, event, links)


def encode(body: dict[str, Any]) -> bytes:
    """JSON bytes as sent (and signed): compact, UTF-8 (escaped where it cannot be)."""
    return json_bytes(body)
