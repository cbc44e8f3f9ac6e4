"""A real HTTP server on 127.0.0.1 that serves bytes put into it."""

from __future__ import annotations

from support.http_server import LoopbackServer


class FileServer(LoopbackServer):
    """Serves ``files[path] = (body, content_type)``; anything else is a 404."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        super().__init__(host)
        self.files: dict[str, tuple[bytes, str]] = {}

    def put(self, path: str, body: bytes, content_type: str = "image/jpeg") -> str:
        """Serve ``body`` at ``path``; its full URL."""
        self.files[path] = (body, content_type)
        return self.serve(path, body, content_type=content_type)
