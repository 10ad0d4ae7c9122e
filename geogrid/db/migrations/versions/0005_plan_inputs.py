"""transport plans keep their inputs and the plan they re-plan

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "transport_plans",
        sa.Column(
            "inputs",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
    )
    op.add_column("transport_plans", sa.Column("previous_plan_id", sa.Integer(), nullable=True))
    op.create_foreign_key(
        op.f("fk_transport_plans_previous_plan_id_transport_plans"),
        "transport_plans",
        "transport_plans",
        ["previous_plan_id"],
        ["id"],
        ondelete="SET NULL",
    )


def downgrade() -> None:
    op.drop_constraint(
        op.f("fk_transport_plans_previous_plan_id_transport_plans"),
        "transport_plans",
        type_="foreignkey",
    )
    op.drop_column("transport_plans", "previous_plan_id")
    op.drop_column("transport_plans", "inputs")
