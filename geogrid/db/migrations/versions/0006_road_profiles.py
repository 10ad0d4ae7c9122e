"""roads say which profiles may use them (car, foot), and footways have a class (path)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

CLASSES = "'trunk', 'primary', 'secondary', 'tertiary', 'residential', 'service'"


def upgrade() -> None:
    op.add_column("roads", sa.Column("car", sa.Boolean(), server_default="true", nullable=False))
    op.add_column("roads", sa.Column("foot", sa.Boolean(), server_default="true", nullable=False))
    op.drop_constraint(op.f("ck_roads_road_class"), "roads", type_="check")
    op.create_check_constraint(
        op.f("ck_roads_road_class"), "roads", f"road_class IN ({CLASSES}, 'path')"
    )


def downgrade() -> None:
    op.execute("DELETE FROM roads WHERE road_class = 'path' OR NOT car")
    op.drop_constraint(op.f("ck_roads_road_class"), "roads", type_="check")
    op.create_check_constraint(op.f("ck_roads_road_class"), "roads", f"road_class IN ({CLASSES})")
    op.drop_column("roads", "foot")
    op.drop_column("roads", "car")
