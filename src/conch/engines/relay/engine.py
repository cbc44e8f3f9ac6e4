"""The relay engine: an upstream makes the video, conch re-hosts it.

:meth:`RelayEngine.relay` runs one claimed task to a video on local disk:

1. **Resume or create.** A call left open by an earlier attempt (the process died, the
   lease was lost) is resumed: polled from its stored upstream id, or looked for in the
   upstream's task list when its create never got a clear answer. Otherwise the task's
   upstreams are tried in order (:mod:`conch.engines.relay.create`), falling over to the
   next only when a create certainly did not happen.
2. **Follow** the upstream task (:mod:`conch.engines.relay.follow`) until it ends or its
   deadline passes.
3. **Re-host** its video (:mod:`conch.engines.relay.rehost`): streamed, capped, resumed,
   its header checked. The runner then publishes it to the media store and records the
   task's success, so every dialect's link points at conch.

Its calls are recorded through a :class:`~conch.engines.relay.calls.CallLog` (the database);
the runner gives it :class:`Hooks` for waiting (where a cancelled task stops) and progress.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from conch.config import Settings
from conch.domain.task import Task
from conch.engines.relay.calls import CallLog, CallState, RelayCall
from conch.engines.relay.cancel import cancel_upstream
from conch.engines.relay.context import Clock, Hooks, Relaying, Upstream
from conch.engines.relay.create import create_or_resume
from conch.engines.relay.follow import follow
from conch.engines.relay.rehost import rehost
from conch.engines.relay.transport import Session
from conch.engines.relay.upstreams import endpoint
from conch.media.storage import MediaStore
from conch.media.video import VideoHeader
from conch.net import OutboundPolicy

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Relayed:
    """A relayed task's video, on local disk and checked."""

    call: RelayCall
    path: Path
    header: VideoHeader


class RelayEngine:
    """Passes tasks to upstreams; one instance serves every relayed task of a process (its
    HTTP connections are pooled per upstream and shared by the threads that run tasks)."""

    name: ClassVar[str] = "relay"

    def __init__(
        self,
        settings: Settings,
        calls: CallLog,
        media: MediaStore,
        *,
        policy: OutboundPolicy | None = None,
        now: Clock = time.time,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.calls = calls
        self.media = media
        self.policy = policy or OutboundPolicy.from_settings(settings)
        self.now = now
        self.environ = environ
        self._upstreams: dict[str, Upstream] = {}
        self._lock = threading.Lock()
        self.parts = Relaying(settings, calls, media, self.upstream, now)

    def upstream(self, name: str) -> Upstream:
        """The upstream ``name``, its adapter and HTTP session made on first use."""
        with self._lock:
            if name not in self._upstreams:
                resolved = endpoint(name, self.settings)
                session = Session(
                    resolved.base_url, self.policy, max_bytes=resolved.terms.max_bytes
                )
                adapter = resolved.adapter(self.environ)
                self._upstreams[name] = Upstream(resolved, adapter, session)
            return self._upstreams[name]

    def relay(self, task: Task, fence: int, hooks: Hooks, output: Path) -> Relayed:
        """Run ``task`` upstream and download its video to ``output``."""
        call = create_or_resume(self.parts, task, fence, hooks)
        upstream = self.upstream(call.upstream)
        status = follow(self.parts, upstream, call, hooks)
        header = rehost(upstream, status, output, hooks.pause)
        log.info(
            "task %s: %s task %s re-hosted (%s %dx%d, %d frames)",
            task.id,
            call.upstream,
            call.upstream_task_id,
            header.codec,
            header.width,
            header.height,
            header.frames,
        )
        return Relayed(call, output, header)

    def succeeded(self, relayed: Relayed) -> None:
        """The task's success is recorded: the call is settled."""
        self.calls.settle(relayed.call.id, CallState.SUCCEEDED, "re-hosted by conch")

    def cancelled(self, task_id: int) -> None:
        """The task was cancelled here: its open upstream task is cancelled there, once,
        where the upstream has a call for it (:mod:`conch.engines.relay.cancel`)."""
        for call in self.calls.calls(task_id):
            if not call.state.is_open or call.upstream_task_id is None:
                continue  # a create without an answer: the sweep looks for it
            first_look = self.now() + self.settings.relay_recheck_after
            if self.calls.cancelling(call.id, first_look):
                cancel_upstream(self.parts, call, time.sleep)

    def close(self) -> None:
        with self._lock:
            for upstream in self._upstreams.values():
                upstream.session.close()
            self._upstreams.clear()
