"""A scripted, faulty MiniMax-dialect upstream: a real HTTP server on 127.0.0.1.

What it does with a task is chosen by the create's prompt (:attr:`FaultyUpstream.scripts`):
how the create is answered (``ok``, an HTTP 500 after recording the task, a connection cut
after reading it, a hang past the client's timeout, or a refusal with a MiniMax code), what
each poll answers (a status, an HTTP error, a rate-limit code), and what each download link
does (serve the video with Range, answer 403 as an expired link, 404, serve a truncated MP4,
or cut the body half-way). Paths may carry any prefix (``/a/v1/...``): several upstreams can
be one server. Under a prefix containing ``nolist`` it has no task list, as MiniMax has none.
Every create is recorded, so a test can count them.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from support.http_server import Exchange, LoopbackServer

KEY = "sk-faulty-upstream-key"
"""The key the upstream accepts (others are answered 2049)."""


@dataclass
class Script:
    """What the upstream does with a task made with one prompt."""

    create: str = "ok"
    """ok | 500 | cut | hang | refuse:<MiniMax code>"""
    create_at: dict[str, str] = field(default_factory=dict)
    """The create's behaviour under a prefix, where it differs."""
    polls: list[str] = field(default_factory=lambda: ["Processing", "Success"])
    """Each poll takes the first; the last repeats. A status name, Fail:<code>, http:<status>
    or code:<MiniMax code>."""
    links: list[str] = field(default_factory=lambda: ["ok"])
    """Each retrieve takes the first; the last repeats: ok | expired | 404 | truncated | cut."""


@dataclass
class UpstreamTask:
    task_id: str
    prefix: str
    prompt: str
    model: str
    script: Script
    created_at: float
    polls: int = 0
    links: int = 0


_PREFIX = re.compile(r"^(/[^/]+)?(/v1/.*)$")


class FaultyUpstream(LoopbackServer):
    """The scripted upstream; ``video`` is the MP4 a successful task delivers."""

    def __init__(self, video: bytes, *, hang_seconds: float = 3.0) -> None:
        super().__init__(fallback=self._route)
        self.video = video
        self.hang_seconds = hang_seconds
        self.scripts: dict[str, Script] = {}
        self.tasks: dict[str, UpstreamTask] = {}
        self._lock = threading.Lock()
        self._next = 0

    # -- what tests read and change --------------------------------------------------------

    def creates(self, prompt: str, prefix: str | None = None) -> int:
        """Creates received with ``prompt`` (under ``prefix``, when given), answered or not."""
        return sum(
            1
            for seen in self.seen
            if seen.method == "POST"
            and seen.path.endswith("/v1/video_generation")
            and (prefix is None or seen.path == f"{prefix}/v1/video_generation")
            and seen.json.get("prompt") == prompt
        )

    def task_of(self, prompt: str) -> UpstreamTask:
        (task,) = [task for task in self.tasks.values() if task.prompt == prompt]
        return task

    def then(self, prompt: str, *polls: str) -> None:
        """From the next poll on, the task made with ``prompt`` answers ``polls``."""
        task = self.task_of(prompt)
        with self._lock:
            task.script.polls = [*task.script.polls[: task.polls], *polls]

    # -- answering -------------------------------------------------------------------------

    def _route(self, exchange: Exchange) -> None:
        parts = urlsplit(exchange.path)
        found = _PREFIX.match(parts.path)
        if found is None:
            return self._file(exchange, parts.path)
        prefix, path = found[1] or "", found[2]
        query = {name: values[0] for name, values in parse_qs(parts.query).items()}
        if exchange.headers.get("Authorization") != f"Bearer {KEY}":
            return _minimax(exchange, 2049, "invalid api key")
        if path == "/v1/video_generation":
            return self._create(exchange, prefix)
        if path == "/v1/query/video_generation":
            return self._poll(exchange, query.get("task_id", ""))
        if path == "/v1/files/retrieve":
            return self._retrieve(exchange, query.get("file_id", "").removesuffix("-file"))
        if path == "/v1/tasks" and "nolist" not in prefix:
            return self._list(exchange, prefix)
        exchange.reply(404, b"not found", content_type="text/plain")
        return None

    def _create(self, exchange: Exchange, prefix: str) -> None:
        assert exchange.seen is not None
        body = json.loads(exchange.seen.body)
        script = self.scripts.get(body.get("prompt", ""), Script())
        create = script.create_at.get(prefix, script.create)
        if create.startswith("refuse:"):
            return _minimax(exchange, int(create.split(":")[1]), "refused")
        with self._lock:
            self._next += 1
            task_id = f"up-{self._next}"
            self.tasks[task_id] = UpstreamTask(
                task_id, prefix, body.get("prompt", ""), body["model"], script, time.time()
            )
        if create == "500":
            return exchange.reply(500, b"upstream error", content_type="text/plain")
        if create == "cut":
            exchange.close_connection = True
            return None  # read, recorded, never answered: the connection is closed
        if create == "hang":
            time.sleep(self.hang_seconds)
        return _json(exchange, {"task_id": task_id, "base_resp": _ok()})

    def _poll(self, exchange: Exchange, task_id: str) -> None:
        task = self.tasks.get(task_id)
        if task is None:
            return _minimax(exchange, 2013, "no such task")
        with self._lock:
            polls = task.script.polls
            answer = polls[min(task.polls, len(polls) - 1)]
            task.polls += 1
        if answer.startswith("http:"):
            status = int(answer.split(":")[1])
            return exchange.reply(status, b"busy", content_type="text/plain")
        if answer.startswith("code:"):
            return _minimax(exchange, int(answer.split(":")[1]), "rate limit")
        body: dict[str, Any] = {"task_id": task_id, "status": answer, "file_id": ""}
        base = _ok()
        if answer.startswith("Fail:"):
            body["status"] = "Fail"
            base = {"status_code": int(answer.split(":")[1]), "status_msg": "refused output"}
        if answer == "Success":
            body |= {"file_id": f"{task_id}-file", "video_width": 128, "video_height": 72}
        return _json(exchange, {**body, "base_resp": base})

    def _retrieve(self, exchange: Exchange, task_id: str) -> None:
        task = self.tasks.get(task_id)
        if task is None:
            return _minimax(exchange, 2013, "no such file")
        with self._lock:
            number = task.links
            task.links += 1
        file = {
            "file_id": f"{task_id}-file",
            "bytes": len(self.video),
            "download_url": self.url(f"/files/{task_id}/{number}"),
        }
        return _json(exchange, {"file": file, "base_resp": _ok()})

    def _list(self, exchange: Exchange, prefix: str) -> None:
        views = [
            {
                "task_id": task.task_id,
                "status": "processing",
                "model": task.model,
                "mode": "text-to-video",
                "duration": 6,
                "resolution": "768P",
                "prompt": task.prompt,
                "progress": 0,
                "created_at": int(task.created_at),
                "finished_at": None,
                "file_id": None,
                "dialect": "minimax",
                "error": None,
            }
            for task in sorted(self.tasks.values(), key=lambda t: -t.created_at)
            if task.prefix == prefix
        ]
        return _json(exchange, {"tasks": views, "has_more": False, "next_after": None})

    def _file(self, exchange: Exchange, path: str) -> None:
        found = re.fullmatch(r"/files/([^/]+)/(\d+)", path)
        task = self.tasks.get(found[1]) if found else None
        if found is None or task is None:
            return exchange.reply(404, b"no such file", content_type="text/plain")
        links = task.script.links
        behaviour = links[min(int(found[2]), len(links) - 1)]
        video = self.video
        if behaviour == "expired":
            return exchange.reply(403, b"link expired", content_type="text/plain")
        if behaviour == "404":
            return exchange.reply(404, b"gone", content_type="text/plain")
        if behaviour == "truncated":
            return exchange.reply(200, video[: len(video) // 2], content_type="video/mp4")
        start = _range_start(exchange.headers.get("Range"))
        if start:
            headers = {"Content-Range": f"bytes {start}-{len(video) - 1}/{len(video)}"}
            return exchange.reply(206, video[start:], content_type="video/mp4", headers=headers)
        if behaviour == "cut":
            exchange.send_response(200)
            exchange.send_header("Content-Type", "video/mp4")
            exchange.send_header("Content-Length", str(len(video)))
            exchange.end_headers()
            exchange.wfile.write(video[: len(video) // 2])
            exchange.close_connection = True
            return None
        return exchange.reply(200, video, content_type="video/mp4")


def _range_start(header: str | None) -> int:
    found = re.fullmatch(r"bytes=(\d+)-", header or "")
    return int(found[1]) if found else 0


def _ok() -> dict[str, Any]:
    return {"status_code": 0, "status_msg": "success"}


def _minimax(exchange: Exchange, code: int, message: str) -> None:
    _json(exchange, {"base_resp": {"status_code": code, "status_msg": message}})


def _json(exchange: Exchange, body: dict[str, Any]) -> None:
    exchange.reply(200, json.dumps(body).encode(), content_type="application/json")
