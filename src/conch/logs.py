"""One logging policy for every conch process: what is logged, how, and what never is.

- Outbound URLs never appear with their user-info or query (where receivers and providers
  put tokens): conch's own lines use :func:`conch.net.targets.display_url`, and httpx's and
  httpcore's request lines, which print URLs whole, are kept to warnings and above.
- Access lines of signed download links leave out the query: the signature in it works
  without a key until the link expires.
- API keys are shown once, by ``conch keys create`` or the first start's banner, and never
  logged. As a last guard, every line is scrubbed of anything shaped like a key, a signing
  secret, a signature or token parameter, a data URL's bytes, or a password in a URL (a
  broker's, a database's) (:func:`scrub`).
- ``log_format = "json"`` writes one JSON object a line (:class:`JsonFormatter`), carrying
  the trace id of the request that caused it (:func:`bind_trace`, set by the API's trace
  middleware and kept across threads) and, in a runner, the task id and the trace id of the
  submit that made the task (:func:`task_context`).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

from conch.media.links import DOWNLOAD_PATH

FORMAT = "%(asctime)s {name} %(levelname)s %(message)s"
_DOWNLOADS = DOWNLOAD_PATH.split("{", 1)[0]
QUIET = ("httpx", "httpcore")
"""Libraries whose INFO lines print whole URLs."""

_trace_id: ContextVar[str | None] = ContextVar("conch_trace_id", default=None)
_task_id: ContextVar[int | None] = ContextVar("conch_task_id", default=None)

_SECRETS = [
    (re.compile(r"sk-conch-[A-Za-z0-9_-]+"), "sk-conch-[redacted]"),
    (re.compile(r"whsec_[A-Za-z0-9+/=_-]+"), "whsec_[redacted]"),
    (re.compile(r"(?i)\b(bearer)\s+[^\s\"',]+"), r"\1 [redacted]"),
    (
        re.compile(r"(?i)([?&](?:signature|token|access_token|secret|secret_key|key)=)[^&\s\"']+"),
        r"\1[redacted]",
    ),
    (re.compile(r"(data:[\w/+.-]*;base64,)[A-Za-z0-9+/=\s\\]{8,}"), r"\1[redacted]"),
    # A password in a URL's user-info: redis://:pw@, amqp://user:pw@, postgresql://u:pw@.
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s:/@]*:)[^\s/@]+@"), r"\1[redacted]@"),
]


def scrub(text: str) -> str:
    """``text`` with anything shaped like a key, secret, signature or data URL blanked."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


def current_trace_id() -> str | None:
    """The trace id of the request (or task) this code runs for, if any."""
    return _trace_id.get()


def bind_trace(trace_id: str | None) -> None:
    """Lines logged from here on in this context (and threads it starts) carry ``trace_id``."""
    _trace_id.set(trace_id)


@contextmanager
def task_context(task_id: int, trace_id: str | None) -> Iterator[None]:
    """Lines logged inside carry the task's id and the trace id of the submit that made it."""
    task_token, trace_token = _task_id.set(task_id), _trace_id.set(trace_id)
    try:
        yield
    finally:
        _task_id.reset(task_token)
        _trace_id.reset(trace_token)


class DownloadQueryFilter(logging.Filter):
    """Drops the query of download links from uvicorn's access lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            path = args[2]
            if path.startswith(_DOWNLOADS) and "?" in path:
                record.args = (*args[:2], path.split("?", 1)[0], *args[3:])
        return True


class ScrubbingFormatter(logging.Formatter):
    """The text format, scrubbed (:func:`scrub`)."""

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, process, logger, message, and the trace and
    task ids where the line has them; an exception's traceback as ``exception``."""

    def __init__(self, process: str | None = None) -> None:
        super().__init__()
        self.process = process

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "process": self.process or record.processName,
            "logger": record.name,
            "message": scrub(record.getMessage()),
        }
        trace_id, task_id = _trace_id.get(), _task_id.get()
        if trace_id is not None:
            line["trace_id"] = trace_id
        if task_id is not None:
            line["task_id"] = str(task_id)
        if record.exc_info:
            line["exception"] = scrub(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False)


def configure(name: str = "%(name)s", log_format: str = "text") -> None:
    """Log INFO and above to stderr, each line naming ``name`` (the process, or the logger),
    as text or (``log_format="json"``) JSON objects."""
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter(None if name.startswith("%") else name))
    else:
        handler.setFormatter(ScrubbingFormatter(FORMAT.format(name=name)))
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    for library in QUIET:
        logging.getLogger(library).setLevel(logging.WARNING)
    logging.getLogger("uvicorn.access").addFilter(DownloadQueryFilter())
