"""The media folder: writes on a full disk, the sweep of half-written files, file modes."""

from __future__ import annotations

import grp
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from conch.domain.errors import Internal
from conch.media.folder import FolderStore
from conch.media.storage import (
    PARTIAL_MAX_AGE,
    STORAGE_FULL,
    input_key_in,
    new_inputs_folder,
    output_key,
)
from support.filesystems import fill, small_filesystem
from support.imports import packages_loaded_by
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
    media = FolderStore(small_disk / "media")
    image = encode(photo("astronaut"))
    media.write("inputs/a/first_frame.jpeg", image)  # fits
    filler = fill(small_disk)
    folder = new_inputs_folder()
    with pytest.raises(Internal) as refused:
        media.write(input_key_in(folder, "first_frame", "jpeg"), image)
    assert refused.value.message() == STORAGE_FULL
    assert "storage is full" in STORAGE_FULL
    assert files_under(small_disk / "media") == ["inputs/a/first_frame.jpeg"]  # no .partial
    assert media.read("inputs/a/first_frame.jpeg") == image  # reads go on
    filler.unlink()
    media.write(input_key_in(folder, "first_frame", "jpeg"), image)  # space again


def test_half_written_files_are_swept_once_their_writer_is_surely_gone(tmp_path: Path) -> None:
    clock = Clock(1_800_000_000.0)
    media = FolderStore(tmp_path, clock=clock)
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


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_stored_media_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    media = FolderStore(tmp_path / "media")
    key = input_key_in(new_inputs_folder(), "first_frame_image", "jpg")
    media.write(key, encode(photo("coffee")))
    staging = media.staging_path(7, 1)
    staging.write_bytes(b"an mp4")  # as the encoder leaves it, under the process's umask
    output = output_key(7, 1)
    media.publish(staging, output)
    assert _mode(media.path(key)) == 0o600 and _mode(media.path(output)) == 0o600
    assert _mode(media.path(key).parent) == 0o700 and _mode(tmp_path / "media") == 0o700


def test_a_group_the_operator_names_may_read_it_too(tmp_path: Path) -> None:
    group = grp.getgrgid(os.getgid()).gr_name  # one this process may hand files to
    media = FolderStore(tmp_path / "media", group=group)
    key = input_key_in(new_inputs_folder(), "first_frame_image", "jpg")
    media.write(key, encode(photo("coffee")))
    stored = media.path(key)
    assert _mode(stored) == 0o640 and stored.stat().st_gid == os.getgid()
    assert _mode(stored.parent) == 0o750


def test_a_folder_installation_never_loads_boto3(tmp_path: Path) -> None:
    # boto3 costs every conch process a fifth of a second to import; only a bucket needs it.
    program = (
        "from conch.cli import main\n"
        "from conch.config import Settings\n"
        "from conch.media.stores import open_media\n"
        f"open_media(Settings(data_dir={str(tmp_path)!r}))\n"
    )
    loaded = packages_loaded_by(program)
    assert "conch" in loaded and not loaded & {"boto3", "botocore"}
