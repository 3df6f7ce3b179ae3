"""VNF indicators: the current values of ``/vnfind/v1/indicators`` and the set of
indicators each instance supports as last announced (vnfm_runner/assurance/indicators.py).

``vnf_indicators`` holds one row per (instance, indicator) with its latest value;
``vnf_indicator_sets`` one row per instance: the supported indicators and the package
they came from, so that an instantiation or a package change is announced once, by
whichever process sees it first. Indicator subscriptions share ``api_subscriptions``
(``api = 'vnfind'``) and the notification outbox.

Revision ID: 0007
Revises: 0006
Create Date: 2025-01-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "vnf_indicators",
        sa.Column("vnf_instance_id", sa.String(length=36), nullable=False),
        sa.Column("indicator_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("vnf_instance_id", "indicator_id"),
    )
    with op.batch_alter_table("vnf_indicators", schema=None) as batch_op:
        batch_op.create_index(
            "ix_vnf_indicators_created", ["created_at", "vnf_instance_id"], unique=False
        )
    op.create_table(
        "vnf_indicator_sets",
        sa.Column("vnf_instance_id", sa.String(length=36), nullable=False),
        sa.Column("package_id", sa.String(length=36), nullable=False),
        sa.Column("indicators", sa.JSON(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("vnf_instance_id"),
    )


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM api_subscriptions WHERE api = 'vnfind'"))
    op.drop_table("vnf_indicator_sets")
    op.drop_table("vnf_indicators")
