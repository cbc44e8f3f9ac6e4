"""Chanjing access tokens shared by every process on this machine that uses the same app.

Chanjing keeps one live token per app: issuing a token kills the app's previous one, so
processes that each fetch their own (several ``conch`` commands, a pool of workers) log each
other out (``api-notes.md`` §5). Instead, each app's token is kept in a file readable by its
owner only; a process that finds it missing, refused or about to expire fetches a new one
while it holds an exclusive lock on the app's lock file, and the others wait for that token
and use it.

The files live in ``$CONCH_TOKEN_CACHE``, else ``$XDG_STATE_HOME/conch/chanjing-tokens``
(by default ``~/.local/state/conch/chanjing-tokens``), one pair per service and app. A file
holds the token, its expiry, and a hash of the secret key it was issued for, so that a wrong
secret never borrows a token a right one fetched.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

TOKEN_CACHE_ENV = "CONCH_TOKEN_CACHE"


def default_token_dir() -> Path:
    """Where Chanjing tokens are shared: ``$CONCH_TOKEN_CACHE``, else under XDG state."""
    given = os.environ.get(TOKEN_CACHE_ENV)
    if given:
        return Path(given).expanduser()
    state = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(state) / "conch" / "chanjing-tokens"


@dataclass(frozen=True)
class SharedToken:
    """A token as the file keeps it: the token, and the unix time from which it is to be
    renewed (set by whoever fetched it, ahead of its expiry)."""

    token: str
    renew_at: float


class TokenFile:
    """One app's shared token on one service: ``<key>.json`` and its lock, ``<key>.lock``.

    The JSON file is replaced whole (written aside, then renamed), so a reader never sees
    half of it; the lock file is never replaced, so its lock means the same file to all.
    A folder that cannot be written turns sharing off for this process, with a warning.
    """

    def __init__(self, directory: Path, base_url: str, app_id: str, secret_key: str) -> None:
        name = hashlib.sha256(f"{base_url}\n{app_id}".encode()).hexdigest()[:32]
        self.directory = directory
        self.path = directory / f"{name}.json"
        self.lock_path = directory / f"{name}.lock"
        self.app_id = app_id
        self._secret_hash = hashlib.sha256(secret_key.encode()).hexdigest()
        self._lock_fd: int | None = None
        self.usable = True

    def __repr__(self) -> str:
        return f"TokenFile({str(self.path)!r})"

    def lock(self) -> bool:
        """Take the app's lock without waiting; False while another holder has it.

        True also when the folder is unusable: this process then works alone."""
        if not self.usable:
            return True
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as error:
            self._give_up(error)
            return True
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except OSError as error:
            os.close(fd)
            self._give_up(error)
            return True
        self._lock_fd = fd
        return True

    def unlock(self) -> None:
        """Let the next holder in (a no-op when the lock is not held)."""
        fd, self._lock_fd = self._lock_fd, None
        if fd is not None:
            os.close(fd)  # closing the descriptor drops its flock

    def read(self) -> SharedToken | None:
        """The shared token, if there is one for this app and secret."""
        if not self.usable:
            return None
        try:
            kept = json.loads(self.path.read_text(encoding="utf-8"))
            if kept["app_id"] != self.app_id or kept["secret_sha256"] != self._secret_hash:
                return None
            return SharedToken(str(kept["access_token"]), float(kept["renew_at"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None  # none yet, or unreadable: fetch one

    def write(self, shared: SharedToken) -> None:
        """Share ``shared`` with the app's other processes."""
        if not self.usable:
            return
        kept = {
            "app_id": self.app_id,
            "secret_sha256": self._secret_hash,
            "access_token": shared.token,
            "renew_at": shared.renew_at,
        }
        aside = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        try:
            fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(kept, out)
            os.replace(aside, self.path)
        except OSError as error:
            with contextlib.suppress(OSError):
                aside.unlink()
            self._give_up(error)

    def _give_up(self, error: OSError) -> None:
        self.usable = False
        warnings.warn(
            f"cannot share Chanjing tokens in {self.directory} ({error}); this process keeps "
            f"its own, which other processes on the same app will invalidate (set "
            f"{TOKEN_CACHE_ENV} to a writable folder)",
            RuntimeWarning,
            stacklevel=3,
        )
