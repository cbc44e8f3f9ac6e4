"""Media in a folder: local, or shared between machines (NFS).

Staging files live in the same folder (``staging/``), so publishing is an atomic rename.
Inputs are written the same way, through a ``.partial`` file renamed into place. A write
that fails removes its partial file; one whose writer was killed is removed by a runner's
sweep once it is :data:`~conch.media.storage.PARTIAL_MAX_AGE` old. A write that fails for
want of space raises :class:`~conch.domain.errors.Internal` saying so.

Every file conch stores is readable by its owner only (0600, folders 0700), or also by one
group the operator names (0640 and 0750, ``CONCH_MEDIA_GROUP``): inputs are users' pictures.
"""

from __future__ import annotations

import contextlib
import errno
import grp
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from conch.domain.errors import Internal, NotFound
from conch.media.storage import (
    CHUNK_BYTES,
    INPUTS,
    MISSING,
    OUTPUTS,
    PARTIAL_MAX_AGE,
    STAGING,
    STORAGE_FULL,
    VIDEO_SUFFIX,
    ClaimCheck,
    RecordCheck,
    StoredFile,
    claim_file_name,
    claim_gone,
    discard_staging_in,
    sweep_staging,
)

_PARTIAL = ".partial"
_NO_SPACE = {errno.ENOSPC, errno.EDQUOT}


class FolderStore:
    """Files under one root folder (a :class:`~conch.media.storage.MediaStore`)."""

    def __init__(
        self, root: Path, *, clock: Callable[[], float] = time.time, group: str | None = None
    ) -> None:
        self.root = root
        self.clock = clock
        self._gid = grp.getgrnam(group).gr_gid if group else None
        self._file_mode, self._folder_mode = (0o640, 0o750) if group else (0o600, 0o700)
        for folder in (root, *(root / name for name in (INPUTS, OUTPUTS, STAGING))):
            self._make_folder(folder)

    def path(self, key: str) -> Path:
        """The file that holds ``key``; ValueError for a key that leaves the folder."""
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"media key {key!r} leaves the media folder")
        return path

    def key_of(self, path: Path) -> str:
        return path.resolve().relative_to(self.root.resolve()).as_posix()

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

    def read(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def delete(self, key: str) -> None:
        """Remove the file at ``key`` (if any), and its own folder once that is empty."""
        path = self.path(key)
        path.unlink(missing_ok=True)
        folder = path.parent
        if folder.parent.parent == self.root.resolve():  # inputs/<hex>/, never inputs/ itself
            with contextlib.suppress(OSError):  # not empty: another file still lives there
                folder.rmdir()

    def staging_path(self, task_id: int, fence: int) -> Path:
        return self.root / STAGING / claim_file_name(task_id, fence)

    def publish(self, staging: Path, key: str) -> int:
        """Move a finished staging file to ``key`` (a rename); its size in bytes."""
        path = self.path(key)
        self._make_folder(path.parent)
        self._protect(staging)
        staging.replace(path)
        return path.stat().st_size

    def stat(self, key: str) -> StoredFile:
        try:
            found = self.path(key).stat()
        except FileNotFoundError as error:
            raise NotFound(MISSING) from error
        # The same validator a static file server would give: size and modification time.
        etag = f'"{found.st_mtime_ns:x}-{found.st_size:x}"'
        return StoredFile(found.st_size, etag, found.st_mtime)

    def open_range(self, key: str, start: int, stop: int) -> Iterator[bytes]:
        with self.path(key).open("rb") as file:
            file.seek(start)
            left = stop - start
            while left > 0:
                chunk = file.read(min(CHUNK_BYTES, left))
                if not chunk:
                    return  # the file shrank under us: it was replaced; the client retries
                left -= len(chunk)
                yield chunk

    def copy_to(self, key: str, destination: Path) -> None:
        shutil.copyfile(self.path(key), destination)

    def presigned_url(self, key: str, filename: str, expires_in: int) -> str | None:  # noqa: ARG002
        return None  # a folder has no URL of its own: conch serves it

    def sweep_partial_files(self, older_than: float = PARTIAL_MAX_AGE) -> int:
        """Remove input files left half-written ``older_than`` seconds ago; how many."""
        cutoff = self.clock() - older_than
        removed = 0
        for partial in (self.root / INPUTS).glob(f"*/.*{_PARTIAL}"):
            with contextlib.suppress(FileNotFoundError):  # another sweeper was first
                if partial.stat().st_mtime < cutoff:
                    self.delete(self.key_of(partial))
                    removed += 1
        return removed

    def discard_staging(self, task_id: int) -> None:
        discard_staging_in(self.root / STAGING, task_id)

    def sweep_claims(self, holds: ClaimCheck, recorded: RecordCheck) -> int:
        removed = sweep_staging(self.root / STAGING, holds)
        for path in (self.root / OUTPUTS).glob(f"*{VIDEO_SUFFIX}"):
            if claim_gone(path.name, holds) and not recorded(self.key_of(path)):
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    def _make_folder(self, folder: Path) -> None:
        if not folder.is_dir():
            folder.mkdir(parents=True, exist_ok=True)
            self._protect(folder, self._folder_mode)

    def _protect(self, path: Path, mode: int | None = None) -> None:
        """Give ``path`` conch's mode, and the operator's group when one is set."""
        if self._gid is not None:
            os.chown(path, -1, self._gid)
        path.chmod(self._file_mode if mode is None else mode)
