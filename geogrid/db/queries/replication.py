"""Reads on a streaming replica, writes on the primary: the positions that tell them apart.

A write's commit has a WAL position (LSN) on the primary; a replica has replayed up to a
position of its own. A process that has just written reads on the primary until the
replica has replayed past its write (:func:`replayed_past`), so it always reads its own
writes and never sees the data go back in time.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

__all__ = [
    "VERSIONS_CHANNEL",
    "current_wal_lsn",
    "database_identity",
    "lsn_value",
    "notify_version",
    "replayed_past",
]

VERSIONS_CHANNEL = "geogrid_layers"
"""The LISTEN/NOTIFY channel a layer's new data version is announced on
(payload ``layer:version``)."""


def lsn_value(lsn: str) -> int:
    """Return a PostgreSQL ``pg_lsn`` text (``16/B374D848``) as a comparable integer.

    Examples
    --------
    >>> lsn_value("16/B374D848") > lsn_value("16/B374D847")
    True
    """
    high, low = lsn.split("/")
    return (int(high, 16) << 32) + int(low, 16)


def current_wal_lsn(conn: Connection) -> int:
    """Return the primary's WAL insert position: past every commit made so far, even one
    still in the WAL buffers (``synchronous_commit = off``), where ``pg_current_wal_lsn``
    (the write position) may lag behind it."""
    return lsn_value(str(conn.execute(text("SELECT pg_current_wal_insert_lsn()")).scalar_one()))


def replayed_past(conn: Connection, lsn: int) -> bool:
    """Return True when this server holds every commit up to ``lsn``: a primary always,
    a replica once it has replayed that far."""
    in_recovery, replayed = conn.execute(
        text("SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()")
    ).one()
    if not in_recovery:
        return True
    return replayed is not None and lsn_value(str(replayed)) >= lsn


def notify_version(conn: Connection, layer: str, version: int) -> None:
    """Announce ``layer``'s new data version to every listening server (sent when the
    transaction commits, never for a rolled-back one)."""
    conn.execute(
        text("SELECT pg_notify(:channel, :payload)"),
        {"channel": VERSIONS_CHANNEL, "payload": f"{layer}:{version}"},
    )


def database_identity(conn: Connection) -> str:
    """Return what names this database among all servers: the cluster's system identifier
    (a replica shares its primary's) and the database name."""
    return str(
        conn.execute(
            text(
                "SELECT system_identifier::text || '/' || current_database() "
                "FROM pg_control_system()"
            )
        ).scalar_one()
    )
