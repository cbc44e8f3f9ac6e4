"""A `conch worker` hands a relayed task to its relay threads and takes the next message:
the relay is followed to its end on a thread, with one upstream create, while the Celery
task that delivered it has already returned (a relay does not hold a worker slot)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from conch.config import ModelRoute, Settings, Upstream
from conch.domain.request import GenerationRequest
from conch.domain.task import TaskStatus
from conch.media.video import encode_mp4
from conch.runner.celery_worker import run_ready
from conch.runner.relays import relay_threads
from conch.runner.worker import open_runner
from conch.services import Services
from conch.submission import submit
from support.faulty_upstream import KEY, FaultyUpstream
from support.photos import data_url, encode, photo

KEY_ENV = "RELAY_WORKER_TEST_KEY"
MODEL = "MiniMax-Hailuo-02"
PROMPT = "a relay followed on a worker's thread"
FINISH_WAIT = 60.0  # only bounds how long a broken run hangs


@pytest.fixture
def upstream(tmp_path: Path) -> Iterator[FaultyUpstream]:
    path = tmp_path / "upstream.mp4"
    rng = np.random.default_rng(3)
    frames = (rng.integers(0, 255, (72, 128, 3), dtype=np.uint8) for _ in range(48))
    encode_mp4(frames, path, 128, 72, produce_id="upstream")
    with FaultyUpstream(path.read_bytes()) as server:
        yield server


def test_a_worker_hands_a_relayed_task_to_a_thread_that_finishes_it(
    tmp_path: Path, upstream: FaultyUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    terms = Upstream(
        kind="minimax", base_url=upstream.base_url, api_key_env=KEY_ENV,
        poll_first=0.05, poll_ceiling=0.1,
    )  # fmt: skip
    settings = Settings(
        data_dir=tmp_path / "gateway",
        allowed_networks=["127.0.0.1/32"],
        upstreams={"faulty": terms},
        models={MODEL: ModelRoute(engine="relay", upstreams=["faulty"])},
    )
    services = Services.open(settings)
    owner, _ = services.keys.create("owner")
    request = GenerationRequest(
        MODEL, prompt=PROMPT, first_frame_image=data_url(encode(photo("rocket")))
    )
    task = asyncio.run(submit(services, owner, request, dialect="minimax"))
    runner = open_runner(settings, "worker-relays")
    relays = relay_threads(runner)
    assert relays is not None
    try:
        assert run_ready(runner, task.id, relays) is None  # handed over, not run here
        deadline = time.monotonic() + FINISH_WAIT
        while services.tasks.by_id(task.id).status is not TaskStatus.SUCCESS:
            assert time.monotonic() < deadline, services.tasks.by_id(task.id)
            time.sleep(0.05)
        assert run_ready(runner, task.id, relays) is None  # a duplicate message: nothing
    finally:
        runner.stop.set()
        relays.join(timeout=10)
        runner.close()
        services.close()
    assert upstream.creates(PROMPT) == 1
    assert services.tasks.by_id(task.id).attempts == 1
