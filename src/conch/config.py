"""Settings: from ``CONCH_*`` environment variables and an optional ``conch.toml``.

Precedence, highest first: command-line options, environment, ``conch.toml`` (the file named
by ``CONCH_CONFIG``, else ``./conch.toml`` when it exists), defaults.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)
from typing_extensions import override

from conch.net.addresses import parse_networks

ENV_PREFIX = "CONCH_"
CONFIG_ENV = "CONCH_CONFIG"


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class ModelRoute(BaseModel):
    """Which engine serves a public model name, and how (a plain model: only ``Settings``
    reads the environment, and only ``CONCH_*`` variables)."""

    engine: str = "motion"
    preset: str | None = None
    weights: Path | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    upstreams: list[str] = Field(
        default_factory=list, description="relay: the upstreams to try, in order of preference"
    )
    upstream_model: str | None = Field(
        None, description="relay: the model's name upstream (default: the same name)"
    )


class Upstream(BaseModel):
    """A service the relay engine passes tasks on to (``[upstreams.NAME]`` in conch.toml).

    Only the *names* of environment variables live here: the secrets are read from them
    when the relay calls, and never stored, logged or echoed.
    """

    model_config = {"extra": "forbid"}

    kind: str
    base_url: str | None = None
    api_key_env: str | None = None
    app_id_env: str | None = None
    secret_key_env: str | None = None
    dialect: str | None = Field(None, description="kind conch only: which of its dialects")
    poll_deadline: float = Field(
        3600.0, gt=0, description="seconds an accepted task is polled before it is failed"
    )
    poll_first: float = Field(2.0, gt=0, description="seconds before the first poll")
    poll_ceiling: float = Field(15.0, gt=0, description="the longest pause between polls")
    max_bytes: int = Field(
        2 * 1024**3, gt=0, description="the largest video downloaded from this upstream"
    )
    create_timeout: float = Field(
        60.0, gt=0, description="seconds a create may take before its outcome is unknown"
    )
    resolve_window: float = Field(
        20.0, ge=0, description="seconds an unconfirmed create is looked for in the task list"
    )


class Settings(BaseSettings):
    """Everything an operator can set. Each field is also ``CONCH_<FIELD>``."""

    # Errors never echo what was set: a URL may carry a password (postgres://, s3://).
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="ignore", hide_input_in_errors=True
    )

    data_dir: Path = Path("var")
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = Field(default_factory=_cores, ge=0)
    database_url: str | None = None
    media_group: str | None = Field(
        None, description="a group that may read stored media (files 0640); none: owner only"
    )
    public_url: str | None = None
    storage_url: str | None = Field(
        None, description="where media lives: file:///path or s3://bucket/prefix; none: media/"
    )
    s3_endpoint_url: str | None = Field(
        None, description="the S3 endpoint (MinIO, Ceph, another cloud); none: AWS's own"
    )
    s3_presigned_downloads: bool = Field(
        False, description="checked download links redirect to presigned S3 URLs"
    )
    download_ttl: int = Field(3600, gt=0, description="seconds a download link stays valid")
    chanjing_token_ttl: int = Field(
        86400, gt=0, description="seconds a Chanjing access_token stays valid"
    )

    allow_private_urls: bool = False
    allowed_networks: list[str] = Field(default_factory=list)
    fetch_connect_timeout: float = 5.0
    fetch_deadline: float = 20.0
    fetch_min_rate: float = Field(
        10_000.0, ge=0, description="bytes a second an image download must keep up (0: off)"
    )
    fetch_slots: int = Field(16, ge=1, description="image URLs downloaded at once, in all")
    fetch_slots_per_key: int = Field(
        2, ge=1, description="image URLs one key's submits download at once"
    )
    max_image_bytes: int = 20 * 1024 * 1024
    max_image_pixels: int = 40_000_000
    max_request_bytes: int = Field(64 * 1024 * 1024, gt=0, description="largest body read")
    header_timeout: float = Field(
        10.0, gt=0, description="seconds a request's line and headers may take to arrive"
    )
    body_min_rate: float = Field(
        100_000.0, gt=0, description="bytes a second a request body must arrive at, on average"
    )
    keep_alive_timeout: int = Field(5, gt=0, description="seconds an idle connection lives")
    auth_failure_limit: int = Field(
        20, ge=1, description="failed authentications per client address per window"
    )
    auth_failure_window: float = Field(60.0, gt=0, description="seconds of that window")

    broker_url: str | None = Field(
        None,
        description="Celery's broker (redis://, amqp://): tasks go to `conch worker` processes"
        " through it; none: the embedded runners only",
    )
    broker_visibility_timeout: float = Field(
        6 * 3600.0,
        gt=0,
        description="seconds Redis waits for a delivered message's ack before delivering it"
        " again: keep it above the longest render",
    )
    broker_connect_timeout: float = Field(
        5.0, gt=0, description="seconds one connection attempt to the broker may take"
    )
    queue_prefix: str = Field(
        "conch",
        pattern=r"^[A-Za-z0-9_-]+$",
        description="the start of every queue name (two installations may share a broker)",
    )
    announce_interval: float = Field(
        1.0, gt=0, description="seconds between the server's looks for ready tasks to announce"
    )
    announce_again_after: float = Field(
        300.0,
        gt=0,
        description="seconds after which a ready task no worker claimed is announced again",
    )

    lease_seconds: float = Field(30.0, gt=0)
    stall_seconds: float = Field(
        900.0, gt=0, description="a job silent this long (no frame, no progress) is given up"
    )
    max_attempts: int = Field(3, ge=1)
    poll_interval: float = Field(0.25, gt=0)

    callback_timeout: float = Field(10.0, gt=0, description="seconds one callback push may take")
    callback_retry_window: float = Field(
        86400.0, gt=0, description="seconds after a status change its push is retried for"
    )
    callback_retry_base: float = Field(
        5.0, gt=0, description="backoff ceiling after the first failed push; doubles per failure"
    )
    callback_retry_max_delay: float = Field(3600.0, gt=0, description="largest backoff ceiling")
    callback_concurrency: int = Field(8, ge=1, description="pushes sent at once per server")

    default_rpm: int | None = Field(
        None, ge=0, description="submits a minute for a key that sets none (unset or 0: no limit)"
    )
    default_read_rpm: int | None = Field(
        None, ge=0, description="reads a minute for a key that sets none (unset or 0: no limit)"
    )
    default_concurrency: int | None = Field(
        None, ge=0, description="tasks in flight for a key that sets none (unset or 0: no limit)"
    )
    moderation_file: Path | None = Field(
        None, description="words and patterns refused in prompts; reloaded when it changes"
    )
    metrics_token: SecretStr | None = Field(
        None, description="bearer token that /metrics asks for; unset: /metrics is off"
    )
    log_format: Literal["text", "json"] = Field(
        "text", description="text lines, or one JSON object a line with trace and task ids"
    )

    encoder_preset: str | None = Field(
        None, description="x264 preset; None: the encoder's default, chosen by benchmark"
    )
    models: dict[str, ModelRoute] = Field(default_factory=dict)
    upstreams: dict[str, Upstream] = Field(default_factory=dict)
    relay_concurrency: int = Field(
        200, ge=1, description="relayed tasks one runner process follows at once"
    )
    relay_recheck_after: float = Field(
        30.0,
        gt=0,
        description="seconds before the sweep asks again about a relayed task "
        "that conch ended while its upstream task ran on (doubling, up to an hour)",
    )
    relay_reconcile_horizon: float = Field(
        7 * 86400.0,
        gt=0,
        description="seconds the sweep keeps asking about a relayed task "
        "that conch gave up on (a late success is still collected)",
    )

    @field_validator("allowed_networks")
    @classmethod
    def _networks_parse(cls, networks: list[str]) -> list[str]:
        """A typo in CONCH_ALLOWED_NETWORKS fails at start-up, not at the first request."""
        parse_networks(networks)
        return [network.strip() for network in networks]

    @field_validator("storage_url")
    @classmethod
    def _storage_url_parses(cls, url: str | None) -> str | None:
        """A typo in CONCH_STORAGE_URL fails at start-up, not at the first submit."""
        if url is not None:
            parse_storage_url(url)
        return url

    @classmethod
    @override
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = os.environ.get(CONFIG_ENV) or ("conch.toml" if Path("conch.toml").exists() else None)
        sources = [init_settings, env_settings]
        if toml:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(toml)))
        return tuple(sources)

    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir.resolve() / 'conch.db'}"

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @property
    def media_location(self) -> Path | S3Location:
        """Where media lives: a folder, or a bucket and prefix (``CONCH_STORAGE_URL``)."""
        return self.media_dir if self.storage_url is None else parse_storage_url(self.storage_url)

    @property
    def staging_dir(self) -> Path:
        """The local folder a runner encodes into before it uploads to a bucket."""
        return self.data_dir / "staging"

    @property
    def secret_file(self) -> Path:
        return self.data_dir / "secret.key"

    def route(self, model: str) -> ModelRoute:
        """The engine route for ``model``; the motion engine unless configured."""
        return self.models.get(model) or ModelRoute()


@dataclass(frozen=True)
class S3Location:
    """A bucket, and the prefix every media key is stored under ("" or ending in "/")."""

    bucket: str
    prefix: str


STORAGE_URL_FORMS = "file:///absolute/path or s3://bucket/optional/prefix"
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


def parse_storage_url(url: str) -> Path | S3Location:
    """The folder or bucket a ``CONCH_STORAGE_URL`` names; ValueError saying what is allowed."""
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        raise ValueError(f"storage_url takes no query or fragment: {STORAGE_URL_FORMS}")
    if "@" in parts.netloc:  # never echoed: that is where credentials would be
        raise ValueError(
            "storage_url holds no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )
    if parts.scheme == "file" and not parts.netloc and parts.path.startswith("/"):
        return Path(unquote(parts.path))
    if parts.scheme == "s3":
        if not _BUCKET.fullmatch(parts.netloc):
            raise ValueError(
                "storage_url's bucket must be 3-63 lowercase letters, digits, dots or hyphens,"
                f" got {parts.netloc!r}"
            )
        prefix = unquote(parts.path).strip("/")
        return S3Location(parts.netloc, f"{prefix}/" if prefix else "")
    raise ValueError(f"storage_url must be {STORAGE_URL_FORMS}, got {url!r}")
