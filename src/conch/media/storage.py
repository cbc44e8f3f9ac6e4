"""Media storage: a local folder (shared storage at scale) holding inputs and outputs.

Keys are relative paths. A runner encodes into a staging file named after its claim and
publishes it with an atomic rename, so a reader never sees half a video and a runner that
lost its claim (or was killed) leaves only a staging file behind, which a runner removes
once that claim is gone (:meth:`MediaStore.staging_files`).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

_INPUTS = "inputs"
_OUTPUTS = "outputs"
_STAGING = "staging"


class MediaStore:
    """Files under one root folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        for folder in (_INPUTS, _OUTPUTS, _STAGING):
            (root / folder).mkdir(parents=True, exist_ok=True)

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
        """Store ``data`` under ``key`` atomically."""
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
        partial.write_bytes(data)
        partial.replace(path)

    def read(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def staging_path(self, task_id: int, fence: int) -> Path:
        return self.root / _STAGING / f"{task_id}.{fence}.mp4"

    def publish(self, staging: Path, key: str) -> int:
        """Move a finished staging file to ``key``; its size in bytes."""
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
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


def _claim_files(folder: Path) -> Iterator[tuple[int, int, Path]]:
    for path in folder.glob("*.*.mp4"):
        task_id, fence, _ = path.name.split(".")
        if task_id.isdigit() and fence.isdigit():
            yield int(task_id), int(fence), path
