"""Credentials are checked from the headers before the body is read, and an address that
keeps failing them is slowed down with the dialect's rate-limit answer."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import httpx
import pytest

from conch.api.auth_limits import FailedAuthLimit
from conch.domain.errors import RateLimited
from support.live import SERVER_ENV, LiveConch

DECLARED = 60 * 1024 * 1024
"""A body this large is announced; only its first kilobyte is ever sent."""


def _answer_to_a_body_never_sent(base_url: str, path: str, headers: dict[str, str]) -> dict:
    """Send a request's head and 1 KB of its 60 MB body, then read the answer.

    A server that read the body before checking the credentials would wait for the rest
    of it, and the socket's timeout would end the test in a failure.
    """
    host, port = base_url.removeprefix("http://").split(":")
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {DECLARED}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    head = ("\r\n".join([*lines, "Content-Type: application/json", "", ""])).encode()
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        sock.sendall(head + b"[" + b"1," * 500)
        answer = b""
        while b"\r\n\r\n" not in answer or not _complete(answer):
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    body = rest.split(b"\r\n\r\n", 1)[1]
    return {"status": int(status_line.split()[1]), "body": json.loads(body)}


def _complete(answer: bytes) -> bool:
    head, _, body = answer.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return False


@pytest.mark.parametrize(
    ("headers", "code"),
    [({}, 1004), ({"Authorization": "Bearer sk-conch-not-a-key"}, 2049)],
    ids=["no key", "unknown key"],
)
def test_a_minimax_submit_without_a_valid_key_is_refused_before_its_body(
    conch: LiveConch, headers: dict[str, str], code: int
) -> None:
    answer = _answer_to_a_body_never_sent(conch.base_url, "/v1/video_generation", headers)
    assert answer["status"] == 200 and answer["body"]["base_resp"]["status_code"] == code


def test_chanjing_and_modelverse_submits_are_refused_before_their_bodies(
    conch: LiveConch,
) -> None:
    chanjing = _answer_to_a_body_never_sent(
        conch.base_url, "/open/v1/ai_creation/task/submit", {"access_token": "nope"}
    )
    assert chanjing["body"]["code"] == 10400
    modelverse = _answer_to_a_body_never_sent(
        conch.base_url, "/v1/tasks/submit", {"Authorization": "sk-conch-not-a-key"}
    )
    assert modelverse["status"] == 401 and modelverse["body"]["error"]["type"] == "auth_error"


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveConch]:
    """A conch that tolerates three failed authentications a minute per address."""
    env = {**SERVER_ENV, "CONCH_AUTH_FAILURE_LIMIT": "3", "CONCH_AUTH_FAILURE_WINDOW": "600"}
    with LiveConch(tmp_path_factory.mktemp("strict"), env) as server:
        yield server


def test_an_address_that_keeps_failing_gets_the_rate_limit_answer(strict: LiveConch) -> None:
    good = strict.create_key("good")
    with strict.client("sk-conch-guess") as guesser:
        for _ in range(3):
            answer = guesser.get("/v1/query/video_generation", params={"task_id": "1"})
            assert answer.json()["base_resp"]["status_code"] == 2049
        limited = guesser.get("/v1/query/video_generation", params={"task_id": "1"}).json()
    assert limited["base_resp"]["status_code"] == 1002
    assert "too many failed authentications" in limited["base_resp"]["status_msg"]
    # Modelverse speaks real HTTP statuses: a 429 with Retry-After.
    modelverse = httpx.get(
        f"{strict.base_url}/v1/tasks/status",
        params={"task_id": "1"},
        headers={"Authorization": good},
    )
    assert modelverse.status_code == 429 and int(modelverse.headers["Retry-After"]) > 0


def test_failures_leave_the_window_as_time_passes() -> None:
    now = [1000.0]
    limit = FailedAuthLimit(limit=2, window=60.0, clock=lambda: now[0])
    limit.failed("10.0.0.1")
    now[0] += 30
    limit.failed("10.0.0.1")
    with pytest.raises(RateLimited) as refused:
        limit.check("10.0.0.1")
    assert refused.value.retry_after == pytest.approx(30.0)
    limit.check("10.0.0.2")  # another address is not affected
    now[0] += 30.5  # the first failure left the window
    limit.check("10.0.0.1")
