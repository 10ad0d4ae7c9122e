"""API credentials from the workspace: issue, list and revoke keys, and authenticate one.

:func:`authenticate` runs on every API request, so it never asks the database: the active
credentials are cached in the workspace (:meth:`Workspace.credentials`) and reloaded when
the ``api_credentials`` data version changes, which :func:`issue_key` and
:func:`revoke_key` bump. A revoked key is refused within ``cache_check_interval_s``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from geogrid.access import Caller, Role
from geogrid.apikeys import hash_secret, new_api_key, parse_api_key
from geogrid.db.queries.credentials import (
    CredentialRow,
    insert_credential,
    read_credentials,
    revoke_credential,
)
from geogrid.errors import AuthenticationError, InvalidRequestError
from geogrid.workspace.credential_table import ActiveCredential, CredentialTable

if TYPE_CHECKING:
    from geogrid.workspace import Workspace

__all__ = [
    "ActiveCredential",
    "CredentialTable",
    "IssuedKey",
    "authenticate",
    "issue_key",
    "list_keys",
    "reissue_key",
    "revoke_key",
]

_NAME = re.compile(r"[^\x00-\x1f\x7f]{1,100}")


@dataclass(frozen=True)
class IssuedKey:
    """A new key (``key``: show it once, it is not stored) and its stored credential."""

    key: str
    credential: CredentialRow


def authenticate(workspace: Workspace, key: str) -> Caller:
    """Return the caller a key stands for.

    Raises :class:`AuthenticationError` for a malformed, unknown or revoked key or a wrong
    secret, with the same message for all (nothing to learn by probing).
    """
    caller = workspace.credentials().verify(key)
    if caller is None:
        raise AuthenticationError("the API key is not valid (unknown, revoked or mistyped)")
    return caller


def issue_key(
    workspace: Workspace, name: str, role: str, grid_code: str | None = None
) -> IssuedKey:
    """Create a credential and return its key (the only time the key is known).

    A grid worker's key needs the grid of their jurisdiction; other roles take none.
    """
    name = name.strip()
    if not _NAME.fullmatch(name):
        raise InvalidRequestError("a credential's name is 1 to 100 printable characters")
    try:
        chosen = Role(role)
    except ValueError:
        roles = ", ".join(r.value for r in Role)
        raise InvalidRequestError(f"unknown role {role!r}; roles are {roles}") from None
    if chosen is Role.GRID_WORKER and not grid_code:
        raise InvalidRequestError("a grid_worker key needs the grid of their jurisdiction")
    if chosen is not Role.GRID_WORKER and grid_code:
        raise InvalidRequestError(
            f"only grid_worker keys are limited to a grid; a {chosen.value} key reads every grid"
        )
    key = new_api_key()
    with workspace.engine.begin() as conn:
        row = insert_credential(
            conn,
            key_id=key.key_id,
            name=name,
            role=chosen.value,
            grid_code=grid_code or None,
            secret_hash=hash_secret(key.secret),
        )
    workspace.recheck()  # this process sees the new key at once
    return IssuedKey(str(key), row)


def list_keys(workspace: Workspace, *, active_only: bool = False) -> list[CredentialRow]:
    """Return every credential, oldest first (hashes included: never show them)."""
    with workspace.engine.connect() as conn:
        return read_credentials(conn, active_only=active_only)


def revoke_key(workspace: Workspace, key_id_or_name: str) -> CredentialRow:
    """Revoke a credential given by key id, by the name of an active one, or by its key."""
    parsed = parse_api_key(key_id_or_name)
    with workspace.engine.begin() as conn:
        row = revoke_credential(conn, parsed.key_id if parsed else key_id_or_name.strip())
    workspace.recheck()  # this process refuses the key at once
    return row


def reissue_key(workspace: Workspace, name: str, role: str) -> IssuedKey:
    """Revoke every active key named ``name`` and issue a new one: one key per name.

    ``geogrid demo`` uses it so that each run prints a working key and leaves no old
    ones behind.
    """
    for row in list_keys(workspace, active_only=True):
        if row.name == name.strip():
            revoke_key(workspace, row.key_id)
    return issue_key(workspace, name, role)
