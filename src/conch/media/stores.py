"""The media store an installation's settings name."""

from __future__ import annotations

from conch.config import Settings
from conch.media.folder import FolderStore
from conch.media.storage import MediaStore


def open_media(settings: Settings) -> MediaStore:
    """The media folder under the data dir."""
    return FolderStore(settings.media_dir, group=settings.media_group)
