"""Grid topology: do children tile their parents, and may a grid edit be stored?

:func:`check_grids` reports the problems of a grid set (or of one parent and its
children); :func:`check_grid_edit` says what is wrong with one new or replaced grid
before it is written. Both take grids as a GeoDataFrame in EPSG:4326 (columns ``code``,
``level``, ``parent_code`` and a (Multi)Polygon geometry) and return
:class:`~geogrid.spatial.gridproblems.GridProblem` objects whose locations are in
EPSG:4326.

The rules
---------
Territorial grids nest county › town › village › micro: every parent that has children
of the next level should be tiled by them, exactly. Industry grids overlay the tiling
and are checked only as single grids (geometry, code, parent). A parent without
children of the next level is not subdivided, which is not a gap. Areas and widths are
measured in square metres and metres in a Transverse Mercator projection centred on the
data (areas agree with PostGIS ``ST_Area(geom::geography)`` to about 1e-5 across a
county). Topology itself (unions, differences, coverage validation) runs on the stored
lon/lat coordinates, as in PostGIS.

- **gap**: a connected part of the parent that no child covers
  (``parent - union(children)``).
- **overlap**: the area two siblings share (their intersection), one problem per pair.
- **outside**: the part of a child beyond its parent (``child - parent``).
- **sliver**: a gap, overlap or outside part, or a polygon of a multi-part grid other
  than its largest, that is tiny (area below ``sliver_m2``, default 100 m²) or thin
  (mean width ``2 * area / perimeter`` below ``sliver_width_m``, default 1 m). Slivers
  are usually digitising artefacts; ``detail`` says what the sliver is of.
- **tolerance**: gaps, overlaps and outside parts smaller than ``tolerance_m2``
  (default 1 m²) are rounding noise and not reported.
- **coverage_edge**: sibling borders that shapely's coverage validation
  (``shapely.coverage_invalid_edges``, with gaps narrower than ``sliver_width_m``
  counted) finds do not match vertex for vertex, where no reported gap, overlap or
  sliver explains them: a shared border digitised twice, a vertex moved a hair.
- **invalid** geometries are named with ``shapely.is_valid_reason`` and checked further
  as ``make_valid`` repairs them; **not_polygon** ones (missing, empty, lines, no area
  after repair) are left out of the other checks.
- **unknown_parent**, **level_mismatch**, **code_mismatch**, **duplicate_code**: a
  territorial grid below county level needs a parent in the set one level up, its code
  is the parent's code, ``-`` and one more part (``330326-101-003`` is a child of
  ``330326-101``), and codes are unique.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely

from geogrid.errors import UnknownGridError
from geogrid.spatial import _gridrules as rules
from geogrid.spatial._gridtiling import (
    Found,
    Metric,
    areas_found,
    check_family,
    check_thresholds,
    polygonal,
    sliver_parts,
    to_problem,
)
from geogrid.spatial.gridlocations import TERRITORIAL_LEVELS
from geogrid.spatial.gridproblems import GridProblem, GridReport, ProblemKind
from geogrid.spatial.gridtolerances import (
    DEFAULT_SLIVER_M2,
    DEFAULT_SLIVER_WIDTH_M,
    DEFAULT_TOLERANCE_M2,
)

__all__ = [
    "DEFAULT_SLIVER_M2",
    "DEFAULT_SLIVER_WIDTH_M",
    "DEFAULT_TOLERANCE_M2",
    "GridCandidate",
    "GridProblem",
    "GridReport",
    "ProblemKind",
    "check_grid_edit",
    "check_grids",
    "opened_gaps",
    "repair_grid_geometry",
]

ObjectArray = npt.NDArray[np.object_]
repair_grid_geometry = rules.repair_grid_geometry
_KIND_ORDER = {kind: k for k, kind in enumerate(ProblemKind)}


@dataclass(frozen=True)
class GridCandidate:
    """A grid about to be created or replaced (see :func:`check_grid_edit`).

    Attributes
    ----------
    code, level, parent_code
        As they would be stored.
    geometry
        (Multi)Polygon in EPSG:4326.
    replaces
        ``False`` for a new grid; ``True`` when it replaces the stored grid with the same
        code; a code when it replaces (renames) the stored grid with that code. The
        replaced grid is neither a duplicate nor a sibling, and its children must fit in
        the candidate.
    """

    code: str
    level: str
    parent_code: str | None
    geometry: shapely.Geometry
    replaces: bool | str = False

    @property
    def replaced_code(self) -> str | None:
        """The code of the stored grid this candidate replaces, or None."""
        if isinstance(self.replaces, str):
            return self.replaces
        return self.code if self.replaces else None


def check_grids(
    grids: gpd.GeoDataFrame,
    parent: str | None = None,
    *,
    tolerance_m2: float = DEFAULT_TOLERANCE_M2,
    sliver_m2: float = DEFAULT_SLIVER_M2,
    sliver_width_m: float = DEFAULT_SLIVER_WIDTH_M,
) -> GridReport:
    """Report gaps, overlaps, children outside parents, slivers and invalid grids.

    Parameters
    ----------
    grids
        Grids in EPSG:4326 with ``code``, ``level``, ``parent_code`` and geometry.
    parent
        Check only this grid and its children of the next level; None checks every
        parent and every grid.
    tolerance_m2, sliver_m2, sliver_width_m
        Thresholds in m² and m (see the module's rules).

    Returns
    -------
    GridReport

    Raises
    ------
    UnknownGridError
        ``parent`` is not a code of ``grids``.
    UnknownCRSError
        ``grids`` are not in EPSG:4326.
    ValueError
        A threshold is negative or not finite.

    Examples
    --------
    Two towns leave a 0.001° × 0.001° hole (about 10,900 m²) in their county:

    >>> from shapely import box
    >>> grids = gpd.GeoDataFrame(
    ...     {"code": ["C", "C-1", "C-2"], "level": ["county", "town", "town"],
    ...      "parent_code": [None, "C", "C"]},
    ...     geometry=[box(120, 28, 120.01, 28.01), box(120, 28, 120.005, 28.01),
    ...               box(120.005, 28, 120.01, 28.01).difference(
    ...                   box(120.007, 28.004, 120.008, 28.005))],
    ...     crs="EPSG:4326")
    >>> report = check_grids(grids)
    >>> [(p.kind.value, p.codes, round(p.area_m2, -2)) for p in report.problems]
    [('gap', ('C', 'C-2'), 10900.0)]
    """
    check_thresholds(tolerance_m2=tolerance_m2, sliver_m2=sliver_m2, sliver_width_m=sliver_width_m)
    codes, levels, parents, geoms = rules.grid_arrays(grids)
    row_of = {c: i for i, c in reversed(list(enumerate(codes)))}
    if parent is not None and parent not in row_of:
        raise UnknownGridError(f"there is no grid with code {parent!r}", details={"grid": parent})
    families = _families(levels, parents, row_of, parent)
    scope = np.arange(len(codes))
    if parent is not None:
        scope = np.array([row_of[parent], *families[row_of[parent]]], dtype=np.int64)
    problems: list[GridProblem] = []
    usable = np.full(len(codes), None, dtype=object)
    for i in scope:
        usable[i], found = rules.checked_geometry(codes[i], geoms[i], parent_code=parents[i])
        problems += found
    points = _points(usable, scope)
    problems += rules.duplicate_codes(codes[scope], points[scope])
    for i in scope if parent is None else scope[1:]:
        p = row_of.get(parents[i]) if parents[i] is not None else None
        problems += rules.lineage_problems(
            codes[i],
            levels[i],
            parents[i],
            levels[p] if p is not None else None,
            points[i],
            parent_known=p is not None,
        )
    ok = np.asarray([g is not None for g in usable])
    checked = [(p, [c for c in kids if ok[c]]) for p, kids in families.items() if ok[p]]
    checked = [(p, kids) for p, kids in checked if kids]
    if ok.any():
        metric = Metric.around(usable[ok], tolerance_m2, sliver_m2, sliver_width_m)
        found_all: list[Found] = []
        for p, kids in checked:
            found_all += check_family(codes[p], usable[p], codes[kids], usable[kids], metric)
        rows = np.flatnonzero(ok)
        found_all += sliver_parts(codes[rows], usable[rows], metric)
        problems += [to_problem(f) for f in found_all]
    problems.sort(key=_sort_key)
    return GridReport(
        problems=tuple(problems),
        parent_code=parent,
        grids_checked=len(scope),
        parents_checked=len(checked),
        tolerance_m2=tolerance_m2,
        sliver_m2=sliver_m2,
        sliver_width_m=sliver_width_m,
    )


def check_grid_edit(
    candidate: GridCandidate,
    grids: gpd.GeoDataFrame,
    *,
    tolerance_m2: float = DEFAULT_TOLERANCE_M2,
) -> list[GridProblem]:
    """Return what stops ``candidate`` from joining ``grids``: empty when it may.

    Checked: the geometry is a valid polygon (an invalid one is reported with what
    ``make_valid`` makes of it, and checked further as repaired); the code is unique
    (unless the candidate replaces that grid) and extends its parent's code; the level
    is one below the parent's; the grid lies inside its parent and overlaps no sibling
    (same parent, same territorial level) by more than ``tolerance_m2`` each; a
    replaced grid still holds its children. Siblings are found with an STRtree, so the
    geometric work grows with the number of neighbours, not of grids. Gaps an edit opens
    in its parent's tiling are found by :func:`opened_gaps`, once the edit's grids are all
    written.

    Parameters
    ----------
    candidate
        The grid as it would be stored (geometry in EPSG:4326).
    grids
        The stored grids (EPSG:4326), including any grid the candidate replaces.
    tolerance_m2
        Overlap and outside areas up to this size (m²) are accepted as rounding.

    Returns
    -------
    list of GridProblem
        Kinds ``not_polygon``, ``invalid``, ``duplicate_code``, ``unknown_parent``,
        ``level_mismatch``, ``code_mismatch``, ``outside`` (codes: the grid outside,
        then the grid it should be in) and ``overlap`` (codes: the candidate, then the
        neighbour; one per neighbour, the largest first). Only ``invalid`` is resolved
        by storing the repaired geometry (:func:`repair_grid_geometry`).

    Examples
    --------
    >>> from shapely import box
    >>> grids = gpd.GeoDataFrame(
    ...     {"code": ["C", "C-1"], "level": ["county", "town"], "parent_code": [None, "C"]},
    ...     geometry=[box(120, 28, 120.01, 28.01), box(120, 28, 120.005, 28.01)],
    ...     crs="EPSG:4326")
    >>> new = GridCandidate("C-2", "town", "C", box(120.004, 28, 120.01, 28.01))
    >>> [(p.kind.value, p.codes, round(p.area_m2, -2)) for p in check_grid_edit(new, grids)]
    [('overlap', ('C-2', 'C-1'), 109000.0)]
    """
    check_thresholds(tolerance_m2=tolerance_m2)
    codes, levels, parents, geoms = rules.grid_arrays(grids)
    replaced = candidate.replaced_code
    live = codes != replaced if replaced is not None else np.ones(len(codes), dtype=bool)
    geom, problems = rules.checked_geometry(
        candidate.code, candidate.geometry, parent_code=candidate.parent_code
    )
    where = shapely.point_on_surface(geom) if geom is not None else problems[0].geometry
    if candidate.code in set(codes[live]):
        problems.append(
            GridProblem(
                ProblemKind.DUPLICATE_CODE,
                (candidate.code,),
                f"{candidate.code}: a grid with this code exists already",
                where,
                parent_code=candidate.parent_code,
            )
        )
    at = np.flatnonzero(live & (codes == candidate.parent_code))
    p = int(at[0]) if candidate.parent_code and len(at) else None
    problems += rules.lineage_problems(
        candidate.code,
        candidate.level,
        candidate.parent_code,
        levels[p] if p is not None else None,
        where,
        parent_known=p is not None,
    )
    if geom is None:
        return problems
    metric = Metric.around([geom], tolerance_m2, tolerance_m2, 0.0)
    if p is not None and (parent_geom := rules.repair_grid_geometry(geoms[p])) is not None:
        problems += _outside(candidate.code, geom, codes[p], parent_geom, metric)
    if candidate.level in TERRITORIAL_LEVELS:
        same = live & (levels == candidate.level)
        same &= np.asarray([q == candidate.parent_code for q in parents], dtype=bool)
        problems += _sibling_overlaps(candidate.code, geom, codes[same], geoms[same], metric)
    if replaced is not None:
        kids = (parents == replaced) & np.isin(levels, TERRITORIAL_LEVELS) & (codes != replaced)
        for k in np.flatnonzero(kids):
            if (kid := rules.repair_grid_geometry(geoms[k])) is not None:
                problems += _outside(codes[k], kid, candidate.code, geom, metric)
    return problems


def opened_gaps(
    family: gpd.GeoDataFrame,
    parent_code: str,
    vacated: shapely.Geometry,
    edited: tuple[str, ...],
    *,
    tolerance_m2: float = DEFAULT_TOLERANCE_M2,
) -> list[GridProblem]:
    """Return the gaps an edit opened in the tiling of grid ``parent_code``.

    ``family`` holds the parent and its children as they are after the edit (EPSG:4326);
    ``vacated`` is what the edited grids (codes ``edited``) covered before it. A gap is a
    connected part of ``vacated`` inside the parent that no child of the next level
    covers any more, larger than ``tolerance_m2`` (the tolerance of
    :func:`check_grids`). Gaps that were there before the edit are not its doing and
    are not returned. A parent that is not territorial, or has no children of the next
    level left, is not tiled and has no gaps.

    Examples
    --------
    >>> from shapely import box
    >>> family = gpd.GeoDataFrame(
    ...     {"code": ["C", "C-1", "C-2"], "level": ["county", "town", "town"],
    ...      "parent_code": [None, "C", "C"]},
    ...     geometry=[box(120, 28, 120.01, 28.01), box(120, 28, 120.004, 28.01),
    ...               box(120.005, 28, 120.01, 28.01)], crs="EPSG:4326")
    >>> [(p.kind.value, p.codes, round(p.area_m2, -2)) for p in
    ...  opened_gaps(family, "C", box(120, 28, 120.005, 28.01), ("C-1",))]
    [('gap', ('C', 'C-1'), 109000.0)]
    """
    check_thresholds(tolerance_m2=tolerance_m2)
    codes, levels, parents, geoms = rules.grid_arrays(family)
    rank = {level: k for k, level in enumerate(TERRITORIAL_LEVELS)}
    at = np.flatnonzero(codes == parent_code)
    if not len(at) or levels[at[0]] not in rank or vacated is None or vacated.is_empty:
        return []
    parent = rules.repair_grid_geometry(geoms[at[0]])
    below = [lvl for lvl, k in rank.items() if k == rank[levels[at[0]]] + 1]
    kids = [
        g
        for g in (
            rules.repair_grid_geometry(geoms[i])
            for i in np.flatnonzero((parents == parent_code) & np.isin(levels, below))
        )
        if g is not None
    ]
    if parent is None or not kids:
        return []
    opened = polygonal(
        shapely.difference(shapely.intersection(vacated, parent), shapely.union_all(kids))
    )
    parts = list(shapely.get_parts(opened))
    if not parts:
        return []
    metric = Metric.around([parent], tolerance_m2, tolerance_m2, 0.0)
    found = areas_found(
        ProblemKind.GAP,
        [(parent_code, *edited)] * len(parts),
        parts,
        parent_code,
        metric,
        slivers=False,
    )
    return [to_problem(f) for f in sorted(found, key=lambda f: -f.area_m2)]


def _families(
    levels: ObjectArray, parents: ObjectArray, row_of: dict[str, int], only: str | None
) -> dict[int, list[int]]:
    """Return, per territorial parent row, the rows of its children of the next level."""
    rank = {level: k for k, level in enumerate(TERRITORIAL_LEVELS)}
    out: dict[int, list[int]] = {}
    if only is not None:
        out[row_of[only]] = []
    for i, (level, parent) in enumerate(zip(levels, parents, strict=True)):
        if parent is None or level not in rank or (only is not None and parent != only):
            continue
        p = row_of.get(parent)
        if p is not None and p != i and rank.get(levels[p], -9) == rank[level] - 1:
            out.setdefault(p, []).append(i)
    return out


def _points(usable: ObjectArray, scope: npt.NDArray[np.int64]) -> ObjectArray:
    """Return a point inside each usable grid of ``scope`` (empty points elsewhere)."""
    points = np.full(len(usable), shapely.Point(), dtype=object)
    have = [i for i in scope if usable[i] is not None]
    if have:
        points[have] = shapely.point_on_surface(usable[have].tolist())
    return points


def _outside(
    code: str,
    geom: shapely.Geometry,
    container_code: str,
    container: shapely.Geometry,
    metric: Metric,
) -> list[GridProblem]:
    beyond = polygonal(shapely.difference(geom, container))
    found = areas_found(
        ProblemKind.OUTSIDE,
        [(code, container_code)],
        [beyond],
        container_code,
        metric,
        slivers=False,
    )
    return [to_problem(f) for f in found]


def _sibling_overlaps(
    code: str,
    geom: shapely.Geometry,
    sibling_codes: ObjectArray,
    siblings: ObjectArray,
    metric: Metric,
) -> list[GridProblem]:
    if len(siblings) == 0:
        return []
    hits = shapely.STRtree(siblings).query(geom, predicate="intersects")
    pairs, shared = [], []
    for k in hits:
        other = rules.repair_grid_geometry(siblings[k])
        if other is not None and shapely.relate_pattern(geom, other, "2********"):
            pairs.append((code, str(sibling_codes[k])))
            shared.append(polygonal(shapely.intersection(geom, other)))
    found = areas_found(ProblemKind.OVERLAP, pairs, shared, None, metric, slivers=False)
    return [to_problem(f) for f in sorted(found, key=lambda f: (-f.area_m2, f.codes))]


def _sort_key(problem: GridProblem) -> tuple[int, str, tuple[str, ...], float]:
    return (_KIND_ORDER[problem.kind], problem.parent_code or "", problem.codes, -problem.area_m2)
