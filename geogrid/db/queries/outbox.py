"""The transactional outbox: notifications written with the change they announce.

A row is inserted in the same transaction as the event change (so a rolled-back change
announces nothing, and a committed one cannot lose its notification); a trigger
``NOTIFY``s ``geogrid_outbox`` at commit. Senders claim due rows with
``FOR UPDATE SKIP LOCKED`` (two senders never hold the same row), deliver them, and mark
them delivered in the transaction that holds the lock. A sender that dies before marking
leaves the row undelivered and unlocked: the next sender delivers it again, with the same
``delivery_id`` for the receiver to drop the twin.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, text

__all__ = [
    "CHANNEL",
    "claim_due",
    "insert_outbox",
    "listen",
    "mark_delivered",
    "mark_failed",
    "outbox_counts",
    "wait_for_notify",
]

CHANNEL = "geogrid_outbox"
"""The LISTEN/NOTIFY channel a committed outbox row is announced on."""


def insert_outbox(conn: Connection, event_id: int, topic: str, payload: dict[str, Any]) -> None:
    """Add a notification in the caller's transaction (``payload``: no personal data)."""
    conn.execute(
        text(
            "INSERT INTO event_outbox (event_id, topic, payload) "
            "VALUES (:id, :topic, CAST(:payload AS jsonb))"
        ),
        {"id": event_id, "topic": topic, "payload": json.dumps(payload, default=str)},
    )


def claim_due(conn: Connection, now: datetime, limit: int) -> list[dict[str, Any]]:
    """Lock up to ``limit`` undelivered rows due by ``now`` (oldest first), skipping rows
    another sender holds; the lock lasts until the caller's transaction ends."""
    rows = conn.execute(
        text(
            "SELECT id, delivery_id, event_id, topic, payload, attempts, created_at "
            "FROM event_outbox WHERE delivered_at IS NULL AND next_attempt_at <= :now "
            "ORDER BY next_attempt_at, id LIMIT :limit FOR UPDATE SKIP LOCKED"
        ),
        {"now": now, "limit": limit},
    ).mappings()
    return [dict(r) for r in rows]


def mark_delivered(conn: Connection, outbox_id: int, at: datetime) -> None:
    """Record a delivery (2xx from the receiver)."""
    conn.execute(
        text(
            "UPDATE event_outbox SET delivered_at = :at, attempts = attempts + 1, "
            "last_error = NULL WHERE id = :id"
        ),
        {"id": outbox_id, "at": at},
    )


def mark_failed(conn: Connection, outbox_id: int, next_attempt_at: datetime, error: str) -> None:
    """Record a failed attempt and when to try again."""
    conn.execute(
        text(
            "UPDATE event_outbox SET attempts = attempts + 1, next_attempt_at = :next, "
            "last_error = :error WHERE id = :id"
        ),
        {"id": outbox_id, "next": next_attempt_at, "error": error[:500]},
    )


def outbox_counts(conn: Connection) -> dict[str, int]:
    """Return how many notifications are delivered, pending, and failing (tried and
    not delivered)."""
    row = (
        conn.execute(
            text(
                "SELECT count(delivered_at) AS delivered, "
                "count(*) FILTER (WHERE delivered_at IS NULL) AS pending, "
                "count(*) FILTER (WHERE delivered_at IS NULL AND attempts > 0) AS failing "
                "FROM event_outbox"
            )
        )
        .mappings()
        .one()
    )
    return {k: int(v) for k, v in row.items()}


def listen(engine: Engine) -> Any:
    """Return a raw connection LISTENing on :data:`CHANNEL` (autocommit); wait on it with
    :func:`wait_for_notify` and close it when done."""
    raw = engine.raw_connection()
    driver = raw.driver_connection
    driver.autocommit = True  # type: ignore[union-attr]
    driver.execute(f"LISTEN {CHANNEL}")  # type: ignore[union-attr]
    return raw


def wait_for_notify(listener: Any, timeout_s: float) -> bool:
    """Wait up to ``timeout_s`` for a notification on a :func:`listen` connection; return
    True when one came (all pending ones are consumed)."""
    driver = listener.driver_connection
    got = False
    for _ in driver.notifies(timeout=timeout_s, stop_after=1):
        got = True
    if got:  # drain what else arrived meanwhile, without waiting
        for _ in driver.notifies(timeout=0.0):
            pass
    return got
