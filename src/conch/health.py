"""Readiness: whether this server can do its work now, check by check.

The server's own checks are the database (a query answers) and the media store (a file can
be written and removed); ``conch serve`` adds its runners, and a deployment with a broker
adds the broker (:meth:`Readiness.add`). A check returns None when all is well and a short
reason when not; one that raises counts as failed, with the exception as its reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine, text

from conch.media.storage import MediaStore, input_key_in, new_inputs_folder

log = logging.getLogger(__name__)

Check = Callable[[], str | None]
"""A readiness check: None when ready, else what is wrong."""
PROBE = b"conch readiness probe\n"


@dataclass
class Readiness:
    """Named checks, run in turn by ``/readyz``."""

    checks: dict[str, Check] = field(default_factory=dict)

    def add(self, name: str, check: Check) -> None:
        self.checks[name] = check

    def run(self) -> dict[str, str | None]:
        """Each check's problem (None: ok), by name."""
        found: dict[str, str | None] = {}
        for name, check in self.checks.items():
            try:
                found[name] = check()
            except Exception as error:  # a check that breaks is a failed check
                found[name] = f"{type(error).__name__}: {error}"[:300]
        failing = {name: problem for name, problem in found.items() if problem}
        if failing:
            log.warning("not ready: %s", failing)
        return found


def database_check(engine: Engine) -> Check:
    def check() -> str | None:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return None

    return check


def media_check(media: MediaStore) -> Check:
    def check() -> str | None:
        key = input_key_in(new_inputs_folder(), "readiness", "probe")
        media.write(key, PROBE)
        media.delete(key)
        return None

    return check
