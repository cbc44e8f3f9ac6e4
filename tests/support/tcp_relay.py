"""A TCP relay on 127.0.0.1 in front of a real service, that the test can cut (every
connection dropped, new ones refused) and mend: a database that goes away and comes back."""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
from types import TracebackType


class TcpRelay:
    """Forwards each connection to ``(host, port)`` until :meth:`cut`."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.open = threading.Event()
        self.open.set()
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        relay = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                relay._pipe(self.request)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]

    def __enter__(self) -> TcpRelay:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.cut()
        self.server.shutdown()
        self.server.server_close()

    def cut(self) -> None:
        """Drop every connection; refuse new ones until :meth:`mend`."""
        self.open.clear()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            self._sockets.clear()

    def mend(self) -> None:
        self.open.set()

    def _pipe(self, client: socket.socket) -> None:
        if not self.open.is_set():
            return  # closed at once: the client sees its connection refused or reset
        upstream = socket.create_connection(self.upstream)
        with self._lock:
            self._sockets |= {client, upstream}
        back = threading.Thread(target=self._copy, args=(upstream, client), daemon=True)
        back.start()
        self._copy(client, upstream)
        back.join()
        upstream.close()

    @staticmethod
    def _copy(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)
