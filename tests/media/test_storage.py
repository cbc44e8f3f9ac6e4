"""The media folder: writes on a full disk, and the sweep of half-written files."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from conch.domain.errors import Internal
from conch.media.storage import PARTIAL_MAX_AGE, STORAGE_FULL, MediaStore
from support.filesystems import fill, small_filesystem
from support.photos import encode, photo


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    with small_filesystem(tmp_path / "small", megabytes=4) as where:
        yield where


def files_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_a_write_on_a_full_disk_says_so_and_leaves_nothing(small_disk: Path) -> None:
    media = MediaStore(small_disk / "media")
    image = encode(photo("astronaut"))
    media.write("inputs/a/first_frame.jpeg", image)  # fits
    filler = fill(small_disk)
    folder = media.new_inputs_folder()
    with pytest.raises(Internal) as refused:
        media.write(media.input_key_in(folder, "first_frame", "jpeg"), image)
    assert refused.value.message() == STORAGE_FULL
    assert "storage is full" in STORAGE_FULL
    assert files_under(small_disk / "media") == ["inputs/a/first_frame.jpeg"]  # no .partial
    assert media.read("inputs/a/first_frame.jpeg") == image  # reads go on
    filler.unlink()
    media.write(media.input_key_in(folder, "first_frame", "jpeg"), image)  # space again


def test_half_written_files_are_swept_once_their_writer_is_surely_gone(tmp_path: Path) -> None:
    clock = Clock(1_800_000_000.0)
    media = MediaStore(tmp_path, clock=clock)
    abandoned = tmp_path / "inputs" / "aaaa" / ".first_frame.jpeg.123.partial"
    being_written = tmp_path / "inputs" / "bbbb" / ".first_frame.jpeg.456.partial"
    kept = tmp_path / "inputs" / "aaaa" / "last_frame.jpeg"
    for path in (abandoned, being_written, kept):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half")
    old = clock.now - PARTIAL_MAX_AGE - 1
    os.utime(abandoned, (old, old))
    os.utime(kept, (old, old))
    os.utime(being_written, (clock.now - 5, clock.now - 5))
    assert media.sweep_partial_files() == 1
    assert files_under(tmp_path / "inputs") == [
        "aaaa/last_frame.jpeg",
        "bbbb/.first_frame.jpeg.456.partial",
    ]
    clock.now += PARTIAL_MAX_AGE
    assert media.sweep_partial_files() == 1
    assert not (tmp_path / "inputs" / "bbbb").exists()  # its folder went with it
