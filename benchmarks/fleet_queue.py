"""The fleet's queue: throughput and latency of `conch worker` processes fed through Celery.

(Named fleet_queue.py, not queue.py: a queue.py beside the other benchmarks would shadow
Python's own ``queue`` module for every script run from this folder.)

One `conch serve` on PostgreSQL announces ready tasks on Redis; 1, 2 and then 4
`conch worker` processes (one task at a time each) run them. The tasks are I/O-bound so that
the queue, not the CPU, is what is measured: each worker's engine is replaced by one that
waits ``--sleep`` seconds (as a relay waits on its upstream) and then hands over the
task's own first frame, fitted to 512P, for every frame; the encoder still writes the MP4
(preset ultrafast) and the task ends through the same fenced ``succeed`` as any other.

For each number of workers it prints tasks per minute over ``--tasks`` tasks submitted at
once, and their end-to-end latency (submit to success, from the task table), after a first
task for each worker that is not counted (a worker opens its runner on its first task). Then, with 4
workers and one of them always idle, it submits ``--samples`` tasks one after another and
prints the queue's added latency: from the task's creation (the outbox row) to a worker's
claim, at the median and p99.

Targets (issue 16): ready to claimed at most 100 ms at the median; 4 workers at least 3x the
throughput of 1. Needs PostgreSQL (127.0.0.1:5432, database ``test``) and Redis
(127.0.0.1:6379). Run: ``.venv/bin/python benchmarks/fleet_queue.py [--tasks 16] [--sleep 1]``.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import httpx
import numpy as np
from sqlalchemy import create_engine, func, select, text

from _common import load_line, photo, print_table
from conch.engines.base import Job, ProgressFn

POSTGRES = os.environ.get(
    "CONCH_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS = os.environ.get("CONCH_TEST_REDIS", "redis://127.0.0.1:6379/0")
MEDIAN_TARGET_MS = 100.0
SPEEDUP_TARGET = 3.0
WORKER_COUNTS = (1, 2, 4)


# -- the worker side: `conch worker` with an engine that waits instead of computing --------


class WaitingEngine:
    """An I/O-bound engine: waits, then yields the first frame (or black) for every frame."""

    name: ClassVar[str] = "waiting"

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def generate(self, job: Job, progress: ProgressFn) -> Iterator[np.ndarray]:
        waited = 0.0
        while waited < self.seconds:  # reporting progress keeps the lease checked
            step = min(0.25, self.seconds - waited)
            time.sleep(step)
            waited += step
            progress(waited / self.seconds)
        frame = job.first_frame
        if frame is None:
            frame = np.zeros((job.height, job.width, 3), np.uint8)
        for _ in range(job.frame_count):
            yield frame

    def close(self) -> None:
        pass


def run_worker(arguments: list[str]) -> None:
    """`conch worker ARGUMENTS` with every model served by :class:`WaitingEngine`."""
    import conch.runner.execute as execute_module
    from conch.cli import main

    seconds = float(os.environ["BENCH_SLEEP"])
    # Every model, whatever its route, is served by the waiting engine in this process tree.
    setattr(execute_module, "load_engine", lambda _route, _settings: WaitingEngine(seconds))  # noqa: B010
    main(["worker", *arguments])


# -- the measuring side ---------------------------------------------------------------------


def _up(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


class Bench:
    def __init__(self, folder: Path, sleep: float) -> None:
        self.folder = folder
        self.schema = f"conch_bench_{secrets.token_hex(4)}"
        self.admin = create_engine(POSTGRES)
        with self.admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {self.schema}")
        self.database_url = f"{POSTGRES}?options=-csearch_path%3D{self.schema}"
        self.db = create_engine(self.database_url)
        self.port = _free_port()
        self.env = {
            **os.environ,
            "CONCH_DATABASE_URL": self.database_url,
            "CONCH_BROKER_URL": REDIS,
            "CONCH_QUEUE_PREFIX": f"bench{secrets.token_hex(4)}",
            "CONCH_STORAGE_URL": (folder / "media").as_uri(),
            "CONCH_DATA_DIR": str(folder / "server"),
            "CONCH_ENCODER_PRESET": "ultrafast",
            "CONCH_AUTH_FAILURE_LIMIT": "1000000",
            "BENCH_SLEEP": str(sleep),
        }
        self.processes: list[subprocess.Popen[bytes]] = []
        self.workers: list[subprocess.Popen[bytes]] = []

    def start_server(self) -> str:
        log = (self.folder / "server.log").open("ab")
        command = [sys.executable, "-m", "conch", "serve", "--port", str(self.port)]
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=self.env)
        self.processes.append(server)
        deadline = time.monotonic() + 60
        while not _up(self.port):
            if server.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"conch serve did not start; see {self.folder / 'server.log'}")
            time.sleep(0.1)
        from conch.store.keys import KeyStore

        return KeyStore(self.db).create("bench")[1]

    def start_workers(self, count: int) -> None:
        self.stop_workers()
        for number in range(count):
            name = f"bench-{count}-{number}"
            log = (self.folder / f"{name}.log").open("ab")
            command = [sys.executable, __file__, "--as-worker", "--name", name]
            worker = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env=self.env, start_new_session=True
            )
            self.workers.append(worker)
        for number in range(count):
            path = self.folder / f"bench-{count}-{number}.log"
            deadline = time.monotonic() + 60
            while "ready." not in path.read_text(errors="replace"):
                if time.monotonic() > deadline:
                    sys.exit(f"worker did not start; see {path}")
                time.sleep(0.1)

    def stop_workers(self) -> None:
        for worker in self.workers:
            os.killpg(worker.pid, signal.SIGTERM)
        for worker in self.workers:
            worker.wait()
        self.workers = []

    def close(self) -> None:
        self.stop_workers()
        for process in self.processes:
            process.send_signal(signal.SIGINT)
            process.wait()
        self.db.dispose()
        with self.admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {self.schema} CASCADE")
        self.admin.dispose()

    def times(self, ids: list[int]) -> list[tuple[float, float | None, float | None]]:
        """(created, claimed, finished) of each task."""
        from conch.store.tables import tasks

        query = select(tasks.c.created_at, tasks.c.started_at, tasks.c.finished_at).where(
            tasks.c.id.in_(ids)
        )
        with self.db.begin() as conn:
            return [(row[0], row[1], row[2]) for row in conn.execute(query)]

    def running(self) -> int:
        from conch.store.tables import tasks

        busy = tasks.c.status.in_(["preparing", "processing"])
        with self.db.begin() as conn:
            return int(conn.execute(select(func.count()).where(busy)).scalar_one())

    def wait_finished(self, ids: list[int], timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        while any(finished is None for _, _, finished in self.times(ids)):
            if time.monotonic() > deadline:
                sys.exit("tasks did not finish; see the logs in " + str(self.folder))
            time.sleep(0.05)
        with self.db.begin() as conn:
            statuses = conn.execute(
                text("SELECT DISTINCT status FROM tasks WHERE id = ANY(:ids)"), {"ids": ids}
            ).scalars()
            assert set(statuses) == {"success"}, "a task failed: see the worker logs"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _submitter(base_url: str, key: str) -> tuple[httpx.Client, dict[str, object]]:
    import base64
    import io

    from PIL import Image

    from conch.media.images import fit_frame

    image = fit_frame(photo("rocket"), 910, 512)
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG")
    body: dict[str, object] = {
        "model": "MiniMax-Hailuo-02",
        "resolution": "512P",
        "prompt": "a rocket",
        "first_frame_image": "data:image/jpeg;base64,"
        + base64.b64encode(buffer.getvalue()).decode(),
    }
    client = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {key}"}, timeout=60)
    return client, body


def _submit(client: httpx.Client, body: dict[str, object]) -> int:
    answer = client.post("/v1/video_generation", json=body).json()
    if answer.get("base_resp", {}).get("status_code") != 0:
        sys.exit(f"submit refused: {answer}")
    return int(answer["task_id"])


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def throughput(bench: Bench, client: httpx.Client, body: dict[str, object], count: int, tasks: int):  # type: ignore[no-untyped-def]
    bench.start_workers(count)
    # One task a worker first, not counted: each worker process opens its runner (database,
    # media store, engine) on its first task, a one-time cost a fleet in service never pays.
    bench.wait_finished([_submit(client, body) for _ in range(count)])
    ids = [_submit(client, body) for _ in range(tasks)]
    bench.wait_finished(ids)
    rows = bench.times(ids)
    first = min(created for created, _, _ in rows)
    last = max(finished for _, _, finished in rows if finished is not None)
    per_minute = 60 * len(ids) / (last - first)
    latencies = [finished - created for created, _, finished in rows if finished is not None]
    return per_minute, statistics.median(latencies), _percentile(latencies, 0.99)


def claim_latency(
    bench: Bench, client: httpx.Client, body: dict[str, object], samples: int, workers: int
) -> list[float]:
    """Ready-to-claimed seconds of tasks submitted while a worker is idle."""
    ids: list[int] = []
    for _ in range(samples):
        while bench.running() >= workers - 1:  # keep one worker idle
            time.sleep(0.02)
        task_id = _submit(client, body)
        ids.append(task_id)
        while bench.times([task_id])[0][1] is None:  # claimed
            time.sleep(0.01)
    bench.wait_finished(ids)
    return [claimed - created for created, claimed, _ in bench.times(ids) if claimed is not None]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=16, help="tasks per throughput run")
    parser.add_argument("--sleep", type=float, default=1.0, help="seconds each task waits")
    parser.add_argument("--samples", type=int, default=40, help="tasks timed ready to claimed")
    args = parser.parse_args()
    for name, port in (("PostgreSQL", 5432), ("Redis", 6379)):
        if not _up(port):
            sys.exit(f"{name} is not reachable on 127.0.0.1:{port}: start it to run this benchmark")
    with tempfile.TemporaryDirectory(prefix="conch-queue-bench-") as folder:
        bench = Bench(Path(folder), args.sleep)
        try:
            key = bench.start_server()
            client, body = _submitter(f"http://127.0.0.1:{bench.port}", key)
            rows, rates = [], {}
            for count in WORKER_COUNTS:
                per_minute, median, p99 = throughput(bench, client, body, count, args.tasks)
                rates[count] = per_minute
                rows.append((count, f"{per_minute:.1f}", f"{median:.2f}", f"{p99:.2f}"))
            latencies = claim_latency(bench, client, body, args.samples, WORKER_COUNTS[-1])
        finally:
            bench.close()
    print(f"conch worker over Redis + PostgreSQL; tasks wait {args.sleep} s each; {load_line()}")
    print_table(
        f"throughput ({args.tasks} tasks submitted at once)",
        ["workers", "tasks/min", "end-to-end median s", "end-to-end p99 s"],
        rows,
    )
    speedup = rates[WORKER_COUNTS[-1]] / rates[WORKER_COUNTS[0]]
    slow = sorted(round(1000 * latency) for latency in latencies)[-5:]
    print(f"the 5 slowest ready -> claimed (ms): {slow}")
    median_ms = 1000 * statistics.median(latencies)
    p99_ms = 1000 * _percentile(latencies, 0.99)
    verdict = "met" if speedup >= SPEEDUP_TARGET else "MISSED"
    print(
        f"\n{WORKER_COUNTS[-1]} workers / 1: {speedup:.2f}x "
        f"(target >= {SPEEDUP_TARGET}x): {verdict}"
    )
    verdict = "met" if median_ms <= MEDIAN_TARGET_MS else "MISSED"
    print(
        f"ready -> claimed over {len(latencies)} tasks: median {median_ms:.1f} ms, "
        f"p99 {p99_ms:.1f} ms (target median <= {MEDIAN_TARGET_MS:.0f} ms): {verdict}"
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--as-worker":
        run_worker(sys.argv[2:])
    else:
        main()
