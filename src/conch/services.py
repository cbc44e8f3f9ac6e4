"""The server's parts, opened once from settings and shared by every dialect."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import anyio
from sqlalchemy import Engine

from conch.config import Settings
from conch.health import Readiness, database_check, media_check
from conch.media.links import LinkSigner
from conch.media.slots import FetchSlots
from conch.media.storage import MediaStore
from conch.media.stores import open_media
from conch.moderation import Moderator, moderators_from
from conch.net.policy import OutboundPolicy
from conch.quotas import Quotas
from conch.store.chanjing import ChanjingStore
from conch.store.db import open_database
from conch.store.keys import KeyStore
from conch.store.ledger import Ledger
from conch.store.limits import LimitStore
from conch.store.tasks import TaskStore

SERVER_POOL_SIZE = 20
"""Database connections the server keeps open (as many again may open for a burst): its
blocking routes run on AnyIO's thread pool, 40 threads by default."""


@dataclass
class Services:
    """Settings, stores and the signing secret of one conch installation."""

    settings: Settings
    db: Engine
    tasks: TaskStore
    keys: KeyStore
    chanjing: ChanjingStore
    media: MediaStore
    secret: bytes
    links: LinkSigner = field(init=False)
    """Signs and checks download links under ``secret``."""
    outbound: OutboundPolicy = field(init=False)
    """How conch calls the URLs users name (images, callbacks), built once from settings."""
    fetch_slots: FetchSlots = field(init=False)
    """Image URLs downloaded at once: a few per key, and a cap for everyone."""
    image_work: anyio.CapacityLimiter = field(init=False)
    """Images inspected at once, across all submits (about 2 per core)."""
    ledger: Ledger = field(init=False)
    """Balances in video-seconds and their ledger."""
    quotas: Quotas = field(init=False)
    """Each key's request rates, tasks in flight and balance."""
    moderators: list[Moderator] = field(init=False)
    """The content checks every prompt passes (append a classifier here)."""
    readiness: Readiness = field(init=False)
    """What ``/readyz`` checks: the database and the media store, and what is added."""

    def __post_init__(self) -> None:
        settings = self.settings
        self.links = LinkSigner(self.secret, settings.download_ttl)
        self.outbound = OutboundPolicy.from_settings(settings)
        self.fetch_slots = FetchSlots(settings.fetch_slots_per_key, settings.fetch_slots)
        self.image_work = anyio.CapacityLimiter(2 * _cores())
        self.ledger = Ledger(self.db)
        self.quotas = Quotas(settings, LimitStore(self.db), self.ledger)
        self.moderators = moderators_from(settings.moderation_file)
        self.readiness = Readiness()
        self.readiness.add("database", database_check(self.db))
        self.readiness.add("media", media_check(self.media))

    @classmethod
    def open(cls, settings: Settings) -> Services:
        """Open (creating on first use) the data dir, database, media store and secret."""
        if not settings.data_dir.exists():
            # Readable by its owner only: the database holds signing secrets.
            settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        db = open_database(settings.database, pool_size=SERVER_POOL_SIZE)
        return cls(
            settings=settings,
            db=db,
            tasks=TaskStore(db),
            keys=KeyStore(db),
            chanjing=ChanjingStore(db, token_ttl=settings.chanjing_token_ttl),
            media=open_media(settings),
            secret=load_secret(settings.secret_file),
        )

    def close(self) -> None:
        self.db.dispose()


def load_secret(path: Path) -> bytes:
    """The installation's signing secret, created on first use (readable by its owner only)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}")
        partial.write_bytes(secrets.token_bytes(32))
        partial.chmod(0o600)
        try:
            os.link(partial, path)  # fails if another process got there first: keep theirs
        except FileExistsError:
            pass
        finally:
            partial.unlink()
    return path.read_bytes()


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
