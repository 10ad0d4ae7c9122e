"""The active API credentials in memory, as the workspace caches them.

Apart from :mod:`geogrid.workspace.credentials` (which issues and revokes keys through a
workspace) so that the workspace can hold the table without importing the module that
takes a workspace: no import cycle.
"""

from __future__ import annotations

from dataclasses import dataclass

from geogrid.access import Caller, Role
from geogrid.apikeys import parse_api_key, secret_matches
from geogrid.db.queries.credentials import CredentialRow

__all__ = ["ActiveCredential", "CredentialTable"]


@dataclass(frozen=True)
class ActiveCredential:
    """What the API needs to check a key: the secret's hash and the caller it stands for."""

    secret_hash: str
    caller: Caller


class CredentialTable:
    """The active credentials by key id, remembering the keys it has already verified.

    The workspace replaces the whole table when a credential is added or revoked, so a
    remembered key never outlives its revocation; only valid keys are remembered, at most
    :attr:`MEMO_LIMIT` of them.
    """

    MEMO_LIMIT = 10_000

    def __init__(self, rows: list[CredentialRow]) -> None:
        self.by_key_id: dict[str, ActiveCredential] = {
            row.key_id: ActiveCredential(
                row.secret_hash, Caller(row.name, Role(row.role), row.grid_code)
            )
            for row in rows
            if row.active
        }
        self._verified: dict[str, Caller] = {}

    def __len__(self) -> int:
        return len(self.by_key_id)

    def verify(self, key: str) -> Caller | None:
        """Return the caller of a valid key, or None (malformed, unknown, wrong secret)."""
        caller = self._verified.get(key)
        if caller is not None:
            return caller
        parsed = parse_api_key(key)
        found = self.by_key_id.get(parsed.key_id) if parsed is not None else None
        if parsed is None or found is None or not secret_matches(parsed.secret, found.secret_hash):
            return None
        if len(self._verified) < self.MEMO_LIMIT:
            self._verified[key] = found.caller
        return found.caller
