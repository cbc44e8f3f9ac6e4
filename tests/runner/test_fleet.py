"""A fleet: one `conch serve` announcing on a real broker, two `conch worker` processes, one
PostgreSQL and one shared media folder, all real processes on 127.0.0.1.

Every test uses queues of its own (a fresh prefix) and purges them first, so messages left by
another run never reach its workers. Nothing here asserts timing: each wait is for a state,
with a generous deadline.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, func, select

from conch.config import Settings
from conch.domain.task import TaskStatus
from conch.runner.fleet import READY_TASK, all_queues, celery_app, queue_for
from conch.store.keys import KeyStore
from conch.store.tables import files as files_table
from conch.store.tables import tasks as tasks_table
from conftest import require_service
from support.live import CONCH, SERVER_ENV, LiveConch, free_port, wait_for_task
from support.photos import data_url, encode, photo

REDIS_URL = os.environ.get("CONCH_TEST_REDIS", "redis://127.0.0.1:6379/0")
RABBITMQ_URL = os.environ.get("CONCH_TEST_RABBITMQ", "amqp://guest:guest@127.0.0.1:5672//")
TASKS = 20
METRICS_TOKEN = "fleet-metrics-token"
SMALL = {  # the cheapest render there is: 512P, image mode, a small photo
    "model": "MiniMax-Hailuo-02",
    "resolution": "512P",
    "duration": 6,
    "prompt": "a rocket",
}


class Worker:
    """`conch worker` in a process group of its own (Celery's pool is its children)."""

    def __init__(self, name: str, env: dict[str, str], folder: Path) -> None:
        self.name = name
        self.env = env
        self.log_path = folder / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.metrics_port = free_port()

    def launch(self) -> None:
        log = self.log_path.open("ab")
        command = [*CONCH, "worker", "--name", self.name, "--concurrency", "1"]
        command += ["--metrics-host", "127.0.0.1", "--metrics-port", str(self.metrics_port)]
        self.process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=self.env, start_new_session=True
        )

    def wait_ready(self, timeout: float = 60.0) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while "ready." not in self.log():
            if self.process.poll() is not None:
                raise AssertionError(f"conch worker exited early:\n{self.log()}")
            assert time.monotonic() < deadline, f"worker {self.name} never ready:\n{self.log()}"
            time.sleep(0.1)

    def signal(self, number: int) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, number)

    def ask_to_stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.signal(signal.SIGTERM)

    def stop(self) -> None:
        if self.process is None:
            return
        self.ask_to_stop()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.process.wait()
        with contextlib.suppress(ProcessLookupError):  # pool children that outlived it
            self.signal(signal.SIGKILL)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def scrape(self, token: str | None = METRICS_TOKEN) -> httpx.Response:
        """The worker's own ``/metrics``, asked with ``token``."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        return httpx.get(url, headers=headers, timeout=30)

    def renders(self) -> dict[str, float]:
        """Render attempts this worker's pool has counted, by outcome."""
        answer = self.scrape()
        assert answer.status_code == 200, answer.text
        counts: dict[str, float] = {}
        for family in text_string_to_metric_families(answer.text):
            for sample in family.samples:
                if sample.name == "conch_render_seconds_count":
                    outcome = sample.labels["outcome"]
                    counts[outcome] = counts.get(outcome, 0) + sample.value
        return counts


class Fleet:
    """A server and two workers on ``broker_url`` and PostgreSQL, with their own queues."""

    def __init__(self, folder: Path, postgres_url: str, broker_url: str, **extra: str) -> None:
        shared = folder / "shared-media"
        shared.mkdir(parents=True)
        self.env = {
            **os.environ,
            **SERVER_ENV,
            "CONCH_DATABASE_URL": postgres_url,
            "CONCH_BROKER_URL": broker_url,
            "CONCH_STORAGE_URL": shared.as_uri(),
            "CONCH_QUEUE_PREFIX": f"t{secrets.token_hex(4)}",
            "CONCH_LEASE_SECONDS": "2",
            "CONCH_ANNOUNCE_INTERVAL": "0.2",
            "CONCH_ANNOUNCE_AGAIN_AFTER": "4",
            "CONCH_BROKER_CONNECT_TIMEOUT": "1",
            "CONCH_METRICS_TOKEN": METRICS_TOKEN,
            **extra,
        }
        del self.env["CONCH_WORKERS"]  # a broker: the server starts no runners of its own
        self.shared = shared
        self.settings = Settings(
            broker_url=broker_url,
            queue_prefix=self.env["CONCH_QUEUE_PREFIX"],
            broker_connect_timeout=1.0,
        )
        self.database = create_engine(postgres_url)
        self.server = LiveConch(folder / "server", self.env)
        workers_env = {**self.env, "CONCH_DATA_DIR": str(folder / "worker-data")}
        self.workers = [Worker(name, workers_env, folder) for name in ("worker-a", "worker-b")]

    def __enter__(self) -> Fleet:
        purge_queues(self.settings)
        for worker in self.workers:  # started while the server starts: they wait for it
            worker.launch()
        self.server.start()
        for worker in self.workers:
            worker.wait_ready()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for worker in self.workers:
            worker.ask_to_stop()
        for worker in self.workers:
            worker.stop()
        self.server.stop()
        with contextlib.suppress(Exception):  # a broker stopped by the test itself
            purge_queues(self.settings, delete=True)
        self.database.dispose()

    def create_key(self) -> str:
        """A new API key, written straight into the fleet's database."""
        _, secret = KeyStore(self.database).create("fleet test")
        return secret

    def logs(self) -> str:
        parts = [self.server.log(), *(f"--- {w.name}\n{w.log()}" for w in self.workers)]
        return "\n".join(parts)

    def rows(self, task_ids: list[str]) -> dict[str, tuple[str, str | None, int]]:
        """Each task's status, the runner that last claimed it, and its attempts."""
        query = select(
            tasks_table.c.id, tasks_table.c.status, tasks_table.c.runner, tasks_table.c.attempts
        ).where(tasks_table.c.id.in_([int(i) for i in task_ids]))
        with self.database.begin() as conn:
            return {str(r.id): (r.status, r.runner, r.attempts) for r in conn.execute(query)}

    def files_per_task(self) -> dict[int, int]:
        query = select(files_table.c.task_id, func.count()).group_by(files_table.c.task_id)
        with self.database.begin() as conn:
            return {task_id: count for task_id, count in conn.execute(query)}

    def runs_logged(self, task_id: str) -> int:
        """How many times a worker started running ``task_id`` (claimed it)."""
        return sum(w.log().count(f"runs task {task_id} ") for w in self.workers)


def purge_queues(settings: Settings, *, delete: bool = False) -> None:
    """Empty (and at the end, remove) every queue these settings announce on."""
    app = celery_app(settings)
    with app.connection_for_write() as connection:
        for name in all_queues(settings):
            queue = app.amqp.queues[name](connection.default_channel)
            queue.declare()
            queue.purge()
            if delete:
                queue.delete()


def submit(client: httpx.Client, body: dict[str, object]) -> str:
    answer = client.post("/v1/video_generation", json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["base_resp"]["status_code"] == 0, answer.json()
    task_id = answer.json()["task_id"]
    return str(task_id)


def small_body() -> dict[str, object]:
    return {**SMALL, "first_frame_image": data_url(encode(photo("rocket")))}


def wait_for(condition: object, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.05)


@pytest.fixture(params=["redis", "rabbitmq"])
def broker_url(request: pytest.FixtureRequest) -> str:
    if request.param == "redis":
        require_service("Redis", "127.0.0.1", 6379)
        return REDIS_URL
    require_service("RabbitMQ", "127.0.0.1", 5672)
    return RABBITMQ_URL


def test_a_fleet_runs_every_task_once_and_the_workers_split_them(
    tmp_path: Path, postgres_url: str, broker_url: str
) -> None:
    with Fleet(tmp_path, postgres_url, broker_url) as fleet:
        key = fleet.create_key()
        with fleet.server.client(key) as client:
            body = small_body()
            ids = [submit(client, body) for _ in range(TASKS)]
            # The same "ready" message again, as a broker's redelivery would bring it.
            app = celery_app(fleet.settings)
            queue = queue_for(fleet.settings, str(SMALL["model"]))
            app.send_task(READY_TASK, args=[int(ids[0])], queue=queue)
            for task_id in ids:
                done = wait_for_task(client, task_id, timeout=120)
                assert done["status"] == "Success", (done, fleet.logs())
            ready = client.get("/readyz").json()
            assert ready["checks"]["broker"] == "ok", ready
        rows = fleet.rows(ids)
        assert {status for status, _, _ in rows.values()} == {TaskStatus.SUCCESS.value}
        assert {attempts for _, _, attempts in rows.values()} == {1}, rows
        runners = {runner.split(":")[0] for _, runner, _ in rows.values() if runner}
        assert runners == {"worker-a", "worker-b"}, rows  # both took some
        per_task = fleet.files_per_task()
        assert [per_task[int(i)] for i in ids] == [1] * TASKS
        assert [fleet.runs_logged(i) for i in ids] == [1] * TASKS, fleet.logs()
        assert len(list((fleet.shared / "outputs").glob("*.mp4"))) == TASKS
        # Each worker counts, on its own /metrics, the renders its pool processes made (a
        # render is counted just after its task is marked done).
        wait_for(lambda: sum(sum(w.renders().values()) for w in fleet.workers) >= TASKS, "counts")
        for worker in fleet.workers:
            ran = sum(1 for _, runner, _ in rows.values() if runner.startswith(f"{worker.name}:"))
            assert worker.renders() == {TaskStatus.SUCCESS.value: ran}, fleet.logs()


def test_a_worker_serves_its_metrics_to_the_token_alone(tmp_path: Path, postgres_url: str) -> None:
    require_service("Redis", "127.0.0.1", 6379)
    with Fleet(tmp_path, postgres_url, REDIS_URL) as fleet:
        worker = fleet.workers[0]
        assert worker.renders() == {}  # nothing run yet, and the scrape works
        for token in (None, "not-the-token"):
            refused = worker.scrape(token)
            assert refused.status_code == 401, refused.text
            assert refused.json()["error"]["code"] == "unauthorized"
        other = httpx.get(f"http://127.0.0.1:{worker.metrics_port}/", timeout=30)
        assert other.status_code == 404 and other.json()["error"]["code"] == "not_found"
        log = worker.log()
    assert f"metrics: http://127.0.0.1:{worker.metrics_port}/metrics" in log
    assert METRICS_TOKEN not in log


def test_a_worker_killed_mid_render_leaves_its_task_to_the_other(
    tmp_path: Path, postgres_url: str
) -> None:
    require_service("Redis", "127.0.0.1", 6379)
    with Fleet(tmp_path, postgres_url, REDIS_URL) as fleet:
        key = fleet.create_key()
        with fleet.server.client(key) as client:
            task_id, victim = _freeze_a_worker_mid_render(fleet, client)
            victim.signal(signal.SIGKILL)  # the worker and its pool, at once
            done = wait_for_task(client, task_id, timeout=120)
            assert done["status"] == "Success", (done, fleet.logs())
        _, runner, attempts = fleet.rows([task_id])[task_id]
        survivor = next(w for w in fleet.workers if w is not victim)
        assert (runner or "").startswith(f"{survivor.name}:"), fleet.logs()
        assert attempts == 2
        assert fleet.files_per_task()[int(task_id)] == 1
        assert len(list((fleet.shared / "outputs").glob(f"{task_id}*"))) == 1  # one published


def _freeze_a_worker_mid_render(fleet: Fleet, client: httpx.Client) -> tuple[str, Worker]:
    """A task being rendered by a worker that is now stopped (SIGSTOP) in the middle of it.

    However fast the machine, the frozen worker cannot finish first: a task seen rendering
    after the freeze is frozen mid-render. One that finished just before the freeze is left
    to end, and another is tried."""
    for _ in range(5):
        task_id = submit(client, small_body())
        wait_for(
            lambda task_id=task_id: (
                fleet.rows([task_id])[task_id][0]
                in {TaskStatus.PROCESSING.value, TaskStatus.SUCCESS.value}
            ),
            "the render to start",
        )
        holder = fleet.rows([task_id])[task_id][1] or ""
        victim = next(w for w in fleet.workers if holder.startswith(f"{w.name}:"))
        victim.signal(signal.SIGSTOP)
        if fleet.rows([task_id])[task_id][0] == TaskStatus.PROCESSING.value:
            return task_id, victim
        victim.signal(signal.SIGCONT)
        assert wait_for_task(client, task_id)["status"] == "Success"
    raise AssertionError(f"no render could be caught in the middle:\n{fleet.logs()}")


class RedisServer:
    """A redis-server of this test's own on a free port, so the shared one is never stopped."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", str(self.folder),
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for(lambda: _answers(self.port), "redis-server to listen", timeout=20)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    if subprocess.run(["which", "redis-server"], capture_output=True).returncode != 0:
        reason = "redis-server is not installed (make test installs it)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and {reason}")
        pytest.skip(f"SKIPPED LOUDLY: {reason}")
    redis = RedisServer(tmp_path)
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()


def test_a_broker_outage_delays_tasks_and_loses_none(
    tmp_path: Path, postgres_url: str, own_redis: RedisServer
) -> None:
    with Fleet(tmp_path, postgres_url, own_redis.url) as fleet:
        key = fleet.create_key()
        with fleet.server.client(key) as client:
            body = small_body()
            before = [submit(client, body) for _ in range(3)]
            own_redis.stop()  # with these queued, announced or running: its memory is lost
            during = [submit(client, body) for _ in range(3)]  # submits still answer
            wait_for(
                lambda: client.get("/readyz").json()["checks"]["broker"] != "ok",
                "/readyz to report the broker down",
            )
            own_redis.start()  # empty: no message survived
            for task_id in before + during:
                done = wait_for_task(client, task_id, timeout=150)
                assert done["status"] == "Success", (done, fleet.logs())
            wait_for(lambda: client.get("/readyz").status_code == 200, "/readyz ready again")
        per_task = fleet.files_per_task()
        assert [per_task[int(i)] for i in before + during] == [1] * 6
