"""transport plans

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 16:40:55.726933
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "transport_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("day_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("settings", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("summary", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("assignment", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("unserved", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transport_plans")),
    )
    op.create_geospatial_table(
        "transport_routes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("vehicle_code", sa.String(length=64), nullable=False),
        sa.Column("stops", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("km", sa.Float(), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTILINESTRING",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["transport_plans.id"],
            name=op.f("fk_transport_routes_plan_id_transport_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transport_routes")),
    )
    op.create_geospatial_index(
        "idx_transport_routes_geom",
        "transport_routes",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(
        op.f("ix_transport_routes_plan_id"), "transport_routes", ["plan_id"], unique=False
    )


def downgrade() -> None:

    op.drop_index(op.f("ix_transport_routes_plan_id"), table_name="transport_routes")
    op.drop_geospatial_index(
        "idx_transport_routes_geom",
        table_name="transport_routes",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("transport_routes")
    op.drop_table("transport_plans")
