"""The calls a blocking client builds from its own submit, wait and download."""

from __future__ import annotations

import abc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from conch.client.backoff import WAIT_TIMEOUT
from conch.client.effects import ByteProgress
from conch.client.flows import StatusListener
from conch.client.status import Status, Video
from conch.domain.request import GenerationRequest


class Composed(abc.ABC):
    """``resume`` and ``generate`` for :class:`conch.Client` and the in-process client, made
    of the ``submit``, ``wait`` and ``download`` each of them defines.

    (:class:`conch.AsyncClient` writes the two again: its calls are coroutines.)
    """

    @abc.abstractmethod
    def submit(self, request: GenerationRequest | None = None, /, **fields: Any) -> str:
        """Submit a task; its id."""

    @abc.abstractmethod
    def wait(
        self,
        task_id: str,
        *,
        timeout: float = WAIT_TIMEOUT,
        on_status: StatusListener | None = None,
    ) -> Status:
        """Wait for the task to succeed; its last status."""

    @abc.abstractmethod
    def download(
        self,
        task: str | Status,
        output: str | Path | None = None,
        *,
        on_progress: ByteProgress | None = None,
    ) -> Video:
        """The succeeded task's video, at ``output``."""

    def resume(
        self,
        task_id: str,
        output: str | Path | None = None,
        *,
        timeout: float = WAIT_TIMEOUT,
        on_status: StatusListener | None = None,
        on_progress: ByteProgress | None = None,
    ) -> Video:
        """Wait for a task submitted earlier (by anyone) and fetch its video."""
        status = self.wait(task_id, timeout=timeout, on_status=on_status)
        return self.download(status, output, on_progress=on_progress)

    def generate(
        self,
        request: GenerationRequest | None = None,
        /,
        *,
        output: str | Path | None = None,
        timeout: float = WAIT_TIMEOUT,
        on_submitted: Callable[[str], None] | None = None,
        on_status: StatusListener | None = None,
        on_progress: ByteProgress | None = None,
        **fields: Any,
    ) -> Video:
        """Submit, wait and fetch the video. ``on_submitted(task_id)`` is told the id first,
        so that a caller can keep it and :meth:`resume` if this process stops."""
        task_id = self.submit(request, **fields)
        if on_submitted is not None:
            on_submitted(task_id)
        return self.resume(
            task_id, output, timeout=timeout, on_status=on_status, on_progress=on_progress
        )
