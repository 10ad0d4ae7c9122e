"""``GET /health``: is the service up, and is its database?"""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel

from geogrid import __version__
from geogrid.api.auth import require
from geogrid.api.deps import WorkspaceDep
from geogrid.errors import DatabaseUnavailableError

router = APIRouter(tags=["service"])


class DatabaseHealth(BaseModel):
    """What the service knows of its database."""

    reachable: bool
    postgresql: str | None = None
    postgis: str | None = None
    pgrouting: str | None = None
    message: str | None = None


class HealthPublic(BaseModel):
    """The answer of ``/health``."""

    status: str
    version: str
    database: DatabaseHealth


@router.get(
    "/health",
    response_model=HealthPublic,
    dependencies=[require("health")],
    responses={
        503: {
            "description": (
                "The database is down (``Retry-After`` says when to ask again): this answer, "
                "or the error body when the API key could not be checked"
            ),
            "headers": {"Retry-After": {"schema": {"type": "integer"}}},
            "content": {
                "application/json": {
                    "schema": {
                        "anyOf": [
                            {"$ref": "#/components/schemas/HealthPublic"},
                            {"$ref": "#/components/schemas/Error"},
                        ]
                    }
                }
            },
        },
    },
)
def health(workspace: WorkspaceDep, response: Response) -> HealthPublic:
    """Report the service's state; 503 with ``Retry-After`` while the database is down."""
    try:
        versions = workspace.database_versions()
    except DatabaseUnavailableError as exc:
        response.status_code = 503
        response.headers["Retry-After"] = "5"
        return HealthPublic(
            status="unavailable",
            version=__version__,
            database=DatabaseHealth(reachable=False, message=exc.message),
        )
    return HealthPublic(
        status="ok", version=__version__, database=DatabaseHealth(reachable=True, **versions)
    )
