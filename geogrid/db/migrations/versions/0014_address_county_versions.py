"""a data version per county of the gazetteer: an API worker that matches addresses
county by county rebuilds only the counties whose addresses changed; an index on the
county for reading one county's addresses

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-03 17:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0012"
branch_labels = None
depends_on = None

_BUMP = """
CREATE FUNCTION geogrid_bump_address_counties() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        UPDATE address_county_versions SET version = version + 1;
        RETURN NULL;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO address_county_versions (county)
        SELECT DISTINCT coalesce(county, '') FROM new_rows
        ON CONFLICT (county) DO UPDATE SET version = address_county_versions.version + 1;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        INSERT INTO address_county_versions (county)
        SELECT DISTINCT coalesce(county, '') FROM old_rows
        ON CONFLICT (county) DO UPDATE SET version = address_county_versions.version + 1;
    END IF;
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    op.execute(
        "CREATE TABLE address_county_versions "
        "(county text PRIMARY KEY, version bigint NOT NULL DEFAULT 1)"
    )
    op.execute(
        "INSERT INTO address_county_versions (county) "
        "SELECT DISTINCT coalesce(county, '') FROM addresses"
    )
    op.execute("CREATE INDEX ix_addresses_county ON addresses ((coalesce(county, '')))")
    op.execute(_BUMP)
    for event, tables in (
        ("INSERT", "NEW TABLE AS new_rows"),
        ("UPDATE", "NEW TABLE AS new_rows OLD TABLE AS old_rows"),
        ("DELETE", "OLD TABLE AS old_rows"),
    ):
        op.execute(
            f"CREATE TRIGGER addresses_county_version_{event.lower()} AFTER {event} "
            f"ON addresses REFERENCING {tables} FOR EACH STATEMENT "
            "EXECUTE FUNCTION geogrid_bump_address_counties()"
        )
    op.execute(
        "CREATE TRIGGER addresses_county_version_truncate AFTER TRUNCATE ON addresses "
        "FOR EACH STATEMENT EXECUTE FUNCTION geogrid_bump_address_counties()"
    )


def downgrade() -> None:
    for event in ("insert", "update", "delete", "truncate"):
        op.execute(f"DROP TRIGGER addresses_county_version_{event} ON addresses")
    op.execute("DROP FUNCTION geogrid_bump_address_counties()")
    op.execute("DROP INDEX ix_addresses_county")
    op.execute("DROP TABLE address_county_versions")
