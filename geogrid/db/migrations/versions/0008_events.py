"""events with deadlines: services, events (Open311 requests), per-worker assignments,
the append-only event log and the transactional outbox

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 13:50:00
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE event_services (
    code varchar(64) PRIMARY KEY,
    name text NOT NULL,
    description text NOT NULL DEFAULT '',
    kind varchar(16) NOT NULL,
    deadline_minutes integer NOT NULL,
    remind_minutes integer NOT NULL DEFAULT 0,
    active boolean NOT NULL DEFAULT true,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ck_event_services_kind CHECK (kind IN ('event', 'registration', 'deployment')),
    CONSTRAINT ck_event_services_deadline CHECK (deadline_minutes BETWEEN 1 AND 525600),
    CONSTRAINT ck_event_services_remind CHECK (remind_minutes >= 0
        AND remind_minutes < deadline_minutes)
);

INSERT INTO event_services (code, name, description, kind, deadline_minutes, remind_minutes)
VALUES
  ('hotline', '热线事件', 'an event from the hotline, health staff or a grid worker: '
   'feedback within 4 hours', 'event', 240, 60),
  ('newcomer', '登记入格', 'a newcomer registered into the grid of their address within '
   '1 hour; a yellow or red health code makes a transfer request', 'registration', 60, 15),
  ('deployment', '一贯到格', 'a deployment sent to every grid worker under a grid, each '
   'acknowledging it', 'deployment', 240, 60);

CREATE TABLE events (
    id bigserial PRIMARY KEY,
    service_code varchar(64) NOT NULL REFERENCES event_services (code) ON UPDATE CASCADE,
    status varchar(16) NOT NULL DEFAULT 'open',
    placement varchar(16) NOT NULL,
    requested_at timestamptz NOT NULL,
    expected_at timestamptz NOT NULL,
    deadline_minutes integer NOT NULL,
    remind_at timestamptz,
    updated_at timestamptz NOT NULL,
    acknowledged_at timestamptz,
    closed_at timestamptz,
    reminded_at timestamptz,
    escalated_at timestamptz,
    escalation_level smallint NOT NULL DEFAULT 0,
    agency_code varchar(64),
    grid_code varchar(64),
    village_code varchar(64),
    town_code varchar(64),
    worker_code varchar(64),
    geom geometry(Point, 4326),
    address_string text,
    description text NOT NULL DEFAULT '',
    status_notes text,
    contact_name text,
    phone varchar(32),
    health_code varchar(8),
    transfer_code varchar(64),
    created_by text NOT NULL,
    idempotency_key varchar(255),
    request_digest varchar(64),
    CONSTRAINT ck_events_status CHECK (status IN ('open', 'acknowledged', 'closed')),
    CONSTRAINT ck_events_placement CHECK (placement IN ('placed', 'unplaced')),
    CONSTRAINT ck_events_health_code CHECK (health_code IN ('green', 'yellow', 'red')),
    CONSTRAINT ck_events_placed CHECK ((placement = 'placed') = (agency_code IS NOT NULL)),
    CONSTRAINT ck_events_expected CHECK (expected_at > requested_at)
);
CREATE UNIQUE INDEX uq_events_idempotency ON events (created_by, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX ix_events_requested_at ON events (requested_at);
CREATE INDEX ix_events_grid_code ON events (grid_code text_pattern_ops);
CREATE INDEX ix_events_service_code ON events (service_code);
-- the deadline scan reads only the events it may act on
CREATE INDEX ix_events_due ON events (expected_at)
    WHERE status <> 'closed' AND escalation_level = 0;
CREATE INDEX ix_events_remind ON events (remind_at)
    WHERE status <> 'closed' AND reminded_at IS NULL AND escalation_level = 0;
CREATE INDEX ix_events_unplaced ON events (id) WHERE placement = 'unplaced';
CREATE INDEX ix_events_geom ON events USING gist (geom);

CREATE TABLE event_assignments (
    event_id bigint NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    worker_code varchar(64) NOT NULL,
    grid_code varchar(64) NOT NULL,
    acknowledged_at timestamptz,
    PRIMARY KEY (event_id, worker_code)
);
CREATE INDEX ix_event_assignments_grid ON event_assignments (grid_code text_pattern_ops);

CREATE TABLE event_log (
    id bigserial PRIMARY KEY,
    event_id bigint NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    at timestamptz NOT NULL,
    actor text NOT NULL,
    role varchar(16),
    action varchar(16) NOT NULL,
    status varchar(16) NOT NULL,
    agency_code varchar(64),
    note text
);
CREATE INDEX ix_event_log_event ON event_log (event_id, at);

CREATE TABLE event_outbox (
    id bigserial PRIMARY KEY,
    delivery_id uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    event_id bigint NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    topic varchar(32) NOT NULL,
    payload jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz,
    last_error text
);
CREATE INDEX ix_event_outbox_pending ON event_outbox (next_attempt_at, id)
    WHERE delivered_at IS NULL;

-- a committed outbox row wakes the senders (NOTIFY is delivered at commit, only then)
CREATE FUNCTION event_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('geogrid_outbox', '');
    RETURN NULL;
END $$;
CREATE TRIGGER event_outbox_notify AFTER INSERT ON event_outbox
    FOR EACH STATEMENT EXECUTE FUNCTION event_outbox_notify();
"""

DOWNGRADE = """
DROP TABLE event_outbox;
DROP FUNCTION event_outbox_notify();
DROP TABLE event_log;
DROP TABLE event_assignments;
DROP TABLE events;
DROP TABLE event_services;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
