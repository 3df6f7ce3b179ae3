"""The API's tables and paging indexes join the migrations; subscriptions get an ``api``.

Until now the API server made ``api_vnf_packages`` and ``api_subscriptions``
with ``create_all`` and the paging indexes with ``CREATE INDEX IF NOT EXISTS``
when it started. A store at 0003 may therefore have all, some or none of
them: each is created only when missing, and what exists (with its rows) is
kept. ``api_subscriptions.api`` tells LCM subscriptions (``vnflcm``, every
existing one) from package management ones (``vnfpkgm``).

Revision ID: 0004
Revises: 0003
Create Date: 2025-01-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

# (table, index name, columns) of the indexes this revision owns
INDEXES = (
    ("vnf_instances", "ix_api_vnf_instances_created", ["created_at", "id"]),
    ("vnf_lcm_op_occs", "ix_api_vnf_lcm_op_occs_created", ["created_at", "id"]),
    ("api_vnf_packages", "ix_api_vnf_packages_store_package_id", ["store_package_id"]),
    ("api_subscriptions", "ix_api_subscriptions_created_at", ["created_at"]),
)


def _tables() -> set[str]:
    return set(sa.inspect(op.get_bind()).get_table_names())


def _columns(table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(op.get_bind()).get_columns(table)}


def _indexes(table: str) -> set[str]:
    return {str(i["name"]) for i in sa.inspect(op.get_bind()).get_indexes(table)}


def upgrade() -> None:
    tables = _tables()
    if "api_vnf_packages" not in tables:
        op.create_table(
            "api_vnf_packages",
            sa.Column("id", sa.String(length=36), nullable=False),
            sa.Column("store_package_id", sa.String(length=36), nullable=True),
            sa.Column("onboarding_state", sa.String(length=32), nullable=False),
            sa.Column("operational_state", sa.String(length=32), nullable=False),
            sa.Column("user_defined_data", sa.JSON(), nullable=False),
            sa.Column("failure", sa.JSON(), nullable=True),
            sa.Column("details", sa.JSON(), nullable=False),
            sa.Column("upload_path", sa.String(length=4096), nullable=True),
            sa.Column("deleted", sa.Boolean(), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
    if "api_subscriptions" not in tables:
        op.create_table(
            "api_subscriptions",
            sa.Column("id", sa.String(length=36), nullable=False),
            sa.Column("api", sa.String(length=16), server_default="vnflcm", nullable=False),
            sa.Column("doc", sa.JSON(), nullable=False),
            sa.Column("authentication", sa.String(length=8192), nullable=True),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
    elif "api" not in _columns("api_subscriptions"):
        # every subscription made before this revision is an LCM one
        with op.batch_alter_table("api_subscriptions") as batch_op:
            batch_op.add_column(
                sa.Column("api", sa.String(length=16), server_default="vnflcm", nullable=False)
            )
    for table, name, columns in INDEXES:
        if name not in _indexes(table):
            op.create_index(name, table, columns)


def downgrade() -> None:
    # Back to 0003, where the server makes these tables itself: the rows stay
    # (packages, LCM subscriptions); package management subscriptions go.
    op.execute(sa.text("DELETE FROM api_subscriptions WHERE api <> 'vnflcm'"))
    with op.batch_alter_table("api_subscriptions") as batch_op:
        batch_op.drop_column("api")
    op.drop_index("ix_api_vnf_lcm_op_occs_created", table_name="vnf_lcm_op_occs")
    op.drop_index("ix_api_vnf_instances_created", table_name="vnf_instances")
