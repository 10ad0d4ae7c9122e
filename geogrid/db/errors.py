"""The one translation from database failures to geogrid's domain errors.

A statement cancelled by ``statement_timeout`` (SQLSTATE 57014) becomes
:class:`~geogrid.errors.QueryTimeoutError`; a refused, lost or exhausted connection (the
server is down, restarting or shutting down, the pool is full) becomes
:class:`~geogrid.errors.DatabaseUnavailableError`; a value the database cannot take (text
holding a NUL character, a number out of range: SQLSTATE class 22) becomes
:class:`~geogrid.errors.InvalidRequestError`. Every engine geogrid creates applies
:func:`database_error` to its own failures (:func:`translate_engine_errors`), so callers
see domain errors wherever they use the database; the API applies the same function to
anything that escapes another way (a raw driver connection). Other database errors
(integrity, syntax) are left as they are: callers handle them or they are bugs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pandas as pd
import psycopg
from psycopg import errors as pg_errors
from sqlalchemy import Engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import ExceptionContext

from geogrid.errors import (
    DatabaseUnavailableError,
    GeoGridError,
    InvalidRequestError,
    QueryTimeoutError,
)

__all__ = [
    "DRIVER_ERRORS",
    "database_error",
    "database_errors",
    "translate_engine_errors",
]

#: Exception classes that may carry a database failure past the engine (pandas wraps the
#: errors of ``read_sql`` in its own class).
DRIVER_ERRORS: tuple[type[Exception], ...] = (
    sa_exc.SQLAlchemyError,
    psycopg.Error,
    pd.errors.DatabaseError,
)

UNAVAILABLE = "the database is not reachable right now; try again shortly"
BUSY = "the database is busy; try again shortly"
# SQLSTATE classes of a server that is gone, going or out of resources: connection (08),
# operator intervention (57: shutdown, restart), insufficient resources (53), system (58).
# A driver error without a SQLSTATE is a connection the client could not make or keep.
UNAVAILABLE_STATES = ("08", "53", "57", "58")
BUSY_STATES = ("40", "55P03")  # transaction rollback (deadlock, serialization), lock_timeout


def database_error(exc: BaseException, *, timeout_ms: int | None = None) -> GeoGridError | None:
    """Return the domain error for a database failure, or None when it is not one.

    Parameters
    ----------
    exc
        A driver (psycopg) error, or SQLAlchemy's wrapper of one.
    timeout_ms
        The ``statement_timeout`` in force, quoted in a timeout's details.

    Examples
    --------
    >>> database_error(psycopg.errors.QueryCanceled("canceling statement")).code
    'query_timeout'
    >>> database_error(psycopg.OperationalError("connection refused")).code
    'database_unavailable'
    >>> database_error(psycopg.errors.AdminShutdown("terminating connection")).code
    'database_unavailable'
    >>> database_error(psycopg.errors.ProgramLimitExceeded("index row too big")) is None
    True
    >>> database_error(ValueError("not a database error")) is None
    True
    >>> database_error(psycopg.DataError("text fields cannot contain NUL (0x00) bytes")).code
    'invalid_request'
    """
    if isinstance(exc, GeoGridError):
        return exc
    if isinstance(exc, pd.errors.DatabaseError) and exc.__cause__ is not None:
        return database_error(exc.__cause__, timeout_ms=timeout_ms)
    if isinstance(exc, sa_exc.TimeoutError):  # the pool had no connection to give
        return DatabaseUnavailableError(BUSY, details={"reason": "no free connection"})
    original = exc.orig if isinstance(exc, sa_exc.DBAPIError) else exc
    if isinstance(original, pg_errors.QueryCanceled):
        details = {"timeout_ms": timeout_ms} if timeout_ms else {}
        limit = f" ({timeout_ms:,} ms)" if timeout_ms else ""
        return QueryTimeoutError(
            f"the database did not answer within the time limit{limit}; "
            "narrow the request or try again later",
            details=details,
        )
    state = getattr(original, "sqlstate", None) or ""
    if isinstance(original, psycopg.DataError):  # the driver or the server refused a value
        if "NUL" in str(original):
            message = "text cannot contain the NUL character (0x00)"
        else:
            message = f"a value cannot be used: {str(original).splitlines()[0]}"
        return InvalidRequestError(message, details={"sqlstate": state} if state else None)
    if state.startswith(BUSY_STATES):  # worth a retry: deadlock, serialization, lock wait
        return DatabaseUnavailableError(BUSY, details={"reason": "contention"})
    connection_lost = isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated
    refused = isinstance(original, psycopg.InterfaceError) or (
        isinstance(original, psycopg.OperationalError)
        and (not state or state.startswith(UNAVAILABLE_STATES))
    )
    if connection_lost or refused:
        return DatabaseUnavailableError(UNAVAILABLE)
    return None


@contextmanager
def database_errors(*, timeout_ms: int | None = None) -> Iterator[None]:
    """Raise the domain error of a database failure that escapes the block."""
    try:
        yield
    except DRIVER_ERRORS as exc:
        translated = database_error(exc, timeout_ms=timeout_ms)
        if translated is None:
            raise
        raise translated from exc


def translate_engine_errors(engine: Engine, *, timeout_ms: int | None = None) -> Engine:
    """Make ``engine`` raise domain errors for its database failures; return it.

    Pre-ping failures are left alone: the pool reconnects after them by itself, which is
    how a database that went away and came back is picked up again.
    """

    @event.listens_for(engine, "handle_error")
    def _translate(context: ExceptionContext) -> BaseException | None:
        if context.is_pre_ping:
            return None
        return database_error(context.original_exception, timeout_ms=timeout_ms)

    return engine
