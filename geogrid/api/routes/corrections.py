"""``/addresses/corrections``: operators teach the matcher what a text means.

``POST`` stores a correction (this address text → that grid, or → that standard
address), ``GET`` lists them, ``DELETE /{id}`` removes one. All three need
``layers:write`` (admins and planners: the roles that edit layers; grid workers, apps
and dispatchers get 403). Every write is audited, and the next ``/locate?address=`` of
the text — in any spelling that normalises the same — answers with the corrected place.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from geogrid.access import Caller
from geogrid.api import ogc
from geogrid.api.auth import require
from geogrid.api.deps import WorkspaceDep
from geogrid.api.error_docs import ERROR_CONTENT
from geogrid.api.schemas.common import given
from geogrid.workspace.corrections import (
    MAX_TEXT,
    Correction,
    add_correction,
    list_corrections,
    remove_correction,
)
from geogrid.workspace.edits import Editor

router = APIRouter(prefix="/addresses/corrections", tags=["addresses"])

Writer = Annotated[Caller, require("layers:write")]
CODE_MAX = 64


class CorrectionIn(BaseModel):
    """An address text and the one place it means: a grid or a standard address."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"oneOf": [given("grid_code"), given("address_code")]},
    )

    text: str = Field(
        min_length=1,
        max_length=MAX_TEXT,
        description="the address as people type it; matched after normalisation",
        examples=["鳌江镇曾山村村委会对面"],
    )
    grid_code: str | None = Field(
        default=None,
        min_length=1,
        max_length=CODE_MAX,
        description="a town, village or micro-grid (give this or address_code)",
    )
    address_code: str | None = Field(
        default=None,
        min_length=1,
        max_length=CODE_MAX,
        description="a standard address (give this or grid_code)",
    )


class CorrectionPublic(BaseModel):
    """A stored correction."""

    id: int
    text: str = Field(description="the text as it was given")
    normalized: str = Field(description="the text as the matcher normalises it: the key")
    grid_code: str | None
    address_code: str | None
    created_by: str
    created_at: datetime
    audit_id: int | None = Field(
        default=None, description="the audit entry of this write (None in a listing)"
    )

    @classmethod
    def of(cls, correction: Correction) -> CorrectionPublic:
        """Return the public form of a stored correction."""
        return cls.model_validate(correction, from_attributes=True)


class CorrectionsPublic(BaseModel):
    """Every correction, oldest first."""

    corrections: list[CorrectionPublic]


def _editor(request: Request, caller: Caller) -> Editor:
    role = str(caller.role) if caller.role is not None else None
    return Editor(caller.name, role, getattr(request.state, "request_id", None))


@router.post(
    "",
    status_code=201,
    response_model=CorrectionPublic,
    responses={
        404: {"description": "no such grid or standard address", **ERROR_CONTENT},
        409: {"description": "a correction of this text exists", **ERROR_CONTENT},
    },
)
def create_correction(
    body: CorrectionIn, request: Request, workspace: WorkspaceDep, caller: Writer
) -> CorrectionPublic:
    """Store that an address text means a grid or a standard address; the next
    ``/locate?address=`` of it answers with that place (``operator correction #id``)."""
    ogc.reject_unknown_params(request, ())
    stored = add_correction(
        workspace,
        body.text,
        grid_code=body.grid_code,
        address_code=body.address_code,
        editor=_editor(request, caller),
    )
    return CorrectionPublic.of(stored)


@router.get("", response_model=CorrectionsPublic)
def read_corrections(request: Request, workspace: WorkspaceDep, _: Writer) -> CorrectionsPublic:
    """List the operators' corrections, oldest first."""
    ogc.reject_unknown_params(request, ())
    return CorrectionsPublic(
        corrections=[CorrectionPublic.of(c) for c in list_corrections(workspace)]
    )


@router.delete(
    "/{correction_id}",
    status_code=204,
    response_class=Response,
    responses={404: {"description": "no such correction", **ERROR_CONTENT}},
)
def delete_correction(
    correction_id: Annotated[int, Path(ge=1, le=2**63 - 1, description="the correction's id")],
    request: Request,
    workspace: WorkspaceDep,
    caller: Writer,
) -> Response:
    """Remove a correction (audited); the text is matched by the gazetteer again."""
    ogc.reject_unknown_params(request, ())
    remove_correction(workspace, correction_id, editor=_editor(request, caller))
    return Response(status_code=204)
