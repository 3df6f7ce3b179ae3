"""At most one operation that is not final per VNF instance, in the database.

``start_operation`` checks first (for its message); this partial unique index
makes the check hold across processes on PostgreSQL, where two transactions
would otherwise both see "no active operation" and both insert.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

# Frozen here: a later change to FINAL_STATES needs its own migration.
NOT_FINAL = "state NOT IN ('COMPLETED', 'FAILED', 'ROLLED_BACK')"


def upgrade() -> None:
    op.create_index(
        "uq_vnf_lcm_op_occs_active_instance",
        "vnf_lcm_op_occs",
        ["vnf_instance_id"],
        unique=True,
        sqlite_where=sa.text(NOT_FINAL),
        postgresql_where=sa.text(NOT_FINAL),
    )


def downgrade() -> None:
    op.drop_index("uq_vnf_lcm_op_occs_active_instance", table_name="vnf_lcm_op_occs")
