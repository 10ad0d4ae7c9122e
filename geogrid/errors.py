"""Domain errors for geogrid.

Every error geogrid raises on purpose derives from :class:`GeoGridError`. Leaves also
inherit the matching builtin, so ``except ValueError`` keeps working for callers who do
not know geogrid. Each error carries a message that is safe to show a user; the API maps
classes to HTTP status codes in one table (``geogrid.api.errors``), and core code never
raises HTTP exceptions.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AuthenticationError",
    "AxisOrderError",
    "BrowserError",
    "ConflictError",
    "DatabaseUnavailableError",
    "EditRefusedError",
    "GeoGridError",
    "IngestError",
    "InvalidCoordinateError",
    "InvalidGeometryError",
    "InvalidRequestError",
    "MapError",
    "NotFoundError",
    "PermissionDeniedError",
    "PostgresNotInstalledError",
    "PreconditionFailedError",
    "PreconditionRequiredError",
    "QueryTimeoutError",
    "TooLargeError",
    "TooManyVerticesError",
    "UnknownCRSError",
    "UnknownGridError",
]


class GeoGridError(Exception):
    """Root of every error geogrid raises on purpose.

    Parameters
    ----------
    message
        What went wrong, in words a user can act on. Never contains personal data.
    details
        Optional machine-readable context (file, row, column, limit, ...).
    """

    code: str = "geogrid_error"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details or {}

    def __str__(self) -> str:
        return self.message


class UnknownCRSError(GeoGridError, ValueError):
    """A coordinate system name or EPSG code that geogrid does not know."""

    code = "unknown_crs"


class InvalidRequestError(GeoGridError, ValueError):
    """A request that cannot be answered as asked (missing or contradictory input)."""

    code = "invalid_request"


class InvalidCoordinateError(InvalidRequestError):
    """Coordinates that are not numbers, out of range, or otherwise unusable."""

    code = "invalid_coordinate"


class InvalidGeometryError(GeoGridError, ValueError):
    """A geometry that is invalid and cannot (or may not) be repaired."""

    code = "invalid_geometry"


class AxisOrderError(GeoGridError, ValueError):
    """Coordinates that look like latitude/longitude given in swapped order."""

    code = "axis_order"


class IngestError(GeoGridError, ValueError):
    """A file that cannot be loaded; ``details`` names the file, row and reason."""

    code = "ingest_error"

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        row: int | None = None,
        column: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        extra = dict(details or {})
        if path is not None:
            extra["file"] = path
        if row is not None:
            extra["row"] = row
        if column is not None:
            extra["column"] = column
        where = ", ".join(
            part
            for part in (
                path,
                f"row {row}" if row is not None else None,
                f"column {column!r}" if column is not None else None,
            )
            if part
        )
        super().__init__(f"{where}: {message}" if where else message, details=extra)
        self.path = path
        self.row = row
        self.column = column


class MapError(GeoGridError, ValueError):
    """A map that cannot be drawn as asked: a missing column or key, an unknown basemap."""

    code = "map_error"


class BrowserError(GeoGridError, RuntimeError):
    """Headless Chromium is missing, failed to start, or did not finish a page in time."""

    code = "browser_error"


class NotFoundError(GeoGridError, LookupError):
    """A thing asked for by its identifier does not exist."""

    code = "not_found"


class UnknownGridError(NotFoundError):
    """A grid code or name that matches no grid."""

    code = "unknown_grid"


class ConflictError(GeoGridError, ValueError):
    """A write that conflicts with stored data (duplicate code, stale version)."""

    code = "conflict"


class TooLargeError(GeoGridError, ValueError):
    """A request or file above a configured limit; ``details`` holds the limit."""

    code = "too_large"


class DatabaseUnavailableError(GeoGridError, ConnectionError):
    """The database cannot be reached right now."""

    code = "database_unavailable"


class PostgresNotInstalledError(GeoGridError, RuntimeError):
    """PostgreSQL, PostGIS or pgRouting is missing from this machine."""

    code = "postgres_not_installed"


class AuthenticationError(GeoGridError, PermissionError):
    """A request without a credential where one is needed, or with one that is not valid
    (unknown, revoked, malformed or a wrong secret)."""

    code = "unauthenticated"


class PermissionDeniedError(GeoGridError, PermissionError):
    """A valid credential whose role may not do what was asked."""

    code = "forbidden"


class QueryTimeoutError(GeoGridError, TimeoutError):
    """A database statement cancelled by ``statement_timeout`` (``details``: the limit)."""

    code = "query_timeout"


class PreconditionFailedError(ConflictError):
    """A write whose ``If-Match`` names a version that is no longer stored (someone else
    changed the feature since it was read); nothing was changed."""

    code = "precondition_failed"


class PreconditionRequiredError(GeoGridError, ValueError):
    """A write to an existing feature without ``If-Match``: read the feature, send its
    ``ETag`` back, so a concurrent change is never overwritten blindly."""

    code = "precondition_required"


class TooManyVerticesError(InvalidGeometryError):
    """A geometry with more vertices than the setting ``max_vertices`` allows."""

    code = "too_many_vertices"


class EditRefusedError(InvalidRequestError):
    """A feature edit that would break the layer's rules (a grid outside its parent,
    overlapping a sibling, with a code that does not extend its parent's...);
    ``details["problems"]`` says what, where and how large."""

    code = "edit_refused"
