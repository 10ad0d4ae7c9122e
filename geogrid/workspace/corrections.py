"""Operators' address corrections: store one, list them, remove one — each audited.

A correction says that an address text means a grid (a town, village or micro-grid) or
a standard address. It is stored with its audit entry and a bump of the corrections'
data version in ONE transaction, and the locators are rebuilt before the call returns,
so the caller's next ``/locate?address=`` of that text (or of any spelling that
normalises the same) answers with the corrected place.

Address texts may be personal data: they are stored for the operators who list the
corrections, but never logged, and the audit entry holds a digest of the normalised
text instead of the text.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from geogrid.db.queries import corrections as q
from geogrid.db.queries.audit import insert_audit
from geogrid.db.queries.edits import lock_layer
from geogrid.db.queries.layers import bump_version
from geogrid.errors import ConflictError, InvalidRequestError, NotFoundError
from geogrid.workspace.edits import Editor

if TYPE_CHECKING:
    from geogrid.workspace import Workspace

__all__ = [
    "MAX_TEXT",
    "Correction",
    "add_correction",
    "list_corrections",
    "remove_correction",
]

MAX_TEXT = 200
"""The longest address text a correction takes (as ``/locate?address=``)."""

_GRID_LEVELS = ("town", "village", "micro")


@dataclass(frozen=True)
class Correction:
    """A stored correction: the text as typed, as normalised, and what it means."""

    id: int
    text: str
    normalized: str
    grid_code: str | None
    address_code: str | None
    created_by: str
    created_at: datetime
    audit_id: int | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any], audit_id: int | None = None) -> Correction:
        """Build one from a stored row."""
        return cls(
            id=int(row["id"]),
            text=str(row["text"]),
            normalized=str(row["normalized"]),
            grid_code=row["grid_code"] if isinstance(row["grid_code"], str) else None,
            address_code=row["address_code"] if isinstance(row["address_code"], str) else None,
            created_by=str(row["created_by"]),
            created_at=row["created_at"],
            audit_id=audit_id,
        )


def add_correction(
    workspace: Workspace,
    text: str,
    *,
    grid_code: str | None = None,
    address_code: str | None = None,
    editor: Editor,
) -> Correction:
    """Store that ``text`` means grid ``grid_code`` or standard address ``address_code``.

    Raises
    ------
    InvalidRequestError
        No target or both, an empty or too long text, a grid that is not a town,
        village or micro-grid.
    NotFoundError
        The grid or the address does not exist.
    ConflictError
        A correction of the same normalised text exists (remove it first).
    """
    from geogrid.spatial.addresses import normalize_address

    if (grid_code is None) == (address_code is None):
        raise InvalidRequestError(
            "a correction names exactly one of grid_code and address_code",
            details={"fields": ["grid_code", "address_code"]},
        )
    if len(text) > MAX_TEXT:
        raise InvalidRequestError(
            f"the address text is longer than {MAX_TEXT} characters",
            details={"field": "text", "limit": MAX_TEXT},
        )
    unstorable = next((i for i, ch in enumerate(text) if ch == "\x00" or _surrogate(ch)), None)
    if unstorable is not None:
        raise InvalidRequestError(
            f"the address text holds a character that cannot be stored "
            f"(U+{ord(text[unstorable]):04X} at position {unstorable + 1})",
            details={"field": "text", "position": unstorable + 1},
        )
    normalized = normalize_address(text)
    if not normalized:
        raise InvalidRequestError(
            "the address text is empty once normalised", details={"field": "text"}
        )

    def write(conn: Connection) -> Correction:
        _check_target(workspace, conn, grid_code, address_code)
        if q.correction_by_normalized(conn, normalized) is not None:
            raise ConflictError(
                "a correction of this text exists; remove it first",
                details={"field": "text"},
            )
        row = q.insert_correction(
            conn,
            text=text,
            normalized=normalized,
            grid_code=grid_code,
            address_code=address_code,
            created_by=editor.name,
        )
        audit_id = _audit(conn, "create", row, editor)
        return Correction.from_row(row, audit_id)

    return _run(workspace, write)


def remove_correction(workspace: Workspace, correction_id: int, *, editor: Editor) -> Correction:
    """Remove a correction (audited); the text is matched by the gazetteer again.

    Raises
    ------
    NotFoundError
        There is no such correction.
    """

    def write(conn: Connection) -> Correction:
        row = q.delete_correction(conn, correction_id)
        if row is None:
            raise NotFoundError(
                f"there is no address correction {correction_id}",
                details={"correction": correction_id},
            )
        audit_id = _audit(conn, "delete", row, editor)
        return Correction.from_row(row, audit_id)

    return _run(workspace, write)


def list_corrections(workspace: Workspace) -> list[Correction]:
    """Return every correction, oldest first."""
    frame = workspace.address_corrections()
    return [Correction.from_row(row) for row in frame.to_dict("records")]


# ----------------------------------------------------------------------------- internals


def _surrogate(ch: str) -> bool:
    return "\ud800" <= ch <= "\udfff"


def _check_target(
    workspace: Workspace, conn: Connection, grid_code: str | None, address_code: str | None
) -> None:
    if grid_code is not None:
        grids = workspace.grids()
        found = grids.loc[grids["code"] == grid_code, "level"]
        if found.empty and not q.grid_exists(conn, grid_code):
            raise NotFoundError(
                f"there is no grid {grid_code[:64]!r}", details={"grid_code": grid_code[:64]}
            )
        if not found.empty and found.iloc[0] not in _GRID_LEVELS:
            raise InvalidRequestError(
                f"a correction points at a town, village or micro-grid, not a {found.iloc[0]} grid",
                details={"grid_code": grid_code},
            )
    if address_code is not None and not q.address_exists(conn, address_code):
        raise NotFoundError(
            f"there is no standard address {address_code[:64]!r}",
            details={"address_code": address_code[:64]},
        )


def _audit(conn: Connection, action: str, row: dict[str, Any], editor: Editor) -> int:
    """Append the audit entry: the target and a digest of the normalised text (the text
    itself may be personal data and stays out of the log)."""
    digest = hashlib.blake2b(str(row["normalized"]).encode(), digest_size=16).hexdigest()
    entry = {
        "id": int(row["id"]),
        "text_digest": digest,
        "grid_code": row["grid_code"],
        "address_code": row["address_code"],
    }
    return insert_audit(
        conn,
        actor=editor.name,
        role=editor.role,
        action=action,
        layer=q.CORRECTIONS_LAYER,
        code=str(row["id"]),
        before=entry if action == "delete" else None,
        after=entry if action == "create" else None,
        request_id=editor.request_id,
    )


def _run(workspace: Workspace, write: Any) -> Correction:
    """Run ``write`` in one transaction under the corrections' lock, bump their version,
    and wait until this process's locators answer with it."""
    with workspace.engine.begin() as conn:
        lock_layer(conn, q.CORRECTIONS_LAYER)
        done: Correction = write(conn)
        bump_version(conn, q.CORRECTIONS_LAYER)
    workspace.refresh_after_write(q.CORRECTIONS_LAYER)
    return done
