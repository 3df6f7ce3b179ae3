"""Performance management: the PM jobs, reports and thresholds of ``/vnfpm/v2``
(vnfm_runner/assurance/pm.py).

``pm_reports`` is unique on ``(pm_job_id, period_index)``: one report per job and
reporting period, however often a restart retries it. A job's or threshold's callbackUri
and sealed authentication are an ``api_subscriptions`` row of the same id (api
``vnfpm``), so PM's notifications go through the notification outbox unchanged;
``(created_at, id)`` for the API's keyset paging.

Revision ID: 0006
Revises: 0005
Create Date: 2025-01-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "pm_jobs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("doc", sa.JSON(), nullable=False),
        sa.Column("anchor", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("pm_jobs", schema=None) as batch_op:
        batch_op.create_index("ix_pm_jobs_created", ["created_at", "id"], unique=False)
    op.create_table(
        "pm_reports",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("pm_job_id", sa.String(length=36), nullable=False),
        sa.Column("period_index", sa.Integer(), nullable=False),
        sa.Column("doc", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("pm_job_id", "period_index", name="uq_pm_reports_period"),
    )
    with op.batch_alter_table("pm_reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pm_reports_pm_job_id"), ["pm_job_id"], unique=False)
    op.create_table(
        "pm_thresholds",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("vnf_instance_id", sa.String(length=36), nullable=False),
        sa.Column("doc", sa.JSON(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("pm_thresholds", schema=None) as batch_op:
        batch_op.create_index("ix_pm_thresholds_created", ["created_at", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_pm_thresholds_vnf_instance_id"), ["vnf_instance_id"], unique=False
        )


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM api_subscriptions WHERE api = 'vnfpm'"))
    op.drop_table("pm_thresholds")
    op.drop_table("pm_reports")
    op.drop_table("pm_jobs")
