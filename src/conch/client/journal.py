"""A record of the tasks submitted from this machine, one JSON line each, so that they can
be listed and resumed even where the service has no call that lists tasks (MiniMax,
QuickRouter, Modelverse), and even after the process that submitted them died.

The file is ``$CONCH_JOURNAL``, else ``$XDG_STATE_HOME/conch/tasks.jsonl`` (by default
``~/.local/state/conch/tasks.jsonl``). Each record is one ``write`` to a file opened for
appending, so processes that submit at the same time do not mix their lines.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

JOURNAL_ENV = "CONCH_JOURNAL"


@dataclass(frozen=True)
class Entry:
    """One submitted task: where it went and where its video was to go."""

    task_id: str
    service: str
    """The service's base URL and dialect, as ``dialect@url``."""
    output: str | None = None
    """Where the video was to go, as an absolute path."""

    @classmethod
    def from_json(cls, line: str) -> Entry:
        """An entry from its line; keys it does not know (written by other versions, such
        as ``model`` and ``submitted_at``) are left aside. ValueError if it is not one."""
        kept: Any = json.loads(line)
        if not isinstance(kept, dict):
            raise ValueError("not a JSON object")
        known = {field.name for field in fields(cls)}
        return cls(**{name: value for name, value in kept.items() if name in known})


def service_label(base_url: str, dialect: str) -> str:
    return f"{dialect}@{base_url}"


class Journal:
    """The journal file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def default(cls) -> Journal:
        given = os.environ.get(JOURNAL_ENV)
        if given:
            return cls(Path(given).expanduser())
        state = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
        return cls(Path(state) / "conch" / "tasks.jsonl")

    def record(self, entry: Entry) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(asdict(entry), ensure_ascii=False) + "\n"
        with self.path.open("a", encoding="utf-8") as out:
            out.write(line)

    def entries(self, service: str | None = None) -> list[Entry]:
        """The entries (of one service), newest first; lines that do not parse are skipped."""
        if not self.path.exists():
            return []
        found: list[Entry] = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                entry = Entry.from_json(line)
            except (ValueError, TypeError):
                continue
            if service is None or entry.service == service:
                found.append(entry)
        return found[::-1]

    def find(self, service: str, task_id: str) -> Entry | None:
        """The newest entry of ``task_id`` on ``service``, if this machine submitted it."""
        return next((e for e in self.entries(service) if e.task_id == task_id), None)
