"""The relay engine's record of its upstream creates (conch.engines.relay.calls).

Revision 0005_relay_calls, after 0004_ready_announcements. One new table: existing rows need
nothing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_relay_calls"
down_revision = "0004_ready_announcements"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "relay_calls",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("task_id", sa.BigInteger(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("upstream", sa.String(length=64), nullable=False),
        sa.Column("dialect", sa.String(length=16), nullable=False),
        sa.Column("upstream_model", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.Column("upstream_task_id", sa.String(length=128), nullable=True),
        sa.Column("deadline_at", sa.Float(), nullable=True),
        sa.Column("next_check_at", sa.Float(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("file_key", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("upstream", "upstream_task_id", name="uq_relay_calls_upstream_task"),
    )
    with op.batch_alter_table("relay_calls", schema=None) as batch_op:
        batch_op.create_index("ix_relay_calls_task", ["task_id"], unique=False)
        batch_op.create_index("ix_relay_calls_open", ["state", "next_check_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("relay_calls", schema=None) as batch_op:
        batch_op.drop_index("ix_relay_calls_open")
        batch_op.drop_index("ix_relay_calls_task")
    op.drop_table("relay_calls")
