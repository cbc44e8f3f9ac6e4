"""A real S3-protocol server on 127.0.0.1: moto's standalone server, in a subprocess."""

from __future__ import annotations

import subprocess
import sys
import time
from types import TracebackType
from typing import Any

import boto3
import httpx

from support.live import free_port

# Distinctive on purpose: a test can then look for them in logs and error messages.
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "AKIACONCHTESTKEYID42",
    "AWS_SECRET_ACCESS_KEY": "conch-test-secret-0f9e8d7c6b5a4938271605f4e3d2c1b0",
    "AWS_DEFAULT_REGION": "us-east-1",
}


class S3Server:
    """``python -m moto.server`` on a free port; ``client()`` is a boto3 client on it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> S3Server:
        command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                _, errors = self.process.communicate()
                raise AssertionError(f"moto's server exited: {errors.decode(errors='replace')}")
            try:
                httpx.get(f"{self.endpoint}/moto-api/", timeout=1.0)
                return self
            except httpx.TransportError:
                time.sleep(0.05)
        raise AssertionError(f"moto's server did not answer within {timeout} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)

    def client(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            region_name=CREDENTIALS["AWS_DEFAULT_REGION"],
        )

    def bucket(self, name: str) -> str:
        """Create the bucket ``name``; its name."""
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        """Every object's key under ``prefix``, sorted."""
        listing = self.client().get_paginator("list_objects_v2")
        pages = listing.paginate(Bucket=bucket, Prefix=prefix)
        return sorted(found["Key"] for page in pages for found in page.get("Contents", []))

    def uploads(self, bucket: str) -> list[str]:
        """The keys of the bucket's unfinished multipart uploads."""
        answer = self.client().list_multipart_uploads(Bucket=bucket)
        return sorted(upload["Key"] for upload in answer.get("Uploads", []))

    def __enter__(self) -> S3Server:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
