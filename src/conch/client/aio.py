"""The asyncio client: :class:`conch.AsyncClient`, the same calls as :class:`conch.Client`
run by the same flows."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any

import anyio
import httpx

from conch.client import flows
from conch.client.backoff import WAIT_TIMEOUT
from conch.client.common import ClientBase, request_from
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
from conch.client.transport import answer_of, call_kwargs, drive_async, http_options
from conch.domain.request import GenerationRequest


class AsyncClient(ClientBase[httpx.AsyncClient]):
    """:class:`conch.Client` for asyncio: every call is a coroutine.

    ::

        async with conch.AsyncClient("modelverse", "key") as client:
            video = await client.generate(model="MiniMax-Hailuo-02", first_frame="a.jpg",
                                          prompt="a harbour", output="out.mp4")

    Calls may run side by side on one client (``asyncio.gather``, task groups).
    """

    def _open_http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(**http_options(self.base_url))

    # -- the calls ------------------------------------------------------------------------

    async def submit(self, request: GenerationRequest | None = None, /, **fields: Any) -> str:
        """Submit a task; its id. Never retried: a second submit is a second task, paid.
        SubmitUnconfirmed when it was sent but its outcome is unknown: look for the task."""
        return await self.run(flows.submit(self.adapter, request_from(request, fields)))

    async def status(self, task_id: str) -> Status:
        """The task's status now."""
        read = partial(flows.status, self.adapter, task_id)
        return await self.run(flows.retrying(read, self.retry))

    async def wait(
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
        return await self.run(flow)

    async def download(
        self,
        task: str | Status,
        output: str | Path | None = None,
        *,
        on_progress: ByteProgress | None = None,
    ) -> Video:
        """Download a succeeded task's video to ``output`` (default ``<task_id>.mp4``)."""
        status = downloadable(task if isinstance(task, Status) else await self.status(task))
        path = Path(output) if output is not None else default_output(status.task_id)
        flow = download(self.adapter, status, path, retry=self.retry, on_progress=on_progress)
        return await self.run(flow)

    async def resume(
        self,
        task_id: str,
        output: str | Path | None = None,
        *,
        timeout: float = WAIT_TIMEOUT,
        on_status: StatusListener | None = None,
        on_progress: ByteProgress | None = None,
    ) -> Video:
        """Wait for a task submitted earlier (by anyone) and download its video."""
        status = await self.wait(task_id, timeout=timeout, on_status=on_status)
        return await self.download(status, output, on_progress=on_progress)

    async def generate(
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
        """Submit, wait and download; ``on_submitted(task_id)`` is told the id first."""
        task_id = await self.submit(request, **fields)
        if on_submitted is not None:
            on_submitted(task_id)
        return await self.resume(
            task_id, output, timeout=timeout, on_status=on_status, on_progress=on_progress
        )

    async def tasks(self, limit: int = 20) -> list[Status]:
        """The caller's latest tasks, newest first: the first page of :meth:`list`."""
        return (await self.list(limit)).tasks

    async def list(self, limit: int = 20, after: str | None = None) -> Page:
        """A page of the caller's tasks, newest first; see :meth:`conch.Client.list`."""
        listing = partial(flows.listing, self.adapter, limit, after)
        return await self.run(flows.retrying(listing, self.retry))

    async def cancel(self, task_id: str) -> Status:
        """Cancel a queued or running task; see :meth:`conch.Client.cancel`."""
        return await self.run(flows.cancel(self.adapter, task_id))

    # -- running flows --------------------------------------------------------------------

    async def run(self, flow: Flow[T]) -> T:
        """Perform a flow's effects until it ends; its result."""
        try:
            return await drive_async(flow, self._perform)
        except httpx.HTTPError as error:  # one the flow did not take: still conch's error
            raise flows.unreachable(error) from error

    async def _perform(self, effect: Effect) -> Answer | Fetched | None:
        if isinstance(effect, Call):
            return answer_of(await self._http.request(**call_kwargs(effect)))
        if isinstance(effect, Sleep):
            await anyio.sleep(effect.seconds)
            return None
        return await self._fetch(effect)

    async def _fetch(self, fetch: Fetch) -> Fetched:
        headers = {**fetch.headers, **fetch_headers(fetch.offset)}
        async with self._http.stream("GET", fetch.url, headers=headers) as response:
            plan = write_plan(response.status_code, response.headers, fetch.offset)
            if plan.start is None:
                return Fetched(response.status_code, False, fetch.offset, plan.total)
            size = plan.start
            # Chunks are small and local disks fast: written in the loop, not in a thread.
            with open_part(fetch.part, plan.start) as out:
                async for chunk in response.aiter_raw():
                    out.write(chunk)
                    size += len(chunk)
                    if fetch.on_progress is not None:
                        fetch.on_progress(size, plan.total)
        return Fetched(response.status_code, True, size, plan.total)

    # -- lifetime -------------------------------------------------------------------------

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
