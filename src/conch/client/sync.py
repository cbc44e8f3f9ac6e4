"""The blocking client: :class:`conch.Client`."""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from conch.client import flows
from conch.client.backoff import WAIT_TIMEOUT
from conch.client.common import ClientBase, request_from
from conch.client.composed import Composed
from conch.client.download import (
    default_output,
    download,
    downloadable,
    fetch_headers,
    open_part,
    write_plan,
)
from conch.client.effects import Answer, ByteProgress, Call, Effect, Fetch, Fetched, Flow, Sleep, T
from conch.client.flows import StatusListener
from conch.client.status import Page, Status, Video
from conch.client.transport import answer_of, call_kwargs, drive, http_options
from conch.domain.request import GenerationRequest


class Client(ClientBase[httpx.Client], Composed):
    """Submit, poll and download videos from conch or MiniMax, QuickRouter, Modelverse or
    Chanjing, blocking.

    ``base_url`` is a URL or a preset's name (``"minimax-global"``, ``"local"``, ...; see
    :mod:`conch.client.presets`), which also picks the dialect. Chanjing takes ``app_id``
    and ``secret_key``; the other dialects an ``api_key``::

        with conch.Client("http://127.0.0.1:8000", "sk-conch-...") as client:
            video = client.generate(first_frame="a.jpg", last_frame="b.png",
                                    prompt="[Push in] a harbour", output="out.mp4")

    The other options (``poll``, ``retry``, ``token_cache``, ``http``): see
    :class:`conch.client.common.ClientBase`. A client may be shared by threads.
    """

    def _open_http(self) -> httpx.Client:
        return httpx.Client(**http_options(self.base_url))

    # -- the calls ------------------------------------------------------------------------

    def submit(self, request: GenerationRequest | None = None, /, **fields: Any) -> str:
        """Submit a task; its id. Never retried: a second submit is a second task, paid.
        SubmitUnconfirmed when it was sent but its outcome is unknown: look for the task."""
        return self.run(flows.submit(self.adapter, request_from(request, fields)))

    def status(self, task_id: str) -> Status:
        """The task's status now."""
        return self.run(flows.retrying(partial(flows.status, self.adapter, task_id), self.retry))

    def wait(
        self,
        task_id: str,
        *,
        timeout: float = WAIT_TIMEOUT,
        on_status: StatusListener | None = None,
    ) -> Status:
        """Poll until the task succeeds; TaskFailed or WaitTimeout otherwise."""
        flow = flows.wait(
            self.adapter,
            task_id,
            timeout=timeout,
            poll=self.poll,
            retry=self.retry,
            on_status=on_status,
        )
        return self.run(flow)

    def download(
        self,
        task: str | Status,
        output: str | Path | None = None,
        *,
        on_progress: ByteProgress | None = None,
    ) -> Video:
        """Download a succeeded task's video to ``output`` (default ``<task_id>.mp4``)."""
        status = downloadable(task if isinstance(task, Status) else self.status(task))
        path = Path(output) if output is not None else default_output(status.task_id)
        flow = download(self.adapter, status, path, retry=self.retry, on_progress=on_progress)
        return self.run(flow)

    def tasks(self, limit: int = 20) -> list[Status]:
        """The caller's latest tasks, newest first: the first page of :meth:`list`."""
        return self.list(limit).tasks

    def list(self, limit: int = 20, after: str | None = None) -> Page:
        """A page of the caller's tasks, newest first; pass its ``next_after`` as ``after``
        for the next. Chanjing has a list call; MiniMax, QuickRouter and Modelverse have
        none, and use conch's own (Unsupported when the server is not conch)."""
        listing = partial(flows.listing, self.adapter, limit, after)
        return self.run(flows.retrying(listing, self.retry))

    def cancel(self, task_id: str) -> Status:
        """Cancel a queued or running task; its status after (failed, reason "cancelled").
        InvalidParams when it had ended. Dialects with no cancel call use conch's own."""
        return self.run(flows.cancel(self.adapter, task_id))

    # -- running flows --------------------------------------------------------------------

    def run(self, flow: Flow[T]) -> T:
        """Perform a flow's effects until it ends; its result."""
        try:
            return drive(flow, self._perform)
        except httpx.HTTPError as error:  # one the flow did not take: still conch's error
            raise flows.unreachable(error) from error

    def _perform(self, effect: Effect) -> Answer | Fetched | None:
        if isinstance(effect, Call):
            return answer_of(self._http.request(**call_kwargs(effect)))
        if isinstance(effect, Sleep):
            time.sleep(effect.seconds)
            return None
        return self._fetch(effect)

    def _fetch(self, fetch: Fetch) -> Fetched:
        headers = {**fetch.headers, **fetch_headers(fetch.offset)}
        with self._http.stream("GET", fetch.url, headers=headers) as response:
            plan = write_plan(response.status_code, response.headers, fetch.offset)
            if plan.start is None:
                return Fetched(response.status_code, False, fetch.offset, plan.total)
            size = plan.start
            with open_part(fetch.part, plan.start) as out:
                for chunk in response.iter_raw():
                    out.write(chunk)
                    size += len(chunk)
                    if fetch.on_progress is not None:
                        fetch.on_progress(size, plan.total)
        return Fetched(response.status_code, True, size, plan.total)

    # -- lifetime -------------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
