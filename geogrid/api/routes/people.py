"""``/transport/requests``: the people waiting for transfer, with their personal data.

Dispatchers and admins read every request unmasked; a grid worker reads only the people
inside their own grid (filtered in SQL: another grid's person is 404, exactly as if
absent); planners and apps may not read people at all (403).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from geogrid.access import Caller
from geogrid.api.auth import require
from geogrid.api.deps import WorkspaceDep
from geogrid.workspace.people import find_people, find_person

router = APIRouter(prefix="/transport/requests", tags=["transport"])

PeopleReader = Annotated[Caller, require("people:read")]


class TransferRequestPublic(BaseModel):
    """A household waiting to be moved (WGS 84 point); personal data for those allowed."""

    code: str
    group_size: int
    risk_class: str
    status: str
    ready_at: datetime | None
    lon: float
    lat: float
    contact_name: str | None = Field(description="personal data")
    phone: str | None = Field(description="personal data")
    id_number: str | None = Field(description="personal data")
    health_status: str | None = Field(description="personal data")
    address_text: str | None = Field(description="personal data")


class TransferRequestsPublic(BaseModel):
    """One page of transfer requests in code order."""

    items: list[TransferRequestPublic]
    number_matched: int
    number_returned: int


@router.get("", response_model=TransferRequestsPublic)
def list_requests(
    workspace: WorkspaceDep,
    caller: PeopleReader,
    status: Annotated[
        str | None, Query(max_length=16, description="only requests in this status (waiting, ...)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> TransferRequestsPublic:
    """Return the transfer requests the caller may read (a grid worker: their grid's)."""
    people, matched = find_people(workspace, caller, status=status, limit=limit, offset=offset)
    items = [TransferRequestPublic(**p) for p in people]
    return TransferRequestsPublic(items=items, number_matched=matched, number_returned=len(items))


@router.get("/{code}", response_model=TransferRequestPublic)
def get_request(code: str, workspace: WorkspaceDep, caller: PeopleReader) -> TransferRequestPublic:
    """Return one transfer request (404 when absent or outside the caller's grid)."""
    return TransferRequestPublic(**find_person(workspace, caller, code))
