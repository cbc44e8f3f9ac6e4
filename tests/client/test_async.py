"""conch.AsyncClient: the same flows on asyncio, against the live conch."""

from __future__ import annotations

import asyncio
from pathlib import Path

import anyio
import httpx
import pytest

from client.helpers import FAST_POLL, FAST_RETRY, Frames
from conch import AsyncClient  # the package's lazy export
from conch.client import Client, ProviderError, State, Status
from conch.domain.errors import InvalidApiKey, InvalidParams
from conch.media.video import probe
from support.dialects import ChanjingCredentials, create_chanjing_key
from support.live import LiveConch


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_async_generate_in_chanjing_makes_a_decodable_video(
    conch: LiveConch, app: ChanjingCredentials, frames: Frames, tmp_path: Path
) -> None:
    seen: list[Status] = []
    client = AsyncClient(
        conch.base_url,
        dialect="chanjing",
        app_id=app.app_id,
        secret_key=app.secret_key,
        poll=FAST_POLL,
        retry=FAST_RETRY,
    )
    async with client:
        video = await client.generate(
            first_frame=frames.first,
            last_frame=frames.last,
            prompt="[Push in] a meadow",
            resolution="768P",
            output=tmp_path / "out.mp4",
            on_status=seen.append,
        )
        listed = await client.tasks(limit=50)
    assert seen[-1].state is State.SUCCEEDED
    assert video.task_id in {status.task_id for status in listed}
    decoded = probe(video.path)
    assert (decoded.width, decoded.height, decoded.frames) == (1366, 768, 144)


@pytest.mark.anyio
async def test_async_calls_run_side_by_side_and_refuse_like_the_blocking_ones(
    conch: LiveConch, key: str
) -> None:
    async with AsyncClient(conch.base_url, "sk-conch-bad", dialect="modelverse") as bad:
        with pytest.raises(InvalidApiKey):
            await bad.status("1")
    async with AsyncClient(conch.base_url, key, poll=FAST_POLL) as client:
        outcomes: list[BaseException] = []

        async def look(task_id: str) -> None:
            try:
                await client.status(task_id)
            except BaseException as error:
                outcomes.append(error)

        async with anyio.create_task_group() as group:
            for task_id in ("1", "2", "3"):
                group.start_soon(look, task_id)
    assert len(outcomes) == 3  # no such tasks: each refused on its own
    for refused in outcomes:  # MiniMax's 2013, read back as conch's own error
        assert isinstance(refused, InvalidParams) and isinstance(refused, ProviderError)
        assert refused.provider_code == 2013 and "no task" in refused.detail


@pytest.mark.anyio
async def test_chanjing_calls_side_by_side_share_one_token(
    conch: LiveConch, frames: Frames
) -> None:
    app = create_chanjing_key(conch, "side-by-side")
    submitter = Client(
        conch.base_url, dialect="chanjing", app_id=app.app_id, secret_key=app.secret_key
    )
    with submitter:
        task_id = submitter.submit(first_frame=frames.first, last_frame=frames.last)
    issued: list[str] = []

    async def count(request: httpx.Request) -> None:
        if request.url.path == "/open/v1/access_token":
            issued.append(request.url.path)

    client = AsyncClient(
        conch.base_url,
        dialect="chanjing",
        app_id=app.app_id,
        secret_key=app.secret_key,
        token_cache=False,  # this process's calls alone: no token from the submitter's file
        retry=FAST_RETRY,
    )
    client._http.event_hooks["request"].append(count)
    async with client:
        seen = await asyncio.gather(*(client.status(task_id) for _ in range(8)))
    assert [status.task_id for status in seen] == [task_id] * 8  # all eight succeeded
    assert issued == ["/open/v1/access_token"]  # one token, not eight killing each other
