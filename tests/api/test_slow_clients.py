"""A client that is slow to send its request loses the connection instead of holding it:
an idle connection, a head trickled a byte at a time, a body shorter than it declared."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import httpx
import pytest

from support.live import SERVER_ENV, LiveConch

# One second for a head, a kilobyte a second for a body: the tests below send far less.
ENV = {**SERVER_ENV, "CONCH_HEADER_TIMEOUT": "1", "CONCH_BODY_MIN_RATE": "1000"}
PATIENCE = 120.0
"""How long a socket waits for the server's move: ending there means it never came."""


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveConch]:
    with LiveConch(tmp_path_factory.mktemp("slow"), ENV) as server:
        yield server


def _connect(server: LiveConch) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=PATIENCE)
    return sock


def _closed_by_server(sock: socket.socket) -> bytes:
    """Everything the server sent until it closed the connection.

    A close can arrive as a reset: the kernel answers with one when bytes the client
    sent reach a socket the server has already closed, as a trickled head's next byte
    may."""
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    return received


def test_an_idle_connection_is_closed(strict: LiveConch) -> None:
    with _connect(strict) as sock:
        assert _closed_by_server(sock) == b""


def test_a_trickled_head_is_cut_off(strict: LiveConch) -> None:
    stop = threading.Event()
    with _connect(strict) as sock:

        def trickle() -> None:
            for byte in b"GET /v1/query/video_generation?task_id=1 HTTP/1.1\r\nHost: x\r\n":
                if stop.wait(0.2):
                    return
                try:
                    sock.send(bytes([byte]))
                except OSError:
                    return

        sender = threading.Thread(target=trickle, daemon=True)
        sender.start()
        assert _closed_by_server(sock) == b""  # closed before the head was whole
        stop.set()
        sender.join()


def test_a_body_shorter_than_declared_does_not_hang(strict: LiveConch) -> None:
    key = strict.create_key("slow")
    head = (
        "POST /v1/video_generation HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {key}\r\nContent-Length: 1000\r\n\r\n"
    )
    with _connect(strict) as sock:
        sock.sendall(head.encode() + b'{"model": "MiniMax-Hailuo-02"')
        assert b" 200 OK" not in _closed_by_server(sock)


def test_a_prompt_client_is_served_as_before(strict: LiveConch) -> None:
    with httpx.Client(base_url=strict.base_url) as client:
        for _ in range(3):  # on one kept-alive connection
            answer = client.get("/v1/query/video_generation", params={"task_id": "1"})
            assert answer.json()["base_resp"]["status_code"] == 1004
