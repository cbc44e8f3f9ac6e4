"""Media storage: a local folder (shared storage at scale) holding inputs and outputs.

Keys are relative paths. A runner encodes into a staging file named after its claim and
publishes it with an atomic rename, so a reader never sees half a video and a runner that
lost its claim (or was killed) leaves only a staging file behind, which a runner removes
once that claim is gone (:meth:`MediaStore.staging_files`).

Inputs are written the same way, through a ``.partial`` file renamed into place. A write
that fails removes its partial file; one whose writer was killed is removed by a runner's
sweep once it is :data:`PARTIAL_MAX_AGE` old. A write that fails for want of space raises
:class:`~conch.domain.errors.Internal` saying so.

Every file conch stores is readable by its owner only (0600, folders 0700), or also by one
group the operator names (0640 and 0750, ``CONCH_MEDIA_GROUP``): inputs are users' pictures.
"""

from __future__ import annotations

import contextlib
import errno
import grp
import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from conch.domain.errors import Internal

_INPUTS = "inputs"
_OUTPUTS = "outputs"
_STAGING = "staging"
_PARTIAL = ".partial"
_NO_SPACE = {errno.ENOSPC, errno.EDQUOT}

PARTIAL_MAX_AGE = 600.0
"""Seconds after which a partial file is taken for abandoned: a write takes far less."""
STORAGE_FULL = (
    "storage is full: the server could not store the images; try again once space is freed"
)


class MediaStore:
    """Files under one root folder."""

    def __init__(
        self, root: Path, *, clock: Callable[[], float] = time.time, group: str | None = None
    ) -> None:
        self.root = root
        self.clock = clock
        self._gid = grp.getgrnam(group).gr_gid if group else None
        self._file_mode, self._folder_mode = (0o640, 0o750) if group else (0o600, 0o700)
        for folder in (root, *(root / name for name in (_INPUTS, _OUTPUTS, _STAGING))):
            self._make_folder(folder)

    @staticmethod
    def new_inputs_folder() -> str:
        """A fresh folder for one submit's input images: ``inputs/<random hex>``.

        Not named after the task: a task id drawn twice must never let one submit's files
        overwrite (or its cleanup delete) another task's.
        """
        return f"{_INPUTS}/{uuid.uuid4().hex}"

    @staticmethod
    def input_key_in(folder: str, role: str, extension: str) -> str:
        return f"{folder}/{role}.{extension}"

    def delete(self, key: str) -> None:
        """Remove the file at ``key`` (if any), and its own folder once that is empty."""
        path = self.path(key)
        path.unlink(missing_ok=True)
        folder = path.parent
        if folder.parent.parent == self.root.resolve():  # inputs/<hex>/, never inputs/ itself
            with contextlib.suppress(OSError):  # not empty: another file still lives there
                folder.rmdir()

    @staticmethod
    def output_key(task_id: int, fence: int) -> str:
        # One key per claim: a stale runner publishing late cannot overwrite the winner.
        return f"{_OUTPUTS}/{task_id}.{fence}.mp4"

    def path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"media key {key!r} leaves the media folder")
        return path

    def write(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` atomically; Internal when the disk is full."""
        path = self.path(key)
        partial = path.with_name(f".{path.name}.{os.getpid()}{_PARTIAL}")
        try:
            self._make_folder(path.parent)
            partial.write_bytes(data)
            self._protect(partial)
            partial.replace(path)
        except OSError as error:
            partial.unlink(missing_ok=True)
            if error.errno in _NO_SPACE:
                raise Internal(STORAGE_FULL) from error
            raise

    def sweep_partial_files(self, older_than: float = PARTIAL_MAX_AGE) -> int:
        """Remove input files left half-written ``older_than`` seconds ago; how many."""
        cutoff = self.clock() - older_than
        removed = 0
        for partial in (self.root / _INPUTS).glob(f"*/.*{_PARTIAL}"):
            with contextlib.suppress(FileNotFoundError):  # another sweeper was first
                if partial.stat().st_mtime < cutoff:
                    self.delete(self.key_of(partial))
                    removed += 1
        return removed

    def read(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def staging_path(self, task_id: int, fence: int) -> Path:
        return self.root / _STAGING / f"{task_id}.{fence}.mp4"

    def publish(self, staging: Path, key: str) -> int:
        """Move a finished staging file to ``key``; its size in bytes."""
        path = self.path(key)
        self._make_folder(path.parent)
        self._protect(staging)
        staging.replace(path)
        return path.stat().st_size

    def staging_files(self) -> Iterator[tuple[int, int, Path]]:
        """Every staging file with the (task id, fence) of the claim that wrote it."""
        return _claim_files(self.root / _STAGING)

    def output_files(self) -> Iterator[tuple[int, int, Path]]:
        """Every published output with the (task id, fence) of the claim that made it."""
        return _claim_files(self.root / _OUTPUTS)

    def key_of(self, path: Path) -> str:
        return path.resolve().relative_to(self.root.resolve()).as_posix()

    def _make_folder(self, folder: Path) -> None:
        if not folder.is_dir():
            folder.mkdir(parents=True, exist_ok=True)
            self._protect(folder, self._folder_mode)

    def _protect(self, path: Path, mode: int | None = None) -> None:
        """Give ``path`` conch's mode, and the operator's group when one is set."""
        if self._gid is not None:
            os.chown(path, -1, self._gid)
        path.chmod(self._file_mode if mode is None else mode)


def _claim_files(folder: Path) -> Iterator[tuple[int, int, Path]]:
    for path in folder.glob("*.*.mp4"):
        task_id, fence, _ = path.name.split(".")
        if task_id.isdigit() and fence.isdigit():
            yield int(task_id), int(fence), path
