"""The SDK where things go wrong for real: a task that fails, a server killed and restarted
while a client waits, a link that expired, a download cut in the middle."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from client.cutting_proxy import CuttingProxy
from client.helpers import Frames, sdk_client
from conch.client import DownloadFailed, State, Status, TaskFailed, Video
from conch.client.download import part_path
from conch.domain.errors import ErrorCode
from conch.media.video import probe
from conch.store.tables import tasks
from support.live import SERVER_ENV, LiveConch, task_store


def test_a_failed_task_raises_task_failed_with_the_providers_reason(
    tmp_path: Path, frames: Frames
) -> None:
    data = tmp_path / "data"
    no_runners = LiveConch(data, {**SERVER_ENV, "CONCH_WORKERS": "0"})
    key = no_runners.create_key()
    with no_runners, sdk_client(no_runners, "minimax", key) as client:
        task_id = client.submit(model="I2V-01", first_frame=frames.photo)
    # The accepted input vanishes from storage: rendering it fails, for good.
    with task_store(data).engine.begin() as conn:
        inputs = conn.execute(select(tasks.c.inputs).where(tasks.c.id == int(task_id))).scalar_one()
    (stored,) = inputs.values()
    (data / "media" / stored["key"]).unlink()
    runners = LiveConch(data, {**SERVER_ENV, "CONCH_MAX_ATTEMPTS": "1"})
    with runners, sdk_client(runners, "minimax", key) as minimax:
        with pytest.raises(TaskFailed) as failed:
            minimax.wait(task_id, timeout=120)
        with pytest.raises(TaskFailed):
            minimax.download(task_id, tmp_path / "never.mp4")
        with sdk_client(runners, "modelverse", key) as modelverse:
            as_modelverse = modelverse.status(task_id)
    error = failed.value
    assert error.task_id == task_id and error.provider_code == 1000
    assert error.reason is ErrorCode.INTERNAL
    assert "FileNotFoundError" in str(error) and "gave up after 1 attempts" in str(error)
    assert error.status.state is State.FAILED and error.status.provider_status == "Fail"
    assert as_modelverse.state is State.FAILED and as_modelverse.provider_status == "Failure"
    assert as_modelverse.failure is not None
    assert "FileNotFoundError" in as_modelverse.failure.message
    assert not (tmp_path / "never.mp4").exists()


def test_a_client_waiting_through_a_kill_9_and_a_restart_gets_its_video(
    tmp_path: Path, frames: Frames
) -> None:
    data = tmp_path / "data"
    first = LiveConch(data, {**SERVER_ENV, "CONCH_WORKERS": "0"})  # accepts, runs nothing
    key = first.create_key()
    seen: list[Status] = []
    outcome: list[Video | BaseException] = []
    with first:
        client = sdk_client(first, "minimax", key)
        task_id = client.submit(model="I2V-01", first_frame=frames.photo)

        def wait_and_download() -> None:
            try:
                outcome.append(client.resume(task_id, tmp_path / "out.mp4", on_status=seen.append))
            except BaseException as error:
                outcome.append(error)

        waiter = threading.Thread(target=wait_and_download)
        waiter.start()
        _until(lambda: len(seen) >= 2)  # the client is polling
        first.kill9()
    time.sleep(1.5)  # the client keeps asking a dead server
    restarted = LiveConch(data, SERVER_ENV)
    restarted.port = first.port  # the same address, now with a runner
    with restarted, client:
        waiter.join(120)
    (video,) = outcome
    assert isinstance(video, Video), video
    assert seen[0].state is State.QUEUED and seen[-1].state is State.SUCCEEDED
    assert probe(video.path).frames == 144


def _until(condition: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


# -- links that expire, downloads that are cut ------------------------------------------


@pytest.fixture(scope="module")
def flaky(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveConch, CuttingProxy]]:
    """A conch whose links live one second and point at a proxy that can cut downloads."""
    server = LiveConch(tmp_path_factory.mktemp("flaky"), {**SERVER_ENV, "CONCH_DOWNLOAD_TTL": "1"})
    with CuttingProxy(server.base_url, cuts=0) as proxy:
        server.env["CONCH_PUBLIC_URL"] = proxy.base_url
        with server:
            yield server, proxy


@pytest.fixture(scope="module")
def flaky_key(flaky: tuple[LiveConch, CuttingProxy]) -> str:
    return flaky[0].create_key("flaky")


@pytest.fixture(scope="module")
def finished(flaky: tuple[LiveConch, CuttingProxy], flaky_key: str, frames: Frames) -> str:
    """A task that succeeded on the flaky server."""
    with sdk_client(flaky[0], "minimax", flaky_key) as client:
        task_id = client.submit(model="I2V-01", first_frame=frames.photo)
        client.wait(task_id, timeout=120)
    return task_id


def _stored_video(server: LiveConch, task_id: str) -> bytes:
    (video,) = (server.data_dir / "media" / "outputs").glob(f"{task_id}.*.mp4")
    return video.read_bytes()


def test_an_expired_link_is_replaced_by_a_fresh_one(
    flaky: tuple[LiveConch, CuttingProxy], flaky_key: str, finished: str, tmp_path: Path
) -> None:
    server, _ = flaky
    with sdk_client(server, "modelverse", flaky_key) as client:
        stale = client.status(finished)  # carries its links, signed for one second
        time.sleep(2.1)
        (url,) = stale.video_urls
        assert httpx.get(url).status_code == 403  # refused: expired
        video = client.download(stale, tmp_path / "video.mp4")
    assert video.path.read_bytes() == _stored_video(server, finished)
    assert probe(video.path).frames == 144


def test_a_download_cut_in_the_middle_resumes_with_a_range_request(
    flaky: tuple[LiveConch, CuttingProxy], flaky_key: str, finished: str, tmp_path: Path
) -> None:
    server, proxy = flaky
    proxy.seen.clear()
    proxy.cuts = 1
    progress: list[tuple[int, int | None]] = []
    with sdk_client(server, "minimax", flaky_key) as client:
        video = client.download(finished, tmp_path / "video.mp4", on_progress=_keep(progress))
    stored = _stored_video(server, finished)
    assert video.path.read_bytes() == stored and video.bytes == len(stored)
    assert (f"bytes={proxy.after}-", 206) in [(ranged, code) for _, ranged, code in proxy.seen]
    assert progress[-1] == (len(stored), len(stored))
    assert not part_path(video.path, finished).exists()


def test_a_part_left_by_a_killed_download_is_resumed(
    flaky: tuple[LiveConch, CuttingProxy], flaky_key: str, finished: str, tmp_path: Path
) -> None:
    server, proxy = flaky
    stored = _stored_video(server, finished)
    output = tmp_path / "video.mp4"
    part_path(output, finished).write_bytes(stored[:100_000])  # what a killed process left
    proxy.seen.clear()
    with sdk_client(server, "minimax", flaky_key) as client:
        client.download(finished, output)
    assert output.read_bytes() == stored
    assert [(ranged, code) for _, ranged, code in proxy.seen if code != 403] == [
        ("bytes=100000-", 206)
    ]


def test_a_server_that_ignores_the_range_rewrites_the_part_from_its_first_byte(
    flaky: tuple[LiveConch, CuttingProxy], flaky_key: str, finished: str, tmp_path: Path
) -> None:
    server, proxy = flaky
    stored = _stored_video(server, finished)
    output = tmp_path / "video.mp4"
    # Bytes that a whole-file answer must replace, not be appended to.
    part_path(output, finished).write_bytes(b"\0" * 100_000)
    proxy.seen.clear()
    proxy.drop_range = True  # the Range is asked for; the server answers 200, the whole file
    try:
        with sdk_client(server, "minimax", flaky_key) as client:
            video = client.download(finished, output)
    finally:
        proxy.drop_range = False
    assert video.path.read_bytes() == stored and video.bytes == len(stored)
    answered = [(ranged, code) for _, ranged, code in proxy.seen if code != 403]
    assert answered == [("bytes=100000-", 200)]  # one answer, taken whole
    assert not part_path(output, finished).exists()


def test_a_second_download_to_the_same_output_is_refused_not_mixed_in(
    flaky: tuple[LiveConch, CuttingProxy], flaky_key: str, finished: str, tmp_path: Path
) -> None:
    server, _ = flaky
    stored = _stored_video(server, finished)
    output = tmp_path / "video.mp4"
    writing, go_on = threading.Event(), threading.Event()
    first: list[Video | BaseException] = []

    def slow(_done: int, _total: int | None) -> None:
        if not writing.is_set():  # pause mid-way, bytes half written, the part held
            writing.set()
            go_on.wait(30)

    def download_slowly() -> None:
        try:
            with sdk_client(server, "minimax", flaky_key) as client:
                first.append(client.download(finished, output, on_progress=slow))
        except BaseException as error:
            first.append(error)

    thread = threading.Thread(target=download_slowly)
    thread.start()
    try:
        assert writing.wait(30)
        with (
            sdk_client(server, "minimax", flaky_key) as second,
            pytest.raises(DownloadFailed, match="another download is writing"),
        ):
            second.download(finished, output)
    finally:
        go_on.set()
        thread.join(60)
    (video,) = first
    assert isinstance(video, Video), video
    assert output.read_bytes() == stored  # the first one's bytes only


def _keep(progress: list[tuple[int, int | None]]) -> Callable[[int, int | None], None]:
    return lambda done, total: progress.append((done, total))
