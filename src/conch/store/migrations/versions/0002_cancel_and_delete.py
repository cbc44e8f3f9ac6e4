"""Cancellation and deletion: a task's owner may delete it (it is kept, marked, for its
pushes and history, and no caller finds it again), and a video records its audio channels
(0: silent; videos stored before are silent).

Revision 0002_cancel_and_delete, after 0001_baseline.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_cancel_and_delete"
down_revision = "0001_baseline"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("files", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("audio_channels", sa.Integer(), server_default="0", nullable=False)
        )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("audio_channels", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("deleted_at", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_column("deleted_at")
        batch_op.drop_column("audio_channels")
    with op.batch_alter_table("files", schema=None) as batch_op:
        batch_op.drop_column("audio_channels")
