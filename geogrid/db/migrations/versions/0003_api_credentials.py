"""api credentials

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ROLES = ("admin", "planner", "dispatcher", "grid_worker", "app")


def upgrade() -> None:

    op.create_table(
        "api_credentials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("grid_code", sa.String(length=64), nullable=True),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "role IN ({})".format(", ".join(f"'{role}'" for role in ROLES)),
            name=op.f("ck_api_credentials_role"),
        ),
        sa.CheckConstraint(
            "(role = 'grid_worker') = (grid_code IS NOT NULL)",
            name=op.f("ck_api_credentials_grid_code"),
        ),
        sa.ForeignKeyConstraint(
            ["grid_code"],
            ["grids.code"],
            name=op.f("fk_api_credentials_grid_code_grids"),
            onupdate="CASCADE",
            initially="DEFERRED",
            deferrable=True,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_credentials")),
        sa.UniqueConstraint("key_id", name=op.f("uq_api_credentials_key_id")),
    )
    op.create_index(
        "uq_api_credentials_active_name",
        "api_credentials",
        ["name"],
        unique=True,
        postgresql_where=sa.text("revoked_at IS NULL"),
    )


def downgrade() -> None:

    op.drop_index("uq_api_credentials_active_name", table_name="api_credentials")
    op.drop_table("api_credentials")
    op.execute("DELETE FROM layer_versions WHERE layer = 'api_credentials'")
