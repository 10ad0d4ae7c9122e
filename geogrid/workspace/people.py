"""People waiting for transfer, as a caller may see them.

Read in SQL within the caller's jurisdiction (:mod:`geogrid.db.queries.people`): a grid
worker gets only the people inside their grid, and a person outside is "not found",
exactly as one that does not exist. Personal data is shown to callers who may read it
(:attr:`Caller.sees_personal_data`) and masked for anyone else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from geogrid.access import Caller
from geogrid.db.queries.people import read_people, read_person
from geogrid.errors import NotFoundError
from geogrid.privacy import mask_id_number, mask_name, mask_phone

if TYPE_CHECKING:
    from geogrid.workspace import Workspace

__all__ = ["find_people", "find_person", "mask_person"]


def mask_person(person: dict[str, Any]) -> dict[str, Any]:
    """Return a transfer request with its personal data masked (health, address dropped)."""
    return {
        **person,
        "contact_name": mask_name(person["contact_name"]),
        "phone": mask_phone(person["phone"]),
        "id_number": mask_id_number(person["id_number"]),
        "health_status": None,
        "address_text": None,
    }


def _shown(caller: Caller, person: dict[str, Any]) -> dict[str, Any]:
    return person if caller.sees_personal_data else mask_person(person)


def find_people(
    workspace: Workspace,
    caller: Caller,
    *,
    status: str | None = None,
    limit: int = 1000,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """Return one page of the transfer requests ``caller`` may see, and how many in all."""
    with workspace.engine.connect() as conn:
        people, matched = read_people(
            conn, subtree=caller.subtree, status=status, limit=limit, offset=offset
        )
    return [_shown(caller, p) for p in people], matched


def find_person(workspace: Workspace, caller: Caller, code: str) -> dict[str, Any]:
    """Return one transfer request; :class:`NotFoundError` when absent or out of reach."""
    with workspace.engine.connect() as conn:
        person = read_person(conn, code, subtree=caller.subtree)
    if person is None:
        raise NotFoundError(f"there is no transfer request {code!r}", details={"request": code})
    return _shown(caller, person)
