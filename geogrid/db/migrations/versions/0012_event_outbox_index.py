"""an index on event_outbox.event_id: deleting an event (a purged drill) cascades to its
notifications without reading the whole outbox

Revision ID: 0012
Revises: 0008
Create Date: 2026-12-03 14:45:00
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX ix_event_outbox_event ON event_outbox (event_id)")


def downgrade() -> None:
    op.execute("DROP INDEX ix_event_outbox_event")
