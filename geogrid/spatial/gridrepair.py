"""What the repair of an edited grid's geometry changed, and whether it may be applied.

An edit's geometry arrives as GeoJSON. Two repairs can happen to it before it is stored,
and both are reported to the editor (:class:`GridRepair`):

- **closed_ring**: a ring whose last position is not its first (GeoJSON requires it) is
  closed by repeating its first position (:func:`unclosed_rings` finds them in the raw
  GeoJSON, before shapely closes them without a word);
- **make_valid**: an invalid polygon (a bow-tie, a ring crossing itself) is repaired
  with ``make_valid`` (:func:`repair_grid_geometry`).

The rule for a repair that loses area
-------------------------------------
The area *before* a ``make_valid`` repair is the area the drawn outline encloses: every
face that the noded lines of a polygon's exterior ring close off, minus the faces its
holes close off (a bow-tie encloses its two triangles). The area *after* is the repaired
geometry's. A repair that loses more than :data:`MAX_REPAIR_LOSS` (1 %) of the area
before is refused (:func:`repair_loss`): ``make_valid`` turned part of what was drawn
into a hole (a ring that winds twice round a region, for instance) or dropped it. The
refusal carries the lost area as the problem geometry. Areas are in m², measured in a
Transverse Mercator projection centred on the grid.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
import shapely.geometry

from geogrid.spatial._gridrules import repair_grid_geometry
from geogrid.spatial._gridtiling import polygonal
from geogrid.spatial._projection import LocalProjection
from geogrid.spatial.gridproblems import GridProblem, ProblemKind

__all__ = [
    "MAX_REPAIR_LOSS",
    "GridRepair",
    "closed_ring_repairs",
    "drawn_outline",
    "repair_loss",
    "unclosed_rings",
]

MAX_REPAIR_LOSS = 0.01
"""A repair may lose at most this share of the area the outline encloses (1 %)."""


@dataclass(frozen=True)
class GridRepair:
    """One repair of an edited grid's geometry.

    Attributes
    ----------
    kind
        ``closed_ring`` or ``make_valid``.
    message
        One line for people.
    area_before_m2, area_after_m2
        The area the drawn outline encloses, and the area stored (m²).
    """

    kind: str
    message: str
    area_before_m2: float
    area_after_m2: float

    def to_dict(self) -> dict[str, Any]:
        """Return the repair as JSON-ready values."""
        return {
            "kind": self.kind,
            "message": self.message,
            "area_before_m2": round(self.area_before_m2, 3),
            "area_after_m2": round(self.area_after_m2, 3),
        }


def unclosed_rings(geometry: Mapping[str, Any]) -> list[str]:
    """Return where a GeoJSON (Multi)Polygon has rings that are not closed.

    Examples
    --------
    >>> unclosed_rings({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1]]]})
    ['polygon 1, exterior ring']
    >>> unclosed_rings({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]})
    []
    """
    kind = geometry.get("type")
    coords = geometry.get("coordinates")
    if not isinstance(coords, list):
        return []
    polygons = [coords] if kind == "Polygon" else coords if kind == "MultiPolygon" else []
    found = []
    for p, rings in enumerate(polygons, start=1):
        if not isinstance(rings, list):
            continue
        for r, ring in enumerate(rings):
            if isinstance(ring, list) and len(ring) >= 2 and _open(ring):
                found.append(f"polygon {p}, " + ("exterior ring" if r == 0 else f"hole {r}"))
    return found


def _open(ring: Sequence[Any]) -> bool:
    first, last = ring[0], ring[-1]
    if not isinstance(first, list) or not isinstance(last, list):
        return False
    return [float(v) for v in first[:2]] != [float(v) for v in last[:2]]


def drawn_outline(geometry: shapely.Geometry) -> shapely.Geometry:
    """Return what the rings of a (possibly invalid) (Multi)Polygon enclose as drawn.

    Every face the noded lines of an exterior ring close off is inside, every face a
    hole's lines close off is outside.

    Examples
    --------
    A ring that winds twice round a 4 × 3 region encloses it; ``make_valid`` makes it a
    hole:

    >>> p = shapely.Polygon([(0, 0), (10, 0), (10, 10), (0, 10), (0, 5), (7, 5), (7, 8),
    ...                      (3, 8), (3, 2), (0, 2)])
    >>> drawn_outline(p).area, shapely.make_valid(p).area
    (91.0, 79.0)
    """
    inside, holes = [], []
    for polygon in shapely.get_parts(geometry):
        if not isinstance(polygon, shapely.Polygon) or polygon.is_empty:
            continue
        inside.append(_faces(polygon.exterior))
        holes += [_faces(ring) for ring in polygon.interiors]
    return polygonal(
        shapely.difference(shapely.union_all(inside), shapely.union_all(holes))
        if holes
        else shapely.union_all(inside)
    )


def _faces(ring: shapely.LinearRing) -> shapely.Geometry:
    noded = shapely.node(shapely.LineString(ring.coords))
    return shapely.union_all(shapely.get_parts(shapely.polygonize(shapely.get_parts(noded))))


def repair_loss(
    code: str, geometry: shapely.Geometry, *, parent_code: str | None = None
) -> tuple[GridRepair | None, GridProblem | None]:
    """Return the ``make_valid`` repair of an invalid grid, or the problem that refuses it.

    ``geometry`` is in EPSG:4326. A valid geometry returns ``(None, None)``. When the
    repair keeps at least 99 % of the area the outline encloses it is returned with its
    areas; when it loses more (see the module's rule) the problem (kind ``invalid``,
    ``detail`` the validity reason) locates the lost area.

    Examples
    --------
    >>> bowtie = shapely.Polygon([(120, 28), (120.01, 28.01), (120.01, 28), (120, 28.01)])
    >>> repair, refused = repair_loss("G", bowtie)
    >>> repair.kind, refused, round(repair.area_after_m2 / repair.area_before_m2, 6)
    ('make_valid', None, 1.0)
    """
    if geometry is None or geometry.is_empty or shapely.is_valid(geometry):
        return None, None
    fixed = repair_grid_geometry(geometry)
    drawn = drawn_outline(geometry)
    xmin, ymin, xmax, ymax = geometry.bounds
    proj = LocalProjection.around([xmin, xmax], [ymin, ymax])
    lost = polygonal(shapely.difference(drawn, fixed)) if fixed is not None else drawn
    before, after, lost_m2 = (
        float(a)
        for a in shapely.area(
            proj.geometries_to_xy([drawn, fixed if fixed is not None else shapely.Polygon(), lost])
        )
    )
    reason = str(shapely.is_valid_reason(geometry))
    share = lost_m2 / before if before > 0 else 1.0
    if fixed is None or share > MAX_REPAIR_LOSS:
        message = (
            f"{code}: invalid geometry ({reason}); make_valid would keep {after:,.0f} m² of "
            f"the {before:,.0f} m² drawn (losing {share:.1%}, more than "
            f"{MAX_REPAIR_LOSS:.0%}): redraw the outline so it does not cross itself"
        )
        where = lost if not lost.is_empty else shapely.point_on_surface(geometry)
        problem = GridProblem(
            ProblemKind.INVALID,
            (code,),
            message,
            where,
            area_m2=lost_m2,
            parent_code=parent_code,
            detail=reason,
        )
        return None, problem
    n = len(fixed.geoms)
    message = (
        f"{code}: invalid geometry ({reason}); make_valid repaired it into {n} "
        f"polygon{'s' if n > 1 else ''}: {before:,.0f} m² drawn, {after:,.0f} m² stored"
    )
    return GridRepair("make_valid", message, before, after), None


def closed_ring_repairs(
    code: str, where: Sequence[str], geometry: shapely.Geometry
) -> list[GridRepair]:
    """Return one ``closed_ring`` repair per ring of ``where`` (see :func:`unclosed_rings`)."""
    if not where:
        return []
    xmin, ymin, xmax, ymax = geometry.bounds
    proj = LocalProjection.around([xmin, xmax], [ymin, ymax])
    area = float(np.sum(shapely.area(proj.geometries_to_xy([polygonal(geometry)]))))
    return [
        GridRepair(
            "closed_ring",
            f"{code}: {ring} was not closed (GeoJSON rings end where they start); "
            "closed it by repeating its first position",
            area,
            area,
        )
        for ring in where
    ]
