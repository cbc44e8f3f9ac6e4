"""A small file system of the test's own (a tmpfs it mounts), and a way to fill it up.

Mounting needs root (or CAP_SYS_ADMIN). Where the test may not mount, it fails under
CI=true and is otherwise skipped with a loud reason, as tests needing a service are.
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest

_CHUNKS = (1 << 20, 1 << 12, 1)
"""Fill in MiB, then pages, then bytes: whatever is left, to the last byte."""


@contextlib.contextmanager
def small_filesystem(where: Path, megabytes: int) -> Iterator[Path]:
    """A tmpfs of ``megabytes`` mounted at ``where``, unmounted (with its files) afterwards."""
    where.mkdir(parents=True, exist_ok=True)
    options = f"size={megabytes}m,mode=0700"
    try:
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)],
            capture_output=True,
            text=True,
        )
    except FileNotFoundError:
        _cannot_mount(where, "there is no mount command")
    if mounted.returncode != 0:
        _cannot_mount(where, mounted.stderr.strip() or f"mount exited {mounted.returncode}")
    try:
        yield where
    finally:
        # lazy: a process the test started may still hold a file open there
        subprocess.run(["umount", "-l", str(where)], check=True)


def _cannot_mount(where: Path, why: str) -> NoReturn:
    reason = (
        f"cannot mount a tmpfs at {where} ({why}); "
        "run the tests as root (or with CAP_SYS_ADMIN) to run this test"
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and {reason}")
    pytest.skip(f"SKIPPED LOUDLY: {reason}")


def fill(where: Path) -> Path:
    """Fill the file system holding ``where`` to the last byte; the file that fills it
    (delete it to free the space again)."""
    filler = where / "filler"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for size in _CHUNKS:
            _write_until_full(descriptor, b"\0" * size)
    finally:
        os.close(descriptor)
    return filler


def _write_until_full(descriptor: int, chunk: bytes) -> None:
    while True:
        try:
            if os.write(descriptor, chunk) < len(chunk):
                return  # a short write: what is left is smaller than this chunk
        except OSError as error:
            if error.errno != errno.ENOSPC:
                raise
            return


def free_bytes(where: Path) -> int:
    """Bytes still free on the file system holding ``where``."""
    stats = os.statvfs(where)
    return stats.f_bavail * stats.f_frsize
