"""The database schema. Times are unix seconds (floats); ids shown to callers are int64.

The task table is the single source of truth: a queue only says a task may be ready; the
``fence`` and ``lease_expires_at`` columns decide who may write to a running task.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(24), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("revoked_at", Float),
)

tasks = Table(
    "tasks",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("uuid", String(36), nullable=False, unique=True),
    Column("owner_id", Integer, ForeignKey("api_keys.id"), nullable=False),
    Column("dialect", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("model", String(64), nullable=False),
    Column("mode", String(32), nullable=False),
    Column("spec", JSON, nullable=False),
    Column("inputs", JSON, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("available_at", Float, nullable=False),
    Column("started_at", Float),
    Column("finished_at", Float),
    Column("attempts", Integer, nullable=False, default=0),
    Column("fence", Integer, nullable=False, default=0),
    Column("lease_expires_at", Float),
    Column("runner", String(120)),
    Column("progress", Float, nullable=False, default=0.0),
    Column("error_code", String(32)),
    Column("error_message", Text),
    Column("file_id", BigInteger),
    Column("video_width", Integer),
    Column("video_height", Integer),
    # Added in 0002_cancel_and_delete: the video's audio channels (0: silent), and when its
    # owner deleted the task (it is then found by no caller; its pushes still go out).
    Column("audio_channels", Integer),
    Column("deleted_at", Float),
    # Added in 0003_limits_and_ledger: whole seconds delivered (a started second counts), and
    # the Trace-Id of the submit that made the task.
    Column("video_seconds", Integer),
    Column("trace_id", String(32)),
    # Added in 0004_ready_announcements: when the server last told the broker this queued
    # task is ready; NULL on a queued task means it is owed that message (store/ready.py).
    Column("announced_at", Float),
    Index("ix_tasks_queue", "status", "available_at"),
    Index("ix_tasks_owner", "owner_id", "created_at"),
)

files = Table(
    "files",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("owner_id", Integer, ForeignKey("api_keys.id"), nullable=False),
    Column("task_id", BigInteger, ForeignKey("tasks.id"), nullable=False),
    Column("storage_key", String(255), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("purpose", String(32), nullable=False),
    Column("bytes", BigInteger, nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
    # Added in 0002_cancel_and_delete; a video stored before then is taken to be silent.
    Column("audio_channels", Integer, nullable=False, server_default="0"),
)

chanjing_apps = Table(
    "chanjing_apps",
    metadata,
    # A Chanjing app pair bound to one API key. An app holds at most one live access token
    # (issuing a new one replaces it); the one before is remembered so that a caller using
    # it can be told it was replaced rather than that it never existed.
    Column("app_id", String(32), primary_key=True),
    Column("key_id", Integer, ForeignKey("api_keys.id"), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("token_hash", String(64), unique=True),
    Column("token_issued_at", Float),
    Column("token_expires_at", Float),
    Column("previous_token_hash", String(64), index=True),
)

signing_secrets = Table(
    "signing_secrets",
    metadata,
    # A key's Standard Webhooks secret (whsec_...). Kept as it is, not hashed: every push
    # is signed with it.
    Column("key_id", Integer, ForeignKey("api_keys.id"), primary_key=True),
    Column("secret", String(100), nullable=False),
    Column("created_at", Float, nullable=False),
)

deliveries = Table(
    "deliveries",
    metadata,
    # The callback outbox: one row per push, written in the transaction that changed the
    # task's status (see conch.store.outbox). ``snapshot`` is the task as it was then;
    # ``fence`` and ``lease_expires_at`` decide which deliverer may send it.
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("webhook_id", String(40), nullable=False, unique=True),
    Column("task_id", BigInteger, ForeignKey("tasks.id"), nullable=False),
    Column("owner_id", Integer, ForeignKey("api_keys.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("event", String(16), nullable=False),
    Column("url", Text, nullable=False),
    Column("snapshot", JSON, nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("next_attempt_at", Float, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("fence", Integer, nullable=False, default=0),
    Column("lease_expires_at", Float),
    Column("leased_by", String(120)),
    Column("finished_at", Float),
    Column("outcome", Text),
    UniqueConstraint("task_id", "seq"),
    UniqueConstraint("task_id", "event"),
    Index("ix_deliveries_due", "state", "next_attempt_at"),
    # Outbox.gone_since: a key's pushes answered 410. Not on url: PostgreSQL refuses
    # b-tree entries over ~2.7 KB, and callback URLs may be longer.
    Index("ix_deliveries_gone", "owner_id", "state", "finished_at"),
)

delivery_attempts = Table(
    "delivery_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("delivery_id", Integer, ForeignKey("deliveries.id"), nullable=False, index=True),
    Column("number", Integer, nullable=False),
    Column("started_at", Float, nullable=False),
    Column("duration", Float, nullable=False),
    Column("http_status", Integer),
    Column("error", Text),
)

key_limits = Table(
    "key_limits",
    metadata,
    # A key's own limits. NULL: the settings' default applies; 0: no limit.
    Column("key_id", Integer, ForeignKey("api_keys.id"), primary_key=True),
    Column("submit_rpm", Integer),
    Column("read_rpm", Integer),
    Column("concurrency", Integer),
)

rate_limits = Table(
    "rate_limits",
    metadata,
    # One row per key and action (submit, read): the generic cell rate algorithm's
    # theoretical arrival time, the one number a token bucket needs (conch.store.limits).
    Column("key_id", Integer, ForeignKey("api_keys.id"), primary_key=True),
    Column("action", String(16), primary_key=True),
    Column("arrival", Float, nullable=False),
)

balances = Table(
    "balances",
    metadata,
    # A metered key's video-seconds: ``balance`` is top-ups less charges, ``reserved`` what
    # tasks in flight hold. Both follow from the ledger (conch.store.ledger); a key with no
    # row, or not metered, is unlimited.
    Column("key_id", Integer, ForeignKey("api_keys.id"), primary_key=True),
    Column("metered", Boolean, nullable=False),
    Column("balance", BigInteger, nullable=False),
    Column("reserved", BigInteger, nullable=False),
    Column("updated_at", Float, nullable=False),
)

ledger = Table(
    "ledger",
    metadata,
    # Append-only: every top-up, reservation, charge and release of video-seconds.
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key_id", Integer, ForeignKey("api_keys.id"), nullable=False),
    Column("task_id", BigInteger, ForeignKey("tasks.id")),
    Column("kind", String(16), nullable=False),
    Column("seconds", BigInteger, nullable=False),
    Column("created_at", Float, nullable=False),
    Index("ix_ledger_key", "key_id", "created_at"),
    Index("ix_ledger_task", "task_id"),
)

relay_calls = Table(
    "relay_calls",
    metadata,
    # Added in 0005_relay_calls: every create the relay engine began upstream. The intent is
    # committed before the create leaves and the upstream's task id as soon as it is known
    # (conch.engines.relay.calls), so no restart ever sends a create twice.
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("task_id", BigInteger, ForeignKey("tasks.id"), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("upstream", String(64), nullable=False),
    Column("dialect", String(16), nullable=False),
    Column("upstream_model", String(64), nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("upstream_task_id", String(128)),
    Column("deadline_at", Float),
    Column("next_check_at", Float),
    Column("outcome", Text),
    Column("file_key", String(255)),
    Index("ix_relay_calls_task", "task_id"),
    Index("ix_relay_calls_open", "state", "next_check_at"),
    # One upstream task is adopted by one call at most (a create's outcome found by listing).
    UniqueConstraint("upstream", "upstream_task_id", name="uq_relay_calls_upstream_task"),
)
