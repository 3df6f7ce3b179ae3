"""The schema as it was before migrations: packages, instances, operations, VIMs.

Stores created by ``Base.metadata.create_all`` (before migrations existed)
have exactly this schema; they are stamped at this revision, not re-created.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "vnf_packages",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("vnfd_id", sa.String(length=255), nullable=False),
        sa.Column("path", sa.String(length=4096), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("onboarding_state", sa.String(length=32), nullable=False),
        sa.Column("operational_state", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_vnf_packages_vnfd_id", "vnf_packages", ["vnfd_id"])
    op.create_table(
        "vnf_lcm_op_occs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("vnf_instance_id", sa.String(length=36), nullable=False),
        sa.Column("operation", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("doc", sa.JSON(), nullable=False),
        sa.Column("runner_ident", sa.String(length=255), nullable=True),
        sa.Column("artifacts_dir", sa.String(length=4096), nullable=True),
        sa.Column("desired_before", sa.JSON(), nullable=True),
        sa.Column("desired_after", sa.JSON(), nullable=True),
        sa.Column("engine_id", sa.String(length=255), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_vnf_lcm_op_occs_vnf_instance_id", "vnf_lcm_op_occs", ["vnf_instance_id"])
    op.create_index("ix_vnf_lcm_op_occs_state", "vnf_lcm_op_occs", ["state"])
    op.create_index("ix_vnf_lcm_op_occs_lease_expires_at", "vnf_lcm_op_occs", ["lease_expires_at"])
    op.create_table(
        "vims",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("vim_type", sa.String(length=64), nullable=False),
        sa.Column("connection", sa.JSON(), nullable=False),
        sa.Column("credentials", sa.String(length=8192), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "vnf_instances",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("vnfd_id", sa.String(length=255), nullable=False),
        sa.Column("package_id", sa.String(length=36), nullable=False),
        sa.Column("instantiation_state", sa.String(length=32), nullable=False),
        sa.Column("doc", sa.JSON(), nullable=False),
        sa.Column("desired_state", sa.JSON(), nullable=True),
        sa.Column("vim", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["package_id"], ["vnf_packages.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_vnf_instances_vnfd_id", "vnf_instances", ["vnfd_id"])


def downgrade() -> None:
    op.drop_index("ix_vnf_instances_vnfd_id", table_name="vnf_instances")
    op.drop_table("vnf_instances")
    op.drop_table("vims")
    op.drop_index("ix_vnf_lcm_op_occs_lease_expires_at", table_name="vnf_lcm_op_occs")
    op.drop_index("ix_vnf_lcm_op_occs_state", table_name="vnf_lcm_op_occs")
    op.drop_index("ix_vnf_lcm_op_occs_vnf_instance_id", table_name="vnf_lcm_op_occs")
    op.drop_table("vnf_lcm_op_occs")
    op.drop_index("ix_vnf_packages_vnfd_id", table_name="vnf_packages")
    op.drop_table("vnf_packages")
