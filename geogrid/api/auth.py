"""Who is calling, and may they: the API's authentication and permission dependencies.

A request carries an API key as ``Authorization: Bearer gg_<key_id>_<secret>`` (why keys:
:mod:`geogrid.apikeys`). :func:`current_caller` turns it into a
:class:`~geogrid.access.Caller` from the workspace's cached credential table, with no
database round trip. :func:`require` guards a route with a permission
(:data:`geogrid.access.PERMISSIONS`)::

    @router.get("/things")
    async def things(caller: Caller = require("layers:read")) -> ...: ...

    @router.post("/things", dependencies=[require("layers:write")])

No credential where one is needed, or an invalid one, is 401 with
``WWW-Authenticate: Bearer``; a valid credential without the permission is 403. Without
a credential a request is :data:`~geogrid.access.ANONYMOUS`, which may read ``/health``
and the public layers while the setting ``open_reads`` is on, and nothing otherwise.

The dependencies are ``async`` like those of :mod:`geogrid.api.deps`: a plain ``def``
would cost a worker-thread hop on every request.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.dependencies.models import Dependant
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from geogrid.access import ANONYMOUS, PERMISSION_NAMES, Caller
from geogrid.api.deps import SettingsDep, WorkspaceDep
from geogrid.errors import AuthenticationError, PermissionDeniedError
from geogrid.settings import Settings
from geogrid.workspace import Workspace
from geogrid.workspace.credentials import authenticate

__all__ = [
    "SCHEME",
    "CallerDep",
    "caller_of",
    "current_caller",
    "permissions_of",
    "require",
]

SCHEME = "apiKey"
"""The name of the API key's security scheme in the OpenAPI document."""

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name=SCHEME,
    bearerFormat="gg_<key_id>_<secret>",
    description="An API key from `geogrid users add NAME --role ROLE`.",
)


async def current_caller(
    request: Request,
    workspace: WorkspaceDep,
    settings: SettingsDep,
    _scheme: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> Caller:
    """Return who is calling: the credential's caller, or ANONYMOUS when there is none.

    Raises :class:`AuthenticationError` for a header that is not a valid bearer key, and
    for a request without one while ``open_reads`` is off.
    """
    return caller_of(workspace, settings, request.headers.get("authorization"))


def caller_of(workspace: Workspace, settings: Settings, header: str | None) -> Caller:
    """Return the caller an ``Authorization`` header value stands for (None: no header)."""
    if header is None:
        if not settings.open_reads:
            raise AuthenticationError("this service needs an API key: Authorization: Bearer <key>")
        return ANONYMOUS
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise AuthenticationError("send the API key as Authorization: Bearer <key>")
    return authenticate(workspace, key.strip())


CallerDep = Annotated[Caller, Depends(current_caller)]


def require(*permissions: str) -> Any:
    """Return a dependency that yields the caller when they hold every permission.

    Use it as a parameter default (``caller: Caller = require("coverage")``) or in a
    route's ``dependencies=[...]``.
    """
    unknown = set(permissions) - PERMISSION_NAMES
    if not permissions or unknown:
        raise ValueError(f"require() needs known permissions, not {sorted(unknown)}")

    async def check(caller: CallerDep) -> Caller:
        missing = [p for p in permissions if not caller.can(p)]
        if missing:
            if caller.is_anonymous:
                raise AuthenticationError(
                    "this needs an API key: Authorization: Bearer <key>",
                    details={"needs": missing},
                )
            raise PermissionDeniedError(
                f"a {caller.role} key may not do this (needs {', '.join(missing)})",
                details={"needs": missing, "role": str(caller.role)},
            )
        return caller

    check.__name__ = f"require_{'_'.join(p.replace(':', '_') for p in permissions)}"
    check.permissions = frozenset(permissions)  # type: ignore[attr-defined]
    return Depends(check)


def permissions_of(dependant: Dependant) -> frozenset[str] | None:
    """Return the permissions a route's dependencies :func:`require`; None when the route
    never asks who is calling (no credential is read: the landing page, conformance)."""
    asks = False
    needs: set[str] = set()
    stack = [dependant]
    while stack:
        node = stack.pop()
        asks = asks or node.call is current_caller
        needs.update(getattr(node.call, "permissions", ()))
        stack.extend(node.dependencies)
    return frozenset(needs) if asks else None
