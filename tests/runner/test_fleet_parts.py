"""The fleet's parts, each on its own: the outbox queries (SQLite and PostgreSQL), the queue
names, which runners `conch serve` starts with a broker, `conch worker`'s refusals, the
readiness check and the scrubbing of a broker's password, and one announcement carried by
the real Redis to a task claimed and run by the same code a worker runs."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from kombu import Connection

from conch.cli import main
from conch.config import ModelRoute, Settings
from conch.domain.ids import new_id
from conch.domain.request import GenerationRequest
from conch.domain.task import TaskStatus
from conch.engines.registry import runner_count
from conch.logs import scrub
from conch.runner.announcer import Announcer
from conch.runner.celery_worker import run_ready
from conch.runner.fleet import (
    READY_TASK,
    broker_check,
    celery_app,
    queue_for,
    queues_for_engine,
    queues_for_models,
)
from conch.runner.worker import open_runner
from conch.services import Services
from conch.store.db import open_database
from conch.store.keys import KeyStore
from conch.store.ready import take_owed, unmark
from conch.store.tasks import TaskStore
from conch.submission import submit
from conftest import require_service
from support.photos import data_url, encode, photo
from support.tasks import text_spec

REDIS_URL = "redis://127.0.0.1:6379/0"


def _store_with_tasks(url: str, count: int) -> tuple[TaskStore, list[int]]:
    engine = open_database(url)
    owner, _ = KeyStore(engine).create("owner")
    store = TaskStore(engine)
    ids = [
        store.create(task_id=new_id(), owner_id=owner.id, dialect="minimax", spec=text_spec(),
                     inputs={}).id
        for _ in range(count)
    ]  # fmt: skip
    return store, ids


def test_a_new_task_is_owed_one_announcement_until_it_is_due_again(database_url: str) -> None:
    store, ids = _store_with_tasks(database_url, 3)
    now = time.time() + 1
    taken = take_owed(store.engine, now=now, again_after=60, limit=2)
    assert [ready.task_id for ready in taken] == ids[:2]  # oldest first, up to the limit
    assert {ready.model for ready in taken} == {text_spec().model}
    rest = take_owed(store.engine, now=now, again_after=60, limit=10)
    assert [ready.task_id for ready in rest] == ids[2:]
    assert take_owed(store.engine, now=now + 30, again_after=60, limit=10) == []
    again = take_owed(store.engine, now=now + 61, again_after=60, limit=10)
    assert [ready.task_id for ready in again] == ids  # nobody claimed them: announced again


def test_an_unsent_announcement_is_owed_again_and_a_claimed_task_is_not(
    database_url: str,
) -> None:
    store, ids = _store_with_tasks(database_url, 2)
    now = time.time() + 1
    take_owed(store.engine, now=now, again_after=600, limit=10)
    unmark(store.engine, [ids[1]], announced_at=now)  # its publish failed
    assert [r.task_id for r in take_owed(store.engine, now=now, again_after=600, limit=10)] == [
        ids[1]
    ]
    claim = store.claim("runner", 30, task_id=ids[0])
    assert claim is not None
    assert take_owed(store.engine, now=now + 700, again_after=600, limit=10)[0].task_id == ids[1]
    # Given back to the queue (a retry, a swept lease, a release): owed a fresh announcement.
    assert store.release(claim)
    later = take_owed(store.engine, now=time.time() + 1, again_after=600, limit=10)
    assert [r.task_id for r in later] == [ids[0]]


def test_queues_follow_engines_and_models() -> None:
    diffusion = ModelRoute(engine="diffusion", preset="ltx-video")
    settings = Settings(queue_prefix="acme", models={"MiniMax-Hailuo-2.3": diffusion})
    assert queue_for(settings, "MiniMax-Hailuo-02") == "acme.motion"
    assert queue_for(settings, "MiniMax-Hailuo-2.3") == "acme.model.MiniMax-Hailuo-2.3"
    assert queues_for_engine(settings, "diffusion") == ["acme.model.MiniMax-Hailuo-2.3"]
    assert queues_for_engine(settings, "motion") == ["acme.motion"]
    assert queues_for_models(settings, ["I2V-01", "MiniMax-Hailuo-02"]) == ["acme.motion"]
    with pytest.raises(ValueError, match="unknown models Hailuo-99"):
        queues_for_models(settings, ["Hailuo-99"])
    with pytest.raises(ValueError, match="known engines: motion, diffusion"):
        queues_for_engine(settings, "gpu")


def test_a_server_with_a_broker_starts_no_runners_unless_asked() -> None:
    assert runner_count(Settings(broker_url=REDIS_URL)) == 0
    assert runner_count(Settings(broker_url=REDIS_URL, workers=2)) == 2
    assert runner_count(Settings(workers=3)) == 3


def test_conch_worker_needs_a_broker_and_one_choice_of_queues(tmp_path: Path) -> None:
    runner = CliRunner()
    alone = runner.invoke(main, ["worker", "--data-dir", str(tmp_path)])
    assert alone.exit_code == 1
    assert "set CONCH_BROKER_URL" in alone.output
    env = {"CONCH_BROKER_URL": "redis://:hunter2@127.0.0.1:1/0"}
    both = runner.invoke(main, ["worker", "--models", "I2V-01", "--engine", "motion"], env=env)
    assert both.exit_code == 2 and "one of --models, --engine and --queues" in both.output
    unknown = runner.invoke(main, ["worker", "--models", "Hailuo-99"], env=env)
    assert unknown.exit_code == 2 and "unknown models Hailuo-99" in unknown.output
    open_metrics = runner.invoke(main, ["worker", "--metrics-port", "9101"], env=env)
    assert open_metrics.exit_code == 1 and "none is set" in open_metrics.output
    assert "CONCH_METRICS_TOKEN" in open_metrics.output  # a worker's /metrics is never open


def test_a_broker_password_is_never_shown() -> None:
    assert scrub("redis://:hunter2@cache:6379/0") == "redis://:[redacted]@cache:6379/0"
    assert scrub("amqp://conch:hunter2@mq//") == "amqp://conch:[redacted]@mq//"
    assert scrub("http://127.0.0.1:8000/v1/files?x=1") == "http://127.0.0.1:8000/v1/files?x=1"
    settings = Settings(broker_url="redis://:hunter2@127.0.0.1:1/0", broker_connect_timeout=0.5)
    problem = broker_check(celery_app(settings), settings)()
    assert problem is not None and "unreachable" in problem
    assert "hunter2" not in problem


def test_one_announcement_through_redis_runs_the_task_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    require_service("Redis", "127.0.0.1", 6379)
    prefix = f"parts{secrets.token_hex(4)}"
    settings = Settings(data_dir=tmp_path, broker_url=REDIS_URL, queue_prefix=prefix)
    services = Services.open(settings)
    owner, _ = services.keys.create("owner")
    request = GenerationRequest(
        "MiniMax-Hailuo-02",
        first_frame_image=data_url(encode(photo("rocket"))),
        resolution="512P",
    )
    task = asyncio.run(submit(services, owner, request, dialect="minimax"))
    app = celery_app(settings)
    announcer = Announcer(settings, services.tasks, services.media, app)
    announcer.start()
    queue = queue_for(settings, task.model)
    try:
        with Connection(REDIS_URL) as connection:
            inbox = connection.SimpleQueue(queue)
            message = inbox.get(timeout=30)  # the announcement, as a worker receives it
            message.ack()
            inbox.queue.delete()
            inbox.close()
        assert message.headers["task"] == READY_TASK
        args, kwargs, _ = message.decode()  # Celery's message body: the task id, and no more
        assert (args, kwargs, message.content_type) == ([task.id], {}, "application/json")
    finally:
        announcer.stop()
    runner = open_runner(settings, "parts-runner")
    with caplog.at_level(logging.INFO, logger="conch.runner"):
        assert run_ready(runner, task.id) is TaskStatus.SUCCESS
        assert run_ready(runner, task.id) is None  # the same message again: nothing to run
    assert services.tasks.by_id(task.id).attempts == 1
    assert "not ready to run" in caplog.text
    runner.close()
    services.close()
