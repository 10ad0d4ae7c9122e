"""Grid topology reports on the workspace's cached grids (``/grids/validate``, ``geogrid
grids check``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from geogrid.errors import UnknownGridError
from geogrid.spatial.gridcheck import (
    DEFAULT_SLIVER_M2,
    DEFAULT_SLIVER_WIDTH_M,
    DEFAULT_TOLERANCE_M2,
    GridReport,
    check_grids,
)

if TYPE_CHECKING:
    from geogrid.workspace import Workspace

__all__ = ["grid_report"]


def grid_report(
    workspace: Workspace,
    parent: str | None = None,
    *,
    tolerance_m2: float = DEFAULT_TOLERANCE_M2,
    sliver_m2: float = DEFAULT_SLIVER_M2,
    sliver_width_m: float = DEFAULT_SLIVER_WIDTH_M,
) -> GridReport:
    """Return the topology report of every grid, or of one parent and its children.

    Uses the workspace's grids snapshot (cached until the grids change); see
    :func:`geogrid.spatial.gridcheck.check_grids` for the rules and thresholds.

    Raises
    ------
    UnknownGridError
        ``parent`` is not the code of a grid.
    """
    grids = workspace.grids()
    if parent is not None and not (grids["code"] == parent).any():
        raise UnknownGridError(f"there is no grid with code {parent!r}", details={"grid": parent})
    return check_grids(
        grids,
        parent,
        tolerance_m2=tolerance_m2,
        sliver_m2=sliver_m2,
        sliver_width_m=sliver_width_m,
    )
