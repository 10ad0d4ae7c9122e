"""Does a parent's children tile it? Private helper of :mod:`geogrid.spatial.gridcheck`.

Topology (unions, differences, intersections, coverage validation) runs on the stored
lon/lat coordinates, as PostGIS would: a child vertex lying on its parent's straight
edge in EPSG:4326 is on it, which would stop being exactly true after projection.
Every result is then measured in metres in a local projection (:class:`Metric`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely

from geogrid.spatial._projection import LocalProjection, metres_per_degree
from geogrid.spatial.gridproblems import GridProblem, ProblemKind

__all__ = [
    "Found",
    "Metric",
    "areas_found",
    "check_family",
    "check_thresholds",
    "polygonal",
    "sliver_parts",
    "to_problem",
]

ObjectArray = npt.NDArray[np.object_]
FloatArray = npt.NDArray[np.float64]
EDGE_SNAP_M = 0.01
"""Border lines this close (m) to a reported gap, overlap or sliver are explained by it."""
MIN_EDGE_M = 0.05
"""Unexplained mismatching border shorter than this (m) is rounding, not a problem."""
_POLYGON_TYPES = (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON)
_SLIVER_OF = ("gap", "overlap", "outside")


def check_thresholds(**thresholds: float) -> None:
    """Refuse a threshold that is not a finite number >= 0 (``ValueError``)."""
    for name, value in thresholds.items():
        if not (isinstance(value, int | float) and np.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


@dataclass(frozen=True)
class Metric:
    """Measure lon/lat geometries in metres, and the sizes that matter.

    Attributes
    ----------
    proj
        Transverse Mercator centred on the data (see :class:`LocalProjection`).
    tolerance_m2
        Areas below this are rounding noise.
    sliver_m2, sliver_width_m
        Areas below ``sliver_m2`` or thinner than ``sliver_width_m`` are slivers.
    """

    proj: LocalProjection
    tolerance_m2: float
    sliver_m2: float
    sliver_width_m: float

    def __post_init__(self) -> None:
        check_thresholds(
            tolerance_m2=self.tolerance_m2,
            sliver_m2=self.sliver_m2,
            sliver_width_m=self.sliver_width_m,
        )

    @classmethod
    def around(cls, geoms: npt.ArrayLike, *thresholds: float) -> Metric:
        """Return a metric centred on the extent of ``geoms`` (EPSG:4326)."""
        xmin, ymin, xmax, ymax = shapely.total_bounds(np.asarray(geoms, dtype=object))
        return cls(LocalProjection.around([xmin, xmax], [ymin, ymax]), *thresholds)

    def degrees(self, metres: float) -> float:
        """Return an angle at least ``metres`` long in any direction near the centre."""
        return metres / min(metres_per_degree(self.proj.lat0))

    def measure(self, geoms: npt.ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Return area (m²), mean width ``2 * area / perimeter`` (m) and length (m)."""
        xy = self.proj.geometries_to_xy(np.asarray(geoms, dtype=object).reshape(-1))
        area, length = shapely.area(xy), shapely.length(xy)
        with np.errstate(divide="ignore", invalid="ignore"):
            width = np.where(length > 0, 2 * area / length, 0.0)
        return area, width, length

    def is_sliver(self, area_m2: float, width_m: float) -> bool:
        """Return True when an area is tiny or thin."""
        return bool(area_m2 < self.sliver_m2 or width_m < self.sliver_width_m)


@dataclass(frozen=True)
class Found:
    """A problem found, in EPSG:4326, measured in metres."""

    kind: ProblemKind
    codes: tuple[str, ...]
    geometry: shapely.Geometry
    parent_code: str | None
    area_m2: float = 0.0
    width_m: float | None = None
    length_m: float = 0.0
    detail: str | None = None


def polygonal(geom: shapely.Geometry | None) -> shapely.Geometry:
    """Return the polygons of a geometry (or collection) as one (Multi)Polygon, maybe empty."""
    if geom is None or geom.is_empty:
        return shapely.MultiPolygon()
    if shapely.get_type_id(geom) in _POLYGON_TYPES:
        return geom
    polys = [
        q
        for p in shapely.get_parts(geom)
        if shapely.get_type_id(p) in _POLYGON_TYPES
        for q in shapely.get_parts(p)
        if not q.is_empty
    ]
    return shapely.MultiPolygon(polys) if polys else shapely.MultiPolygon()


def areas_found(
    kind: ProblemKind,
    codes: Sequence[tuple[str, ...]],
    geoms: Sequence[shapely.Geometry],
    parent_code: str | None,
    metric: Metric,
    *,
    slivers: bool = True,
) -> list[Found]:
    """Measure area problems; drop those below the tolerance, call slivers slivers."""
    if not geoms:
        return []
    area, width, _ = metric.measure(geoms)
    out = []
    for k, geom in enumerate(geoms):
        if not area[k] >= metric.tolerance_m2 or area[k] == 0:
            continue
        sliver = slivers and metric.is_sliver(area[k], width[k])
        out.append(
            Found(
                ProblemKind.SLIVER if sliver else kind,
                codes[k],
                geom,
                parent_code,
                area_m2=float(area[k]),
                width_m=float(width[k]),
                detail=str(kind) if sliver else None,
            )
        )
    return out


def check_family(
    parent_code: str,
    parent: shapely.Geometry,
    codes: ObjectArray,
    children: ObjectArray,
    metric: Metric,
) -> list[Found]:
    """Return the gaps, overlaps, outside parts and mismatching borders of one family.

    ``parent`` and ``children`` are valid polygonal geometries (EPSG:4326). A family
    whose children form a valid coverage (shapely's coverage validation, gaps narrower
    than ``sliver_width_m`` flagged) whose union is exactly the parent is clean: that
    costs one validation and one coverage union.
    """
    edges = _mismatched_edges(parent, children, metric)
    coverage_ok = bool(shapely.is_empty(edges).all())
    tree = shapely.STRtree(children)
    found: list[Found] = []
    if coverage_ok:
        union = shapely.coverage_union_all(children)
        if _same_shape(union, parent):
            return []
    else:
        union = shapely.union_all(children)
        found += _overlaps(parent_code, codes, children, tree, metric)
    found += _gaps(parent_code, parent, union, codes, tree, metric)
    found += _outside(parent_code, parent, codes, children, metric)
    if not coverage_ok:
        found += _edges(parent_code, codes, edges, tree, found, metric)
    return found


def _mismatched_edges(
    parent: shapely.Geometry, children: ObjectArray, metric: Metric
) -> ObjectArray:
    """Return, per child, its borders that shapely's coverage validation flags.

    Gaps narrower than ``sliver_width_m`` are flagged. Flagged borders on the parent's
    own boundary are dropped: a narrow inlet of the parent between two children is
    outside the parent, not a gap between them.
    """
    gap_width = metric.degrees(metric.sliver_width_m)
    edges = shapely.coverage_invalid_edges(children, gap_width=gap_width)
    flagged = np.flatnonzero(~shapely.is_empty(edges))
    if len(flagged):
        rim = shapely.buffer(shapely.boundary(parent), metric.degrees(EDGE_SNAP_M))
        edges[flagged] = shapely.difference(edges[flagged], rim)
        short = shapely.length(edges) < metric.degrees(MIN_EDGE_M)
        edges[short] = shapely.LineString()
    return edges


def _same_shape(a: shapely.Geometry, b: shapely.Geometry) -> bool:
    """True when two polygonal geometries have exactly the same rings (any order)."""
    return bool(shapely.equals_exact(_normal_multi(a), _normal_multi(b), tolerance=0.0))


def _normal_multi(geom: shapely.Geometry) -> shapely.Geometry:
    parts = shapely.get_parts(polygonal(geom))
    return shapely.normalize(shapely.MultiPolygon(list(parts)))


def _overlaps(
    parent_code: str,
    codes: ObjectArray,
    children: ObjectArray,
    tree: shapely.STRtree,
    metric: Metric,
) -> list[Found]:
    left, right = tree.query(children, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    inner = shapely.relate_pattern(children[left], children[right], "2********")
    left, right = left[inner], right[inner]
    shared = [polygonal(g) for g in shapely.intersection(children[left], children[right])]
    pairs = [
        tuple(sorted((str(codes[i]), str(codes[j])))) for i, j in zip(left, right, strict=True)
    ]
    return areas_found(ProblemKind.OVERLAP, pairs, shared, parent_code, metric)


def _gaps(
    parent_code: str,
    parent: shapely.Geometry,
    union: shapely.Geometry,
    codes: ObjectArray,
    tree: shapely.STRtree,
    metric: Metric,
) -> list[Found]:
    parts = list(shapely.get_parts(polygonal(shapely.difference(parent, union))))
    if not parts:
        return []
    part_at, child_at = tree.query(parts, predicate="dwithin", distance=metric.degrees(EDGE_SNAP_M))
    near = [
        (parent_code, *sorted(str(codes[c]) for c in child_at[part_at == k]))
        for k in range(len(parts))
    ]
    return areas_found(ProblemKind.GAP, near, parts, parent_code, metric)


def _outside(
    parent_code: str,
    parent: shapely.Geometry,
    codes: ObjectArray,
    children: ObjectArray,
    metric: Metric,
) -> list[Found]:
    shapely.prepare(parent)
    out_at = np.flatnonzero(~shapely.covered_by(children, parent))
    beyond = [polygonal(g) for g in shapely.difference(children[out_at], parent)]
    pairs = [(str(codes[i]), parent_code) for i in out_at]
    return areas_found(ProblemKind.OUTSIDE, pairs, beyond, parent_code, metric)


def _edges(
    parent_code: str,
    codes: ObjectArray,
    edges: ObjectArray,
    tree: shapely.STRtree,
    found: list[Found],
    metric: Metric,
) -> list[Found]:
    """Return the mismatching borders that no reported gap, overlap or sliver explains.

    A flagged segment touching a reported problem is explained by it: e.g. the segment
    of a neighbour's border on which an overlap left a vertex it does not have.
    """
    snap = metric.degrees(EDGE_SNAP_M)
    explained = [f.geometry for f in found]
    cover = shapely.buffer(shapely.union_all(explained), snap) if explained else None
    if cover is not None:
        shapely.prepare(cover)
    rows, rests = [], []
    for i in np.flatnonzero(~shapely.is_empty(edges)):
        pieces = _segments(edges[i])
        if cover is not None:
            pieces = pieces[~shapely.intersects(pieces, cover)]
        if len(pieces):
            rows.append(i)
            rests.append(shapely.line_merge(shapely.multilinestrings(pieces)))
    if not rests:
        return []
    _, _, lengths = metric.measure(rests)
    out = []
    for i, rest, length in zip(rows, rests, lengths, strict=True):
        if length < MIN_EDGE_M:
            continue
        near = tree.query(rest, predicate="dwithin", distance=snap)
        others = sorted(str(codes[j]) for j in near if j != i)
        codes_i = (str(codes[i]), *others)
        out.append(
            Found(ProblemKind.COVERAGE_EDGE, codes_i, rest, parent_code, length_m=float(length))
        )
    return out


def _segments(lines: shapely.Geometry) -> ObjectArray:
    """Return the two-point segments of (multi)line work."""
    coords, part = shapely.get_coordinates(shapely.get_parts(lines), return_index=True)
    same = part[1:] == part[:-1]
    pairs = np.stack([coords[:-1][same], coords[1:][same]], axis=1)
    return np.asarray(shapely.linestrings(pairs), dtype=object).reshape(-1)


def sliver_parts(codes: ObjectArray, geoms: ObjectArray, metric: Metric) -> list[Found]:
    """Return the tiny or thin polygons of multi-part grids (all but the largest part)."""
    counts = shapely.get_num_geometries(geoms)
    multi = np.flatnonzero(counts > 1)
    if len(multi) == 0:
        return []
    parts, owner = shapely.get_parts(geoms[multi], return_index=True)
    area, width, _ = metric.measure(parts)
    order = np.lexsort((-area, owner))  # per grid, the largest part first: its body
    body = np.zeros(len(parts), dtype=bool)
    body[order[np.r_[True, owner[order][1:] != owner[order][:-1]]]] = True
    thin = (area < metric.sliver_m2) | (width < metric.sliver_width_m)
    return [
        Found(
            ProblemKind.SLIVER,
            (str(codes[multi[owner[k]]]),),
            parts[k],
            None,
            area_m2=float(area[k]),
            width_m=float(width[k]),
            detail="part",
        )
        for k in np.flatnonzero(thin & ~body)
    ]


def to_problem(found: Found) -> GridProblem:
    """Return a found problem as reported, with its message."""
    return GridProblem(
        found.kind,
        found.codes,
        _message(found),
        found.geometry,
        area_m2=found.area_m2,
        length_m=found.length_m,
        width_m=found.width_m,
        parent_code=found.parent_code,
        detail=found.detail,
    )


def _message(found: Found) -> str:
    codes, size = found.codes, _m2(found.area_m2)
    if found.kind == ProblemKind.COVERAGE_EDGE:
        near = f" (next to {', '.join(codes[1:])})" if len(codes) > 1 else ""
        return (
            f"{found.length_m:,.1f} m of the border of {codes[0]} does not match its "
            f"neighbours{near} vertex for vertex"
        )
    kind: ProblemKind = found.kind
    if kind == ProblemKind.SLIVER and found.detail in _SLIVER_OF:
        kind = ProblemKind(found.detail)
    if kind == ProblemKind.GAP:
        near = f", next to {', '.join(codes[1:])}" if len(codes) > 1 else ""
        text = f"{size} of {codes[0]} covered by none of its children{near}"
    elif kind == ProblemKind.OVERLAP:
        text = f"{codes[0]} and {codes[1]} overlap by {size}"
    elif kind == ProblemKind.OUTSIDE:
        text = f"{size} of {codes[0]} lies outside {codes[1]}"
    else:
        text = f"a {size} polygon of {codes[0]} apart from its main body"
    if found.kind == ProblemKind.SLIVER:
        return f"sliver: {text}, {found.width_m or 0:.2f} m wide"
    return text


def _m2(area: float) -> str:
    return f"{area:,.0f} m²" if area >= 10 else f"{area:.2f} m²"
