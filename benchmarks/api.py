"""API read throughput: MiniMax's task query against a FastAPI hello, both under wrk.

A live ``conch serve`` (CONCH_WORKERS=0, so no runner is busy) holds 200 queued tasks;
wrk asks ``GET /v1/query/video_generation`` about them in turn over 50 connections. In
the same run, a FastAPI hello endpoint served by uvicorn with the same settings (one
process, the same HTTP implementation) takes the same load. The benchmark prints each
one's throughput and latency, the query's throughput as a share of the hello's, and the
CPU time each server spent per answer (read from /proc: the machine's other load moves it
far less than it moves the rates).

Targets (issue 12): the query serves at least 60 % of the hello's requests per second,
with a p99 under 50 ms. wrk shares the machine's cores with the servers, so the two are
measured in turn, round after round, and the machine's load is printed next to them.
Run: ``.venv/bin/python benchmarks/api.py [--seconds 10] [--connections 50] [--rounds 3]``
(``make bench`` installs Debian's wrk when it is missing).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI

from _common import load_line, print_table
from conch.cli.banner import EXAMPLES

TASKS = 200
RATIO_TARGET = 0.60
P99_TARGET_MS = 50.0
QUERY_PATH = "/v1/query/video_generation"
HELLO_PATH = "/hello"

WRK_SCRIPT = """
local ids = {%(ids)s}
local auth = %(auth)s
local path = %(path)s
local sent = 0
local threads = {}
wrong = 0

function setup(thread)
  table.insert(threads, thread)
end

function request()
  sent = sent + 1
  local target = path
  if #ids > 0 then
    target = path .. "?task_id=" .. ids[(sent %% #ids) + 1]
  end
  return wrk.format("GET", target, {["Authorization"] = auth})
end

function response(status, headers, body)
  if status ~= 200 or not string.find(body, %(expect)s, 1, true) then
    wrong = wrong + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("wrong")
  end
  io.write(string.format(
    "RESULT {\\"requests\\": %%d, \\"micros\\": %%d, \\"p50\\": %%d, \\"p99\\": %%d, " ..
    "\\"wrong\\": %%d, \\"socket_errors\\": %%d}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    bad, summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout))
end
"""


@dataclass(frozen=True)
class Load:
    """What wrk measured against one endpoint, and the CPU its server spent meanwhile."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    wrong: int
    socket_errors: int
    cpu_seconds: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_ms_per_request(self) -> float:
        """The server's CPU time per answer: unlike the rates, barely moved by other load."""
        return 1000 * self.cpu_seconds / self.requests


@dataclass(frozen=True)
class Server:
    """A server under test: where it listens, its process, and wrk's script for it."""

    url: str
    pid: int
    script: Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"the server for {url} exited early")
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    sys.exit(f"{url} did not answer within {timeout} s")


def serve_hello(port: int) -> None:
    """The reference: FastAPI's hello, served by uvicorn as ``conch serve`` serves conch."""
    app = FastAPI()

    @app.get(HELLO_PATH)
    async def hello() -> dict[str, str]:
        return {"message": "Hello World"}

    uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port)).run()


def start(command: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)


def start_conch(
    folder: Path, port: int, started: list[subprocess.Popen[bytes]]
) -> subprocess.Popen[bytes]:
    """``conch serve`` with no runner, added to ``started`` as soon as it runs."""
    env = {**os.environ, "CONCH_WORKERS": "0"}
    command = [sys.executable, "-m", "conch", "serve", "--port", str(port)]
    process = start([*command, "--data-dir", str(folder / "data")], folder / "serve.log", env)
    started.append(process)
    wait_until_up(f"http://127.0.0.1:{port}/openapi.json", process)
    return process


def first_key(folder: Path) -> str:
    """The key ``conch serve`` printed on its first start."""
    for line in (folder / "serve.log").read_text().splitlines():
        if "sk-conch-" in line:
            return "sk-conch-" + line.split("sk-conch-", 1)[1].split()[0]
    sys.exit("conch serve printed no key")


def queue_tasks(base_url: str, key: str, count: int) -> list[str]:
    """``count`` image-to-video tasks of conch's example photo, submitted through the API
    (with no runner, they stay queued)."""
    photo = base64.b64encode((EXAMPLES / "coffee-first.jpg").read_bytes()).decode()
    body = {
        "model": "MiniMax-Hailuo-02",
        "prompt": "a slow push in",
        "first_frame_image": f"data:image/jpeg;base64,{photo}",
    }
    headers = {"Authorization": f"Bearer {key}"}
    ids = []
    with httpx.Client(base_url=base_url, headers=headers, timeout=30.0) as client:
        for _ in range(count):
            answer = client.post("/v1/video_generation", json=body).json()
            if answer["base_resp"]["status_code"] != 0:
                sys.exit(f"submit refused: {answer}")
            ids.append(answer["task_id"])
        check = client.get(QUERY_PATH, params={"task_id": ids[0]}).json()
        if check.get("status") != "Queueing":
            sys.exit(f"the query did not answer as expected: {check}")
    return ids


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of process ``pid`` so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(server: Server, seconds: int, connections: int) -> Load:
    """One wrk run against ``server``; what its script's ``done`` reported."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", str(server.script)]
    cpu_before = cpu_seconds(server.pid)
    output = subprocess.run([*command, server.url], capture_output=True, text=True).stdout
    cpu = cpu_seconds(server.pid) - cpu_before
    line = next((x for x in output.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        sys.exit(f"wrk reported no result:\n{output}")
    found = json.loads(line.removeprefix("RESULT "))
    return Load(
        requests=found["requests"],
        seconds=found["micros"] / 1e6,
        p50_ms=found["p50"] / 1000,
        p99_ms=found["p99"] / 1000,
        wrong=found["wrong"],
        socket_errors=found["socket_errors"],
        cpu_seconds=cpu,
    )


def write_script(folder: Path, name: str, path: str, key: str, ids: list[str], expect: str) -> Path:
    script = folder / f"{name}.lua"
    # JSON strings are Lua strings too (the same escapes)
    values = {
        "ids": ", ".join(json.dumps(task_id) for task_id in ids),
        "auth": json.dumps(f"Bearer {key}"),
        "path": json.dumps(path),
        "expect": json.dumps(expect),
    }
    script.write_text(WRK_SCRIPT % values)
    return script


def measure(args: argparse.Namespace, folder: Path) -> list[tuple[Load, Load]]:
    """Warm both servers up, then load each in turn, ``args.rounds`` times: the two are
    measured side by side, so a change in the machine's load falls on both."""
    conch_port, hello_port = free_port(), free_port()
    hello_command = [sys.executable, __file__, "--serve-hello", str(hello_port)]
    started: list[subprocess.Popen[bytes]] = []
    try:
        hello = start(hello_command, folder / "hello.log", dict(os.environ))
        started.append(hello)
        conch = start_conch(folder, conch_port, started)
        wait_until_up(f"http://127.0.0.1:{hello_port}{HELLO_PATH}", hello)
        key = first_key(folder)
        ids = queue_tasks(f"http://127.0.0.1:{conch_port}", key, TASKS)
        hello_server = Server(
            f"http://127.0.0.1:{hello_port}",
            hello.pid,
            write_script(folder, "hello", HELLO_PATH, key, [], "Hello World"),
        )
        conch_server = Server(
            f"http://127.0.0.1:{conch_port}",
            conch.pid,
            write_script(folder, "query", QUERY_PATH, key, ids, '"Queueing"'),
        )
        for server in (hello_server, conch_server):
            wrk(server, 2, args.connections)  # warm-up: imports, caches, connections
        return [
            (
                wrk(hello_server, args.seconds, args.connections),
                wrk(conch_server, args.seconds, args.connections),
            )
            for _ in range(args.rounds)
        ]
    finally:
        for process in started:
            process.terminate()
            process.wait(20)


def report(rounds: list[tuple[Load, Load]], connections: int, before: str) -> None:
    rows = [
        (
            number,
            f"{hello.per_second:.0f}",
            f"{hello.p99_ms:.1f}",
            f"{query.per_second:.0f}",
            f"{query.p50_ms:.1f}",
            f"{query.p99_ms:.1f}",
            f"{query.per_second / hello.per_second:.0%}",
            f"{hello.cpu_ms_per_request:.2f}",
            f"{query.cpu_ms_per_request:.2f}",
        )
        for number, (hello, query) in enumerate(rounds, 1)
    ]
    header = (
        "round",
        "hello req/s",
        "hello p99 ms",
        "query req/s",
        "query p50 ms",
        "query p99 ms",
        "query/hello",
        "hello cpu ms/req",
        "query cpu ms/req",
    )
    title = f"wrk, {connections} connections; the query over {TASKS} queued tasks"
    print_table(title, header, rows)
    ratio = statistics.median(query.per_second / hello.per_second for hello, query in rounds)
    p99 = statistics.median(query.p99_ms for _, query in rounds)
    met_ratio = "met" if ratio >= RATIO_TARGET else "NOT met"
    met_p99 = "met" if p99 < P99_TARGET_MS else "NOT met"
    target = f"target {RATIO_TARGET:.0%}: {met_ratio}"
    print(f"\nmedian query / hello throughput: {ratio:.0%} ({target})")
    print(f"median query p99: {p99:.1f} ms (target under {P99_TARGET_MS:.0f} ms: {met_p99})")
    wrong = sum(hello.wrong + query.wrong for hello, query in rounds)
    errors = sum(hello.socket_errors + query.socket_errors for hello, query in rounds)
    print(f"wrong answers: {wrong}; socket errors (timeouts included): {errors}")
    print(f"before: {before}\nafter:  {load_line()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="each measured run")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3, help="hello and query runs, in turn")
    parser.add_argument("--serve-hello", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_hello:
        serve_hello(args.serve_hello)
        return
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get update && apt-get install -y wrk")
    before = load_line()
    with tempfile.TemporaryDirectory(prefix="conch-bench-api-") as folder:
        rounds = measure(args, Path(folder))
    report(rounds, args.connections, before)


if __name__ == "__main__":
    main()
