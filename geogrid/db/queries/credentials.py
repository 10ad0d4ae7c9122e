"""API credentials: add, list and revoke them; every change bumps the ``api_credentials``
data version so the API's cached table (``Workspace.credentials``) reloads within
``cache_check_interval_s``.

Rows hold the SHA-256 of the key's secret, never the key (see :mod:`geogrid.apikeys`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from geogrid.db.queries.layers import bump_version
from geogrid.errors import ConflictError, NotFoundError, UnknownGridError

__all__ = [
    "CREDENTIALS_LAYER",
    "CredentialRow",
    "insert_credential",
    "read_credentials",
    "revoke_credential",
]

CREDENTIALS_LAYER = "api_credentials"
_COLUMNS = "key_id, name, role, grid_code, secret_hash, created_at, revoked_at"


@dataclass(frozen=True)
class CredentialRow:
    """One stored credential (``secret_hash`` is the SHA-256 of the key's secret)."""

    key_id: str
    name: str
    role: str
    grid_code: str | None
    secret_hash: str
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        """True until the credential is revoked."""
        return self.revoked_at is None


def insert_credential(
    conn: Connection,
    *,
    key_id: str,
    name: str,
    role: str,
    grid_code: str | None,
    secret_hash: str,
) -> CredentialRow:
    """Store a new credential and return it.

    Raises :class:`UnknownGridError` for a grid code that names no grid and
    :class:`ConflictError` when an active credential already bears ``name``.
    """
    if (
        grid_code is not None
        and not conn.execute(
            text("SELECT 1 FROM grids WHERE code = :code"), {"code": grid_code}
        ).first()
    ):
        raise UnknownGridError(
            f"there is no grid with code {grid_code!r}", details={"grid": grid_code}
        )
    try:
        with conn.begin_nested():
            row = conn.execute(
                text(
                    "INSERT INTO api_credentials (key_id, name, role, grid_code, secret_hash) "
                    f"VALUES (:key_id, :name, :role, :grid_code, :secret_hash) RETURNING {_COLUMNS}"
                ),
                {
                    "key_id": key_id,
                    "name": name,
                    "role": role,
                    "grid_code": grid_code,
                    "secret_hash": secret_hash,
                },
            ).one()
    except IntegrityError as exc:
        if "uq_api_credentials_active_name" in str(exc.orig):
            raise ConflictError(
                f"an active credential is already named {name!r}; revoke it first or pick "
                "another name",
                details={"name": name},
            ) from exc
        raise
    bump_version(conn, CREDENTIALS_LAYER)
    return CredentialRow(*row)


def read_credentials(conn: Connection, *, active_only: bool = False) -> list[CredentialRow]:
    """Return the stored credentials, oldest first (revoked ones too unless ``active_only``)."""
    where = "WHERE revoked_at IS NULL" if active_only else ""
    rows = conn.execute(
        text(f"SELECT {_COLUMNS} FROM api_credentials {where} ORDER BY created_at, id")
    ).all()
    return [CredentialRow(*row) for row in rows]


def revoke_credential(conn: Connection, key_id_or_name: str) -> CredentialRow:
    """Revoke the credential with this key id, else the active one with this name.

    Raises :class:`NotFoundError` when neither matches and :class:`ConflictError` when the
    key id names a credential revoked already.
    """
    row = conn.execute(
        text(f"SELECT id, {_COLUMNS} FROM api_credentials WHERE key_id = :k"),
        {"k": key_id_or_name},
    ).first()
    if row is None:
        row = conn.execute(
            text(
                f"SELECT id, {_COLUMNS} FROM api_credentials WHERE name = :k AND revoked_at IS NULL"
            ),
            {"k": key_id_or_name},
        ).first()
    if row is None:
        raise NotFoundError(
            f"there is no active credential with key id or name {key_id_or_name!r}",
            details={"credential": key_id_or_name},
        )
    if row.revoked_at is not None:
        raise ConflictError(
            f"credential {row.key_id} ({row.name}) was revoked already, at "
            f"{row.revoked_at:%Y-%m-%d %H:%M:%S %Z}",
            details={"key_id": row.key_id},
        )
    revoked = conn.execute(
        text(f"UPDATE api_credentials SET revoked_at = now() WHERE id = :id RETURNING {_COLUMNS}"),
        {"id": row.id},
    ).one()
    bump_version(conn, CREDENTIALS_LAYER)
    return CredentialRow(*revoked)
