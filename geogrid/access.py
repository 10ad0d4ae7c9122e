"""Who may do what: roles, their permissions, and the caller of a request.

Pure: no database, no HTTP. The API turns a credential into a :class:`Caller`
(``geogrid.api.auth``); routes ask ``caller.can(permission)``, and every read that a grid
worker may make is filtered in SQL by ``caller.subtree`` (a grid code: that grid and every
grid whose code starts with it followed by ``-``).

The roles:

==============  ===========================================================  ==============
role            permissions                                                  personal data
==============  ===========================================================  ==============
``admin``       everything (events:configure: the services and deadlines)    yes
``planner``     health, layers:read/write, locate, coverage, transport:read,  no
                maps, grids:validate, events:report (aggregates only)
``dispatcher``  health, layers:read, locate, transport:read/plan,             yes
                people:read, maps, events:create/read/act/dispatch/report
``grid_worker`` health, layers:read, locate, coverage, people:read, maps,     inside the
                events:create/read/act/report — every read and every act     subtree only
                limited to the worker's grid subtree
``app``         health, layers:read, locate, events:create, events:read      no
                (the events the app's own key created)
anonymous       health, layers:read — only while ``open_reads`` is on         no
==============  ===========================================================  ==============

Examples
--------
>>> worker = Caller("王芳", Role.GRID_WORKER, "330326-101-032")
>>> worker.can("people:read"), worker.can("transport:plan")
(True, False)
>>> worker.covers_grid("330326-101-032-01"), worker.covers_grid("330326-101-0321")
(True, False)
>>> ANONYMOUS.can("layers:read"), ANONYMOUS.sees_personal_data
(True, False)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "ANONYMOUS",
    "OPEN_PERMISSIONS",
    "PERMISSIONS",
    "PERMISSION_NAMES",
    "Caller",
    "Role",
    "covers_grid",
]


class Role(StrEnum):
    """What a credential is for."""

    ADMIN = "admin"
    PLANNER = "planner"
    DISPATCHER = "dispatcher"
    GRID_WORKER = "grid_worker"
    APP = "app"


PERMISSION_NAMES: frozenset[str] = frozenset(
    {
        "health",
        "layers:read",
        "layers:write",
        "locate",
        "coverage",
        "transport:read",
        "transport:plan",
        "people:read",
        "maps",
        "audit:read",
        "grids:validate",
        "events:create",
        "events:read",
        "events:act",
        "events:dispatch",
        "events:report",
        "events:configure",
    }
)
"""Every permission a route may require."""

PERMISSIONS: Mapping[Role, frozenset[str]] = {
    Role.ADMIN: PERMISSION_NAMES,
    Role.PLANNER: frozenset(
        {
            "health",
            "layers:read",
            "layers:write",
            "locate",
            "coverage",
            "transport:read",
            "maps",
            "grids:validate",
            "events:report",
        }
    ),
    Role.DISPATCHER: frozenset(
        {
            "health",
            "layers:read",
            "locate",
            "transport:read",
            "transport:plan",
            "people:read",
            "maps",
            "events:create",
            "events:read",
            "events:act",
            "events:dispatch",
            "events:report",
        }
    ),
    Role.GRID_WORKER: frozenset(
        {
            "health",
            "layers:read",
            "locate",
            "coverage",
            "people:read",
            "maps",
            "events:create",
            "events:read",
            "events:act",
            "events:report",
        }
    ),
    Role.APP: frozenset({"health", "layers:read", "locate", "events:create", "events:read"}),
}
"""The permissions of each role."""

OPEN_PERMISSIONS: frozenset[str] = frozenset({"health", "layers:read"})
"""What a request without a credential may do while the setting ``open_reads`` is on."""

PERSONAL_DATA_ROLES: frozenset[Role] = frozenset({Role.ADMIN, Role.DISPATCHER, Role.GRID_WORKER})


def covers_grid(root: str, code: str) -> bool:
    """Return True when grid ``code`` lies in the subtree of grid ``root``.

    The subtree is the grid itself and every grid whose code continues it after a ``-``
    (grid codes are hierarchical: ``330326-101-032-01`` is in ``330326-101-032``).

    Examples
    --------
    >>> covers_grid("330326-101", "330326-101-032"), covers_grid("330326-101", "330326-1011")
    (True, False)
    """
    return code == root or code.startswith(root + "-")


@dataclass(frozen=True)
class Caller:
    """Who is asking: a credential's name and role, or :data:`ANONYMOUS`.

    Parameters
    ----------
    name
        Who, for the audit log (the credential's name; ``"anonymous"`` without one).
    role
        The credential's role; None for anonymous requests.
    grid_code
        A grid worker's jurisdiction: the root of the grid subtree they may read.
    """

    name: str
    role: Role | None
    grid_code: str | None = None

    def __post_init__(self) -> None:
        if self.role is Role.GRID_WORKER and not self.grid_code:
            raise ValueError("a grid worker's caller needs the grid code of their jurisdiction")

    @property
    def permissions(self) -> frozenset[str]:
        """Return everything this caller may do."""
        return PERMISSIONS[self.role] if self.role is not None else OPEN_PERMISSIONS

    def can(self, permission: str) -> bool:
        """Return True when the caller holds ``permission`` (an unknown name is an error)."""
        if permission not in PERMISSION_NAMES:
            raise ValueError(f"unknown permission {permission!r}")
        return permission in self.permissions

    @property
    def is_anonymous(self) -> bool:
        """True for a request that carried no credential."""
        return self.role is None

    @property
    def sees_personal_data(self) -> bool:
        """True when personal data may be shown unmasked (for a grid worker: inside
        :attr:`subtree` only)."""
        return self.role in PERSONAL_DATA_ROLES

    @property
    def subtree(self) -> str | None:
        """The grid code every read of this caller is limited to; None for no limit."""
        return self.grid_code if self.role is Role.GRID_WORKER else None

    def covers_grid(self, code: str) -> bool:
        """Return True when grid ``code`` is within this caller's jurisdiction."""
        return self.subtree is None or covers_grid(self.subtree, code)


ANONYMOUS = Caller("anonymous", None)
"""The caller of a request without a credential (allowed only while reads are open)."""
