"""The notification outbox: LCM notifications waiting for delivery (vnfm_runner/notify).

One row per (subscription, notification); ``seq`` orders them (a worker sends
a row only when no earlier PENDING row has the same subscription and VNF
instance), ``claimed_by``/``lease_expires_at`` are the lease of the worker
sending it, ``(subscription_id, event_key)`` is unique so an event seen twice
is written once.

Revision ID: 0003
Revises: 0002
Create Date: 2025-01-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "notification_outbox",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("subscription_id", sa.String(length=36), nullable=False),
        sa.Column("vnf_instance_id", sa.String(length=36), nullable=False),
        sa.Column("notification_type", sa.String(length=64), nullable=False),
        sa.Column("event_key", sa.String(length=255), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=255), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=1024), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("id"),
        sa.UniqueConstraint("subscription_id", "event_key", name="uq_notification_outbox_event"),
    )
    with op.batch_alter_table("notification_outbox", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notification_outbox_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            "ix_notification_outbox_queue",
            ["status", "subscription_id", "vnf_instance_id", "seq"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("notification_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_outbox_queue")
        batch_op.drop_index(batch_op.f("ix_notification_outbox_created_at"))

    op.drop_table("notification_outbox")
