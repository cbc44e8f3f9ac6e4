"""The logging policy's parts: JSON lines with the context's trace and task ids, and the
last-guard scrub of secrets in any line."""

from __future__ import annotations

import json
import logging
import threading

from conch.logs import JsonFormatter, bind_trace, scrub, task_context


def record(message: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("conch.test", logging.INFO, __file__, 1, message, args, None)


def test_a_json_line_carries_the_trace_and_task_ids_of_its_context() -> None:
    formatter = JsonFormatter("runner-0")
    plain = json.loads(formatter.format(record("hello %s", "there")))
    assert plain["message"] == "hello there" and "trace_id" not in plain
    assert (plain["process"], plain["level"], plain["logger"]) == ("runner-0", "INFO", "conch.test")
    seen: list[dict[str, object]] = []

    def request() -> None:  # each request has its own context, as uvicorn gives it
        bind_trace("abc123")
        seen.append(json.loads(formatter.format(record("in a request"))))
        with task_context(42, "def456"):
            seen.append(json.loads(formatter.format(record("in a task"))))
        seen.append(json.loads(formatter.format(record("after the task"))))

    worker = threading.Thread(target=request)
    worker.start()
    worker.join()
    assert [(line.get("trace_id"), line.get("task_id")) for line in seen] == [
        ("abc123", None),
        ("def456", "42"),
        ("abc123", None),
    ]
    assert "trace_id" not in json.loads(formatter.format(record("elsewhere")))


def test_secrets_are_scrubbed_from_any_line() -> None:
    line = (
        "key sk-conch-AbC_123-xyz secret whsec_c2VjcmV0 Authorization: Bearer tok.en "
        "link /downloads/1?expires=9&signature=deadbeef&x=1 image data:image/png;base64,"
        "iVBORw0KGgoAAAANSUhEUg== hook ?token=SECRET"
    )
    cleaned = scrub(line)
    for secret in ("AbC_123", "c2VjcmV0", "tok.en", "deadbeef", "iVBORw0KGgo", "SECRET"):
        assert secret not in cleaned
    assert "expires=9" in cleaned and "&x=1" in cleaned
