"""When a queued task was last announced to the broker ("task N is ready").

Revision 0004_ready_announcements, after 0003_limits_and_ledger. One nullable column: a
queued task whose ``announced_at`` is NULL is owed an announcement (the outbox row, written
in the task's own transaction). Existing rows need no backfill: with a broker configured,
the queued tasks among them are announced once the server starts.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_ready_announcements"
down_revision = "0003_limits_and_ledger"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("announced_at", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_column("announced_at")
