"""What an edited feature must be: its properties, its geometry, and for grids its place.

Unknown properties are refused (a typo must not be dropped silently); the limits mirror
the database's columns and constraints, so a valid feature is never refused by the
database. Geometry is parsed from GeoJSON, bounded by ``max_vertices``, converted to WGS
84 and type-checked; a grid is checked against its stored neighbours with
:func:`geogrid.spatial.gridcheck.check_grid_edit`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any, Literal, Self

import numpy as np
import shapely
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)
from sqlalchemy import Connection

from geogrid import crs as gcrs
from geogrid.db.queries import edits as w
from geogrid.db.queries.features import FeatureRows
from geogrid.errors import (
    AxisOrderError,
    EditRefusedError,
    InvalidGeometryError,
    InvalidRequestError,
    TooManyVerticesError,
)
from geogrid.spatial.gridcheck import GridCandidate, ProblemKind, check_grid_edit, opened_gaps
from geogrid.spatial.gridcheck import repair_grid_geometry as repair_grid
from geogrid.spatial.gridrepair import GridRepair, closed_ring_repairs, repair_loss
from geogrid.workspace.features import FeatureLayer

if TYPE_CHECKING:
    from geogrid.workspace import Workspace

__all__ = [
    "PROPERTY_MODELS",
    "CheckpointProperties",
    "GridProperties",
    "IsolationSiteProperties",
    "checked_geometry",
    "keep_level_of_parents",
    "keep_tiling",
    "prepared_geometry",
    "validated_properties",
]

_GEOMETRY_TYPES = {"polygon": ("Polygon", "MultiPolygon"), "point": ("Point",)}

Code = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[^\s/\\?#%]+$"
    ),
]
"""A feature code: up to 64 characters, no spaces, slashes, ``?``, ``#`` or ``%`` (it is
part of the feature's URL)."""
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Count = Annotated[int, Field(ge=0, le=1_000_000_000)]


class _Properties(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False)


class GridProperties(_Properties):
    """A grid: ``level`` is county, town, village, micro or industry; ``parent_code`` the
    grid one level up (industry grids: the county, or none)."""

    code: Code
    name: Name
    level: Literal["county", "town", "village", "micro", "industry"]
    parent_code: Code | None = None
    population: Count | None = None
    households: Count | None = None


class CheckpointProperties(_Properties):
    """A checkpoint on a road."""

    code: Code
    name: Name
    kind: Literal["traffic_station", "village_gate", "temporary"]
    status: Literal["active", "closed"] = "active"
    staff: Annotated[int, Field(ge=0, le=10_000)] | None = None


class IsolationSiteProperties(_Properties):
    """An isolation site; ``occupied`` may not exceed ``capacity``."""

    code: Code
    name: Name
    kind: Annotated[str, StringConstraints(min_length=1, max_length=32)] = "hotel"
    capacity: Annotated[int, Field(ge=0, le=1_000_000)]
    occupied: Annotated[int, Field(ge=0, le=1_000_000)] = 0
    risk_classes: list[Literal["close_contact", "secondary_contact", "returnee"]] = Field(
        default_factory=list, max_length=3
    )
    address: Annotated[str, StringConstraints(max_length=500)] | None = None

    @model_validator(mode="after")
    def _occupied_within_capacity(self) -> Self:
        if self.occupied > self.capacity:
            raise ValueError(f"occupied ({self.occupied}) exceeds capacity ({self.capacity})")
        return self


PROPERTY_MODELS: dict[str, type[_Properties]] = {
    "grids": GridProperties,
    "checkpoints": CheckpointProperties,
    "isolation_sites": IsolationSiteProperties,
}


# ------------------------------------------------------------------ checks of an edit


def validated_properties(layer: FeatureLayer, properties: Mapping[str, Any]) -> dict[str, Any]:
    """Return the properties checked and completed with defaults, or refuse them (422)."""
    try:
        model = PROPERTY_MODELS[layer.name].model_validate(dict(properties))
    except ValidationError as exc:
        problems = [
            {"where": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg")}
            for e in exc.errors()
        ]
        where = ", ".join(p["where"] or "properties" for p in problems)
        raise InvalidRequestError(
            f"the properties are not valid for {layer.name} ({where})",
            details={"errors": problems},
        ) from None
    return model.model_dump()


def prepared_geometry(
    workspace: Workspace, layer: FeatureLayer, geometry: Mapping[str, Any], crs: gcrs.CRSLike
) -> shapely.Geometry:
    """Parse, bound, convert to WGS 84 and type-check a GeoJSON geometry."""
    system = gcrs.parse_crs(crs)
    try:
        geom = shapely.geometry.shape(geometry)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise InvalidGeometryError(
            f"the geometry is not GeoJSON: {str(exc)[:200]}", details={"layer": layer.name}
        ) from None
    except shapely.errors.ShapelyError as exc:
        raise InvalidGeometryError(
            f"the geometry cannot be built: {str(exc)[:200]}", details={"layer": layer.name}
        ) from None
    vertices = int(shapely.get_num_coordinates(geom))
    limit = workspace.settings.max_vertices
    if vertices > limit:
        raise TooManyVerticesError(
            f"the geometry has {vertices:,} vertices; the limit is {limit:,}",
            details={"vertices": vertices, "limit": limit},
        )
    wanted = _GEOMETRY_TYPES[layer.geometry]
    if geom.geom_type not in wanted or geom.is_empty:
        raise InvalidGeometryError(
            f"{layer.name} need a non-empty {' or '.join(wanted)}, not {geom.geom_type}"
            + (" EMPTY" if geom.is_empty else ""),
            details={"layer": layer.name, "geometry_type": geom.geom_type},
        )
    geom = shapely.force_2d(geom)
    xy = shapely.get_coordinates(geom)
    if not np.all(np.isfinite(xy)):
        raise InvalidGeometryError("the geometry has coordinates that are not finite numbers")
    geom = gcrs.geometries_to_wgs84(geom, system)
    lonlat = shapely.get_coordinates(geom)
    if np.any(gcrs.looks_swapped(lonlat[:, 0], lonlat[:, 1])):
        raise AxisOrderError(
            "the coordinates look like latitude, longitude: give longitude first",
            details={"layer": layer.name},
        )
    inside = np.isfinite(lonlat).all() and (np.abs(lonlat[:, 0]) <= 180).all()
    if not (inside and (np.abs(lonlat[:, 1]) <= 90).all()):
        raise InvalidGeometryError(
            f"the coordinates are not longitude/latitude in {system}; name their system "
            "with the crs parameter (e.g. crs=EPSG:4549)",
            details={"layer": layer.name, "crs": str(system)},
        )
    return geom


def checked_geometry(
    workspace: Workspace,
    conn: Connection,
    layer: FeatureLayer,
    values: Mapping[str, Any],
    geom: shapely.Geometry,
    *,
    replaces: bool,
    unclosed: Sequence[str] = (),
) -> tuple[shapely.Geometry, list[GridRepair]]:
    """Return the geometry to store and its repairs; refuse a bad grid edit.

    ``unclosed`` names the rings the body left open (closed by parsing, reported as
    repairs). A ``make_valid`` repair that loses more than 1 % of the drawn area is
    refused with the lost area (:func:`geogrid.spatial.gridrepair.repair_loss`).
    """
    if layer.name != "grids":
        return geom, []
    code, parent_code = values["code"], values["parent_code"]
    repairs = closed_ring_repairs(code, unclosed, geom)
    repair, refused = repair_loss(code, geom, parent_code=parent_code)
    if refused is not None:
        raise EditRefusedError(refused.message, details={"problems": [refused.to_dict()]})
    neighbours = w.read_grid_neighbourhood(
        conn, code=code, parent_code=parent_code, replaced=code if replaces else None
    )
    candidate = GridCandidate(code, values["level"], parent_code, geom, replaces=replaces)
    problems = check_grid_edit(
        candidate, neighbours, tolerance_m2=workspace.settings.grid_overlap_tolerance_m2
    )
    blocking = [p for p in problems if p.kind is not ProblemKind.INVALID]
    if blocking:
        raise EditRefusedError(
            "; ".join(p.message for p in blocking[:3]) + (" ..." if len(blocking) > 3 else ""),
            details={"problems": [p.to_dict() for p in blocking]},
        )
    if repair is not None:
        repairs.append(repair)
    stored = repair_grid(geom)
    assert stored is not None  # check_grid_edit reports not_polygon otherwise
    return stored, repairs


def keep_tiling(
    workspace: Workspace,
    conn: Connection,
    layer: FeatureLayer,
    vacated: Sequence[tuple[str, str | None, shapely.Geometry]],
) -> None:
    """Refuse the grids just written when they opened a gap in a parent's tiling.

    ``vacated`` holds, per edited grid, its code, its parent before the edit and its
    geometry before the edit. Run inside the edit's transaction after the writes: the
    parent's children are read as the transaction sees them, so neighbours changed in
    the same request count with their new borders. Gaps smaller than
    ``grid_overlap_tolerance_m2`` (the tolerance of ``geogrid grids check``) are noise.
    """
    if layer.name != "grids":
        return
    by_parent: dict[str, list[tuple[str, shapely.Geometry]]] = {}
    for code, parent, geom in vacated:
        if parent is not None and geom is not None:
            by_parent.setdefault(parent, []).append((code, geom))
    problems = []
    for parent, edited in sorted(by_parent.items()):
        problems += opened_gaps(
            w.read_grid_family(conn, parent),
            parent,
            shapely.union_all([g for _, g in edited]),
            tuple(c for c, _ in edited),
            tolerance_m2=workspace.settings.grid_overlap_tolerance_m2,
        )
    if problems:
        raise EditRefusedError(
            "the edit opens a gap in its parent's tiling: "
            + "; ".join(p.message for p in problems[:3])
            + (" ..." if len(problems) > 3 else "")
            + "; move the neighbours' borders in the same request "
            "(POST /collections/grids/edits)",
            details={"problems": [p.to_dict() for p in problems]},
        )


def keep_level_of_parents(
    conn: Connection, layer: FeatureLayer, before: FeatureRows, values: Mapping[str, Any]
) -> None:
    """Refuse to change the level of a grid that has children (theirs would be wrong)."""
    if layer.name != "grids":
        return
    old = dict(zip(before.columns, before.values[0], strict=True))
    if old["level"] == values["level"]:
        return
    children = w.grid_dependents(conn, old["code"])["children"]
    if children:
        raise EditRefusedError(
            f"grid {old['code']} has {len(children)} children of the level below "
            f"{old['level']}; it cannot become a {values['level']} grid",
            details={"feature": old["code"], "children": children},
        )
