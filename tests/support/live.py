"""A real conch server in a subprocess on 127.0.0.1, as `conch serve` runs it."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

from conch.store.db import open_database
from conch.store.keys import KeyStore
from conch.store.tasks import TaskStore

CONCH = [sys.executable, "-m", "conch"]

# Only the test machine's own 127.0.0.1 is allowed: 127.0.0.2, private and metadata
# addresses stay refused, as they would be for a real deployment.
# The tests send wrong keys from one address on purpose, far more than the failed-login limit
# allows a real client; tests/api/test_auth_first.py checks that limit on a server of its own.
SERVER_ENV = {
    "CONCH_ALLOWED_NETWORKS": json.dumps(["127.0.0.1/32"]),
    "CONCH_WORKERS": "1",
    "CONCH_AUTH_FAILURE_LIMIT": "1000000",
}
TERMINAL = {"Success", "Fail"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def conch_command(
    *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the conch CLI; raise with its output if it fails."""
    result = subprocess.run(
        [*CONCH, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )
    if result.returncode != 0:
        raise AssertionError(f"conch {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


class LiveConch:
    """`conch serve` on a free port over ``data_dir``; restartable, killable."""

    def __init__(self, data_dir: Path, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.env = {**os.environ, "CONCH_LEASE_SECONDS": "3", **(env or {})}
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir / "server.log"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def create_key(self, name: str = "test", *extra: str) -> str:
        """A new API key from `conch keys create` (the last line of its output)."""
        result = conch_command(
            "keys", "create", "--name", name, "--data-dir", str(self.data_dir), *extra, env=self.env
        )
        return result.stdout.strip().splitlines()[-1]

    def start(self, timeout: float = 60.0) -> LiveConch:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        args = [*CONCH, "serve", "--port", str(self.port), "--data-dir", str(self.data_dir)]
        self.process = subprocess.Popen(
            args, stdout=log, stderr=subprocess.STDOUT, env=self.env, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"conch serve exited early:\n{self.log()}")
            try:
                if httpx.get(f"{self.base_url}/openapi.json", timeout=1.0).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"conch serve did not answer within {timeout} s:\n{self.log()}")

    def kill9(self) -> None:
        """SIGKILL the whole process tree: server and runners die at once."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self, signal_number: int = signal.SIGINT) -> None:
        """Stop the server as Ctrl-C does (or a service manager, with SIGTERM), and wait."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal_number)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        with contextlib.suppress(ProcessLookupError):  # runners that outlived their server
            os.killpg(self.process.pid, signal.SIGKILL)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def client(self, key: str | None, prefix: str = "") -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.base_url + prefix, headers=headers, timeout=30.0)

    def __enter__(self) -> LiveConch:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def wait_for_task(client: httpx.Client, task_id: str, timeout: float = 120.0) -> dict[str, object]:
    """Poll the MiniMax query until the task ends; its last answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = client.get("/v1/query/video_generation", params={"task_id": task_id}).json()
        if answer.get("status") in TERMINAL:
            return dict(answer)
        time.sleep(0.3)
    raise AssertionError(f"task {task_id} did not finish within {timeout} s: {answer}")


def task_store(data_dir: Path) -> TaskStore:
    """A live server's task table, read directly."""
    return TaskStore(open_database(f"sqlite:///{data_dir / 'conch.db'}", upgrade=False))


def owner_id(data_dir: Path, key: str) -> int:
    """The id of the key ``key`` in a live server's key table."""
    return KeyStore(task_store(data_dir).engine).authenticate(key).id


def stored_inputs(data_dir: Path, key: str, task_id: str) -> list[Path]:
    """The files a live server stored for task ``task_id``'s input images."""
    task = task_store(data_dir).get(owner_id(data_dir, key), int(task_id))
    return [data_dir / "media" / image.key for image in task.inputs.values()]
