"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 15:30:03.263615
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_geospatial_table(
        "addresses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("full_text", sa.Text(), nullable=False),
        sa.Column("normalized", sa.Text(), nullable=False),
        sa.Column("county", sa.Text(), nullable=True),
        sa.Column("town", sa.Text(), nullable=True),
        sa.Column("village", sa.Text(), nullable=True),
        sa.Column("road", sa.Text(), nullable=True),
        sa.Column("number", sa.Text(), nullable=True),
        sa.Column("building", sa.Text(), nullable=True),
        sa.Column("unit", sa.Text(), nullable=True),
        sa.Column("room", sa.Text(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_addresses")),
        sa.UniqueConstraint("code", name=op.f("uq_addresses_code")),
    )
    op.create_geospatial_index(
        "idx_addresses_geom",
        "addresses",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(
        "ix_addresses_normalized_trgm",
        "addresses",
        ["normalized"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"normalized": "gin_trgm_ops"},
    )
    op.create_index(op.f("ix_addresses_village"), "addresses", ["village"], unique=False)
    op.create_geospatial_table(
        "checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="active", nullable=False),
        sa.Column("staff", sa.Integer(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('traffic_station', 'village_gate', 'temporary')",
            name=op.f("ck_checkpoints_kind"),
        ),
        sa.CheckConstraint("status IN ('active', 'closed')", name=op.f("ck_checkpoints_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkpoints")),
        sa.UniqueConstraint("code", name=op.f("uq_checkpoints_code")),
    )
    op.create_geospatial_index(
        "idx_checkpoints_geom",
        "checkpoints",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_geospatial_table(
        "grids",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("parent_code", sa.String(length=64), nullable=True),
        sa.Column("population", sa.Integer(), nullable=True),
        sa.Column("households", sa.Integer(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "level IN ('county', 'town', 'village', 'micro', 'industry')",
            name=op.f("ck_grids_level"),
        ),
        sa.ForeignKeyConstraint(
            ["parent_code"],
            ["grids.code"],
            name=op.f("fk_grids_parent_code_grids"),
            onupdate="CASCADE",
            initially="DEFERRED",
            deferrable=True,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grids")),
        sa.UniqueConstraint("code", name=op.f("uq_grids_code")),
    )
    op.create_geospatial_index(
        "idx_grids_geom",
        "grids",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_grids_level"), "grids", ["level"], unique=False)
    op.create_index(op.f("ix_grids_parent_code"), "grids", ["parent_code"], unique=False)
    op.create_geospatial_table(
        "isolation_sites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=32), server_default="hotel", nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("occupied", sa.Integer(), server_default="0", nullable=False),
        sa.Column("risk_classes", sa.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("occupied <= capacity", name=op.f("ck_isolation_sites_occupancy")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_isolation_sites")),
        sa.UniqueConstraint("code", name=op.f("uq_isolation_sites_code")),
    )
    op.create_geospatial_index(
        "idx_isolation_sites_geom",
        "isolation_sites",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_table(
        "layer_versions",
        sa.Column("layer", sa.String(length=64), nullable=False),
        sa.Column("version", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("layer", name=op.f("pk_layer_versions")),
    )
    op.create_geospatial_table(
        "roads",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("road_class", sa.String(length=16), nullable=False),
        sa.Column("speed_kmh", sa.Float(), nullable=False),
        sa.Column("oneway", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("bridge", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("length_m", sa.Float(), nullable=True),
        sa.Column("source", sa.BigInteger(), nullable=True),
        sa.Column("target", sa.BigInteger(), nullable=True),
        sa.Column("cost", sa.Float(), nullable=True),
        sa.Column("reverse_cost", sa.Float(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="LINESTRING",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "road_class IN ('trunk', 'primary', 'secondary', 'tertiary', 'residential', 'service')",
            name=op.f("ck_roads_road_class"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roads")),
        sa.UniqueConstraint("code", name=op.f("uq_roads_code")),
    )
    op.create_geospatial_index(
        "idx_roads_geom",
        "roads",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_roads_source"), "roads", ["source"], unique=False)
    op.create_index(op.f("ix_roads_target"), "roads", ["target"], unique=False)
    op.create_geospatial_table(
        "transfer_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("contact_name", sa.Text(), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("id_number", sa.String(length=32), nullable=True),
        sa.Column("group_size", sa.Integer(), nullable=False),
        sa.Column("risk_class", sa.String(length=32), nullable=False),
        sa.Column("health_status", sa.String(length=16), nullable=True),
        sa.Column("ready_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("address_text", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), server_default="waiting", nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "risk_class IN ('close_contact', 'secondary_contact', 'returnee')",
            name=op.f("ck_transfer_requests_risk_class"),
        ),
        sa.CheckConstraint("group_size >= 1", name=op.f("ck_transfer_requests_group_size")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfer_requests")),
        sa.UniqueConstraint("code", name=op.f("uq_transfer_requests_code")),
    )
    op.create_geospatial_index(
        "idx_transfer_requests_geom",
        "transfer_requests",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_geospatial_table(
        "vehicles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("depot_name", sa.Text(), nullable=True),
        sa.Column("risk_classes", sa.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("shift_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("shift_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("seats >= 1", name=op.f("ck_vehicles_seats")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vehicles")),
        sa.UniqueConstraint("code", name=op.f("uq_vehicles_code")),
    )
    op.create_geospatial_index(
        "idx_vehicles_geom",
        "vehicles",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_geospatial_table(
        "water",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_water")),
        sa.UniqueConstraint("code", name=op.f("uq_water_code")),
    )
    op.create_geospatial_index(
        "idx_water_geom",
        "water",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_table(
        "grid_workers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("grid_code", sa.String(length=64), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["grid_code"],
            ["grids.code"],
            name=op.f("fk_grid_workers_grid_code_grids"),
            onupdate="CASCADE",
            initially="DEFERRED",
            deferrable=True,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grid_workers")),
        sa.UniqueConstraint("code", name=op.f("uq_grid_workers_code")),
    )
    op.create_index(op.f("ix_grid_workers_grid_code"), "grid_workers", ["grid_code"], unique=False)


def downgrade() -> None:

    op.drop_index(op.f("ix_grid_workers_grid_code"), table_name="grid_workers")
    op.drop_table("grid_workers")
    op.drop_geospatial_index(
        "idx_water_geom", table_name="water", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("water")
    op.drop_geospatial_index(
        "idx_vehicles_geom", table_name="vehicles", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("vehicles")
    op.drop_geospatial_index(
        "idx_transfer_requests_geom",
        table_name="transfer_requests",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("transfer_requests")
    op.drop_index(op.f("ix_roads_target"), table_name="roads")
    op.drop_index(op.f("ix_roads_source"), table_name="roads")
    op.drop_geospatial_index(
        "idx_roads_geom", table_name="roads", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("roads")
    op.drop_table("layer_versions")
    op.drop_geospatial_index(
        "idx_isolation_sites_geom",
        table_name="isolation_sites",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("isolation_sites")
    op.drop_index(op.f("ix_grids_parent_code"), table_name="grids")
    op.drop_index(op.f("ix_grids_level"), table_name="grids")
    op.drop_geospatial_index(
        "idx_grids_geom", table_name="grids", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("grids")
    op.drop_geospatial_index(
        "idx_checkpoints_geom",
        table_name="checkpoints",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("checkpoints")
    op.drop_index(op.f("ix_addresses_village"), table_name="addresses")
    op.drop_index(
        "ix_addresses_normalized_trgm",
        table_name="addresses",
        postgresql_using="gin",
        postgresql_ops={"normalized": "gin_trgm_ops"},
    )
    op.drop_geospatial_index(
        "idx_addresses_geom", table_name="addresses", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("addresses")
