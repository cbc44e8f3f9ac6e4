"""Media storage: what conch asks of the place that holds inputs and outputs.

:class:`MediaStore` is the interface; :mod:`conch.media.folder` (a local or NFS folder) and
:mod:`conch.media.s3` (an S3-compatible bucket) implement it, and :mod:`conch.media.stores`
opens the one ``CONCH_STORAGE_URL`` names.

Keys are relative paths, the same under every backend: ``inputs/<hex>/<role>.<ext>`` for a
submit's images, ``outputs/<task>.<fence>.mp4`` for a video. A runner encodes into a local
staging file named after its claim (PyAV writes files) and publishes it under the claim's
own output key, so a reader never sees half a video, a stale runner cannot overwrite the
winner, and whatever a lost or killed claim left behind is found by its (task, fence) and
swept once that claim is gone (:meth:`MediaStore.sweep_claims`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

INPUTS = "inputs"
OUTPUTS = "outputs"
STAGING = "staging"
VIDEO_SUFFIX = ".mp4"
CHUNK_BYTES = 64 * 1024
"""Bytes read at a time when a stored file is streamed."""

PARTIAL_MAX_AGE = 600.0
"""Seconds after which a partial write is taken for abandoned: a write takes far less."""
STORAGE_FULL = (
    "storage is full: the server could not store the images; try again once space is freed"
)
MISSING = "the file is no longer in media storage"

ClaimCheck = Callable[[int, int], bool]
"""Whether the claim (task id, fence) still holds its task: ``TaskStore.holds``."""
RecordCheck = Callable[[str], bool]
"""Whether a file record points at a key: ``TaskStore.recorded``."""


@dataclass(frozen=True)
class StoredFile:
    """What a download needs to know of a stored file before sending any of it."""

    size: int
    etag: str
    """Changes whenever the bytes do (an HTTP entity tag, quotes included)."""
    modified: float
    """Seconds since the epoch."""


class MediaStore(Protocol):
    """Where inputs and outputs live. Missing keys raise :class:`~conch.domain.errors.NotFound`
    (a download) or ``FileNotFoundError`` (a runner's read); a full store raises
    :class:`~conch.domain.errors.Internal` saying so."""

    def write(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``, whole or not at all."""

    def read(self, key: str) -> bytes:
        """The bytes under ``key`` (inputs: a few megabytes at most)."""

    def delete(self, key: str) -> None:
        """Remove ``key``, if it is there."""

    def staging_path(self, task_id: int, fence: int) -> Path:
        """The local file the encoder writes for this claim."""

    def publish(self, staging: Path, key: str) -> int:
        """Store a finished staging file under ``key`` (the local file is gone afterwards);
        its size in bytes."""

    def stat(self, key: str) -> StoredFile:
        """Size, entity tag and modification time of ``key``."""

    def open_range(self, key: str, start: int, stop: int) -> Iterator[bytes]:
        """Bytes ``start`` up to (not including) ``stop`` of ``key``, a chunk at a time;
        never the whole file in memory."""

    def copy_to(self, key: str, destination: Path) -> None:
        """Write the file under ``key`` to a local ``destination``."""

    def presigned_url(self, key: str, filename: str, expires_in: int) -> str | None:
        """A URL the client may fetch ``key`` from directly for ``expires_in`` seconds, or
        None when this store serves only through conch."""

    def sweep_partial_files(self, older_than: float = PARTIAL_MAX_AGE) -> int:
        """Remove input writes abandoned ``older_than`` seconds ago; how many."""

    def discard_staging(self, task_id: int) -> None:
        """Remove the staging files of every claim of ``task_id`` (a cancelled task's)."""

    def sweep_claims(self, holds: ClaimCheck, recorded: RecordCheck) -> int:
        """Remove what claims that are gone left behind: staging files, and outputs no
        record points to (published by a runner that died, or lost, before recording
        them); how many."""


def new_inputs_folder() -> str:
    """A fresh folder for one submit's input images: ``inputs/<random hex>``.

    Not named after the task: a task id drawn twice must never let one submit's files
    overwrite (or its cleanup delete) another task's.
    """
    return f"{INPUTS}/{uuid.uuid4().hex}"


def input_key_in(folder: str, role: str, extension: str) -> str:
    """The key of one input image in a submit's folder."""
    return f"{folder}/{role}.{extension}"


def output_key(task_id: int, fence: int) -> str:
    """The key a claim publishes its video under: one per claim, so a stale runner
    publishing late cannot overwrite the winner."""
    return f"{OUTPUTS}/{claim_file_name(task_id, fence)}"


def claim_file_name(task_id: int, fence: int) -> str:
    """The name of a claim's staging file and of its output."""
    return f"{task_id}.{fence}{VIDEO_SUFFIX}"


def claim_of(name: str) -> tuple[int, int] | None:
    """The (task id, fence) a staging or output file name belongs to; None for others."""
    parts = name.split(".")
    if len(parts) != 3 or f".{parts[2]}" != VIDEO_SUFFIX:
        return None
    task_id, fence, _ = parts
    return (int(task_id), int(fence)) if task_id.isdigit() and fence.isdigit() else None


def claim_gone(name: str, holds: ClaimCheck) -> bool:
    """Whether ``name`` is a claim's file (staging or output) whose claim is gone. An output
    may still be a finished video: check its record after this (in this order, as a runner
    records its output and gives up its claim in one transaction)."""
    claim = claim_of(name)
    return claim is not None and not holds(*claim)


def sweep_staging(folder: Path, holds: ClaimCheck) -> int:
    """Remove the staging files in ``folder`` whose claims are gone; how many."""
    removed = 0
    for path in folder.glob(f"*{VIDEO_SUFFIX}"):
        if claim_gone(path.name, holds):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def discard_staging_in(folder: Path, task_id: int) -> None:
    """Remove the staging files in ``folder`` of every claim of ``task_id``."""
    for path in folder.glob(f"{task_id}.*{VIDEO_SUFFIX}"):
        if claim_of(path.name) is not None:
            path.unlink(missing_ok=True)


def attachment(filename: str) -> str:
    """The Content-Disposition of a download saved as ``filename``."""
    quoted = quote(filename)
    if quoted == filename:
        return f'attachment; filename="{filename}"'
    return f"attachment; filename*=utf-8''{quoted}"
