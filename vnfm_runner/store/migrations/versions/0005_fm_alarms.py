"""Fault management: the alarms of ``/vnffm/v1`` (vnfm_runner/assurance/alarms.py).

One row per alarm; at most one open (``cleared_at IS NULL``) alarm per fault
``key`` (partial unique index, as for the one running operation per instance);
``(created_at, id)`` for the API's keyset paging. FM subscriptions share
``api_subscriptions`` (``api = 'vnffm'``) and the notification outbox.

Revision ID: 0005
Revises: 0004
Create Date: 2025-01-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

OPEN = "cleared_at IS NULL"


def upgrade() -> None:
    op.create_table(
        "fm_alarms",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=512), nullable=False),
        sa.Column("vnf_instance_id", sa.String(length=36), nullable=False),
        sa.Column("perceived_severity", sa.String(length=16), nullable=False),
        sa.Column("ack_state", sa.String(length=16), nullable=False),
        sa.Column("doc", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("fm_alarms", schema=None) as batch_op:
        batch_op.create_index(
            "uq_fm_alarms_open_key",
            ["key"],
            unique=True,
            sqlite_where=sa.text(OPEN),
            postgresql_where=sa.text(OPEN),
        )
        batch_op.create_index("ix_fm_alarms_created", ["created_at", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_fm_alarms_vnf_instance_id"), ["vnf_instance_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_fm_alarms_cleared_at"), ["cleared_at"], unique=False)


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM api_subscriptions WHERE api = 'vnffm'"))
    op.drop_table("fm_alarms")
