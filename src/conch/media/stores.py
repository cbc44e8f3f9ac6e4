"""The media store an installation's settings name (``CONCH_STORAGE_URL``)."""

from __future__ import annotations

from conch.config import S3Location, Settings
from conch.media.folder import FolderStore
from conch.media.storage import MediaStore


def open_media(settings: Settings) -> MediaStore:
    """A folder (the default: ``<data dir>/media``) or a bucket, as the settings say."""
    location = settings.media_location
    if isinstance(location, S3Location):
        # boto3 takes a fifth of a second to import: only an installation with a bucket pays it.
        from conch.media.s3 import S3Store, s3_client

        return S3Store(
            s3_client(settings.s3_endpoint_url),
            location,
            settings.staging_dir,
            presigned_downloads=settings.s3_presigned_downloads,
        )
    return FolderStore(location, group=settings.media_group)
