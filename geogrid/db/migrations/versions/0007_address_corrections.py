"""operators' address corrections: a text (normalised) that means a grid or a standard address

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 12:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "address_corrections",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("normalized", sa.Text(), nullable=False),
        sa.Column("grid_code", sa.String(length=64), nullable=True),
        sa.Column("address_code", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(grid_code IS NULL) <> (address_code IS NULL)",
            name=op.f("ck_address_corrections_target"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_address_corrections")),
        sa.UniqueConstraint("normalized", name=op.f("uq_address_corrections_normalized")),
    )


def downgrade() -> None:
    op.drop_table("address_corrections")
