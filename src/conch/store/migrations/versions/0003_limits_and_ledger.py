"""Limits per key, balances in video-seconds and their ledger; a task's delivered seconds
and the trace id of the submit that made it.

Revision 0003_limits_and_ledger, after 0002_cancel_and_delete. Only new tables and nullable columns:
existing rows need no backfill (a key with no limits row takes the settings' defaults, a key
with no balance row is unlimited).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_limits_and_ledger"
down_revision = "0002_cancel_and_delete"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "balances",
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("metered", sa.Boolean(), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("reserved", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["key_id"],
            ["api_keys.id"],
        ),
        sa.PrimaryKeyConstraint("key_id"),
    )
    op.create_table(
        "key_limits",
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("submit_rpm", sa.Integer(), nullable=True),
        sa.Column("read_rpm", sa.Integer(), nullable=True),
        sa.Column("concurrency", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["key_id"],
            ["api_keys.id"],
        ),
        sa.PrimaryKeyConstraint("key_id"),
    )
    op.create_table(
        "rate_limits",
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("arrival", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["key_id"],
            ["api_keys.id"],
        ),
        sa.PrimaryKeyConstraint("key_id", "action"),
    )
    op.create_table(
        "ledger",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("seconds", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["key_id"],
            ["api_keys.id"],
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("ledger", schema=None) as batch_op:
        batch_op.create_index("ix_ledger_key", ["key_id", "created_at"], unique=False)
        batch_op.create_index("ix_ledger_task", ["task_id"], unique=False)

    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("video_seconds", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("trace_id", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_column("trace_id")
        batch_op.drop_column("video_seconds")

    with op.batch_alter_table("ledger", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_task")
        batch_op.drop_index("ix_ledger_key")

    op.drop_table("ledger")
    op.drop_table("rate_limits")
    op.drop_table("key_limits")
    op.drop_table("balances")
