"""The in-process client's reads, and the journal of tasks submitted from this machine."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import pytest

from conch.client.journal import Entry, Journal
from conch.client.request import build_request
from conch.config import Settings
from conch.runner.inprocess import LocalClient
from conch.submission import submit
from support.photos import encode, photo


def test_a_task_is_read_once_per_look_once_its_owner_is_known(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with LocalClient(Settings(data_dir=tmp_path / "data")) as local:
        # A task submitted through a server's key, not the in-process one.
        services = local.services
        other, _ = services.keys.create("server key")
        request = build_request(model="I2V-01", first_frame=encode(photo("astronaut")))
        accepted = anyio.run(partial(submit, services, other, request, dialect="minimax"))
        reads: list[str] = []
        for store, name in ((services.tasks, "find"), (services.keys, "list")):
            monkeypatch.setattr(store, name, _counted(getattr(store, name), name, reads))
        assert local.status(accepted.task_id).task_id == accepted.task_id
        first = list(reads)
        reads.clear()
        for _ in range(3):
            local.status(accepted.task_id)
    assert first == ["find", "list", "find"]  # its own tasks first, then the others' keys
    assert reads == ["find"] * 3  # then one read a look


def test_journal_lines_of_other_versions_still_read(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "tasks.jsonl")
    older = {"task_id": "1", "service": "minimax@x", "model": "I2V-01", "submitted_at": 1.0}
    journal.path.write_text(json.dumps(older) + "\n" + "not json\n" + "[1]\n")
    journal.record(Entry("2", "minimax@x", "/videos/2.mp4"))
    assert journal.entries() == [
        Entry("2", "minimax@x", "/videos/2.mp4"),
        Entry("1", "minimax@x", None),
    ]
    assert journal.find("minimax@x", "1") == Entry("1", "minimax@x", None)
    assert journal.find("minimax@y", "1") is None


def _counted(method: Any, name: str, reads: list[str]) -> Any:
    def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append(name)
        return method(*args, **kwargs)

    return counted
