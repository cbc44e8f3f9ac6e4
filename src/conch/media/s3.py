"""Media in an S3-compatible bucket (AWS S3, MinIO, Ceph, ...), through boto3.

Every key is stored as ``<prefix><key>``. Inputs are single PUTs, whole or not at all. The
encoder still writes a local staging file (PyAV needs a file, and a claim's half-made video
never reaches the bucket); publishing uploads it, in parts when it is large, and removes it.
What a lost or killed claim leaves behind is swept: its local staging file, its unfinished
multipart upload, and an output that no record points to.

boto3 finds credentials its usual way (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_DEFAULT_REGION, a profile, an instance role); the operator names the endpoint, so the
outbound guard for users' URLs does not apply. Errors name the bucket, the key and S3's
error code, never a credential or S3's own message.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from conch.config import S3Location
from conch.domain.errors import Internal, NotFound
from conch.media.storage import (
    CHUNK_BYTES,
    MISSING,
    OUTPUTS,
    PARTIAL_MAX_AGE,
    ClaimCheck,
    RecordCheck,
    StoredFile,
    attachment,
    claim_file_name,
    claim_gone,
    discard_staging_in,
    sweep_staging,
)

PART_BYTES = 8 * 1024 * 1024
"""Staging files larger than this are uploaded in parts of this size (S3's least: 5 MiB)."""
OUTPUT_SWEEP_INTERVAL = 3600.0
"""Seconds between listings of the bucket's outputs: orphans are rare, and every listing of
a large bucket costs a request per thousand videos."""
CONNECTIONS = 32
"""Connections kept to S3: about one per thread that may stream a download at once."""
VIDEO_TYPE = "video/mp4"
_MISSING_CODES = {"404", "NoSuchKey", "NotFound"}


def s3_client(endpoint_url: str | None) -> Any:
    """A boto3 S3 client on ``endpoint_url`` (None: AWS's), with credentials found as boto3
    finds them. Thread-safe: one serves a whole process."""
    config = Config(
        signature_version="s3v4",
        retries={"mode": "standard"},
        max_pool_connections=CONNECTIONS,
    )
    return boto3.session.Session().client("s3", endpoint_url=endpoint_url, config=config)


class S3Store:
    """Media under a prefix of one bucket (a :class:`~conch.media.storage.MediaStore`)."""

    def __init__(
        self,
        client: Any,
        location: S3Location,
        staging: Path,
        *,
        presigned_downloads: bool = False,
        part_bytes: int = PART_BYTES,
        output_sweep_interval: float = OUTPUT_SWEEP_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.bucket, self.prefix = location.bucket, location.prefix
        self.staging = staging
        self.presigned_downloads = presigned_downloads
        self.transfer = TransferConfig(
            multipart_threshold=part_bytes, multipart_chunksize=part_bytes
        )
        self.output_sweep_interval = output_sweep_interval
        self.clock = clock
        self._next_output_sweep = clock()
        staging.mkdir(mode=0o700, parents=True, exist_ok=True)

    def write(self, key: str, data: bytes) -> None:
        with self._reporting("store", key):
            self.client.put_object(Bucket=self.bucket, Key=self._name(key), Body=data)

    def read(self, key: str) -> bytes:
        with self._reporting("read", key, missing=FileNotFoundError(key)):
            answer = self.client.get_object(Bucket=self.bucket, Key=self._name(key))
            with contextlib.closing(answer["Body"]) as body:
                return bytes(body.read())

    def delete(self, key: str) -> None:
        with self._reporting("delete", key):
            self.client.delete_object(Bucket=self.bucket, Key=self._name(key))

    def staging_path(self, task_id: int, fence: int) -> Path:
        return self.staging / claim_file_name(task_id, fence)

    def publish(self, staging: Path, key: str) -> int:
        """Upload a finished staging file (in parts when large), then remove it."""
        size = staging.stat().st_size
        with self._reporting("upload", key):
            # On failure s3transfer aborts its own multipart upload; a killed process's is
            # aborted by the sweep.
            self.client.upload_file(
                str(staging),
                self.bucket,
                self._name(key),
                ExtraArgs={"ContentType": VIDEO_TYPE},
                Config=self.transfer,
            )
        staging.unlink()
        return size

    def stat(self, key: str) -> StoredFile:
        with self._reporting("look up", key, missing=NotFound(MISSING)):
            head = self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        return StoredFile(
            int(head["ContentLength"]), str(head["ETag"]), head["LastModified"].timestamp()
        )

    def open_range(self, key: str, start: int, stop: int) -> Iterator[bytes]:
        if start >= stop:
            return  # S3 refuses an empty range; there is nothing to send anyway
        with self._reporting("read", key, missing=NotFound(MISSING)):
            answer = self.client.get_object(
                Bucket=self.bucket, Key=self._name(key), Range=f"bytes={start}-{stop - 1}"
            )
            with contextlib.closing(answer["Body"]) as body:
                yield from body.iter_chunks(CHUNK_BYTES)

    def copy_to(self, key: str, destination: Path) -> None:
        with self._reporting("download", key, missing=NotFound(MISSING)):
            self.client.download_file(
                self.bucket, self._name(key), str(destination), Config=self.transfer
            )

    def presigned_url(self, key: str, filename: str, expires_in: int) -> str | None:
        if not self.presigned_downloads:
            return None
        params = {
            "Bucket": self.bucket,
            "Key": self._name(key),
            "ResponseContentType": VIDEO_TYPE,
            "ResponseContentDisposition": attachment(filename),
        }
        with self._reporting("sign a link to", key):
            url = self.client.generate_presigned_url(
                "get_object", Params=params, ExpiresIn=expires_in
            )
        return str(url)

    def sweep_partial_files(self, older_than: float = PARTIAL_MAX_AGE) -> int:  # noqa: ARG002
        return 0  # a PUT is whole or absent: no input is ever left half-written

    def discard_staging(self, task_id: int) -> None:
        discard_staging_in(self.staging, task_id)

    def sweep_claims(self, holds: ClaimCheck, recorded: RecordCheck) -> int:
        removed = sweep_staging(self.staging, holds) + self._abort_lost_uploads(holds)
        if self.clock() >= self._next_output_sweep:
            removed += self._delete_unrecorded_outputs(holds, recorded)
            self._next_output_sweep = self.clock() + self.output_sweep_interval
        return removed

    def _abort_lost_uploads(self, holds: ClaimCheck) -> int:
        """Abort the unfinished multipart uploads of claims that are gone (a killed runner's,
        or one that lost its claim mid-upload): S3 keeps, and bills, their parts."""
        aborted = 0
        outputs = self._name(f"{OUTPUTS}/")
        with self._reporting("list the uploads under", outputs):
            pages = self.client.get_paginator("list_multipart_uploads")
            for page in pages.paginate(Bucket=self.bucket, Prefix=outputs):
                for upload in page.get("Uploads", []):
                    if claim_gone(upload["Key"].removeprefix(outputs), holds):
                        self.client.abort_multipart_upload(
                            Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                        )
                        aborted += 1
        return aborted

    def _delete_unrecorded_outputs(self, holds: ClaimCheck, recorded: RecordCheck) -> int:
        """Delete videos published by a runner that died (or lost) before recording them."""
        deleted = 0
        outputs = self._name(f"{OUTPUTS}/")
        with self._reporting("list", outputs):
            pages = self.client.get_paginator("list_objects_v2")
            for page in pages.paginate(Bucket=self.bucket, Prefix=outputs):
                for found in page.get("Contents", []):
                    key = found["Key"].removeprefix(self.prefix)
                    if claim_gone(found["Key"].removeprefix(outputs), holds) and not recorded(key):
                        self.client.delete_object(Bucket=self.bucket, Key=found["Key"])
                        deleted += 1
        return deleted

    def _name(self, key: str) -> str:
        return f"{self.prefix}{key}"

    @contextlib.contextmanager
    def _reporting(self, action: str, key: str, missing: Exception | None = None) -> Iterator[None]:
        """S3's failures as conch's: ``missing`` for a key that is not there, else Internal."""
        try:
            yield
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", "unknown"))
            if missing is not None and code in _MISSING_CODES:
                raise missing from None
            where = f"s3://{self.bucket}/{self._name(key)}"
            # from None: S3's own message (which some servers fill with request details)
            # stays out of logs; its code says what went wrong.
            raise Internal(f"media storage could not {action} {where}: S3 error {code}") from None
        except BotoCoreError as error:  # no answer: endpoint down, no credentials, timeout
            where = f"s3://{self.bucket}/{self._name(key)}"
            raise Internal(f"media storage could not {action} {where}: {error}") from None
