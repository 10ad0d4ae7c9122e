"""Create, replace, update and delete features of the editable layers, with validation.

Every write runs in ONE transaction: lock the layer, check the version the caller read
(``If-Match``), validate against the stored neighbours, write, append the audit entry,
bump the layer's data version. Either all of it is stored or none of it. The in-memory
indexes (GridIndex and the rest) follow the version bump in a background thread (the
grid index is updated near the grids that changed, not rebuilt: ``GridIndex.updated``),
while other requests are answered from the previous ones: in this process an edit of a
grid answers only once the new indexes are in place (so its caller reads its own
write), other processes follow within ``cache_check_interval_s`` plus one build. In an
API server the edit itself (checks, SQL, audit) and the index update run in its helper
process (:mod:`geogrid.workspace._helper_process`).

Geometry arrives as a GeoJSON geometry in any system :func:`geogrid.crs.parse_crs`
accepts and is stored in WGS 84. It must be of the layer's type, have at most
``max_vertices`` vertices, and be valid; a grid ring left open is closed and an invalid
grid polygon is repaired with ``make_valid``, and every repair is reported with the area
drawn and stored (a repair losing more than 1 % of the drawn area is refused, see
:mod:`geogrid.spatial.gridrepair`). Grids are checked with
:func:`geogrid.spatial.gridcheck.check_grid_edit`: inside the parent, no overlap with a
sibling beyond ``grid_overlap_tolerance_m2``, code extending the parent's, level one
below the parent's; and once written, no gap opened in the parent's tiling beyond the
same tolerance (:func:`geogrid.spatial.gridcheck.opened_gaps`). :func:`replace_features`
replaces several features in one transaction (each with its own ``If-Match`` and audit
entry), checking them against each other's new borders.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import shapely
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from geogrid import crs as gcrs
from geogrid.db.queries import edits as w
from geogrid.db.queries.audit import insert_audit, read_audit
from geogrid.db.queries.features import FeatureRows, read_feature
from geogrid.db.queries.layers import bump_version
from geogrid.errors import (
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    PreconditionFailedError,
    PreconditionRequiredError,
)
from geogrid.spatial.gridcheck import repair_grid_geometry as repair_grid
from geogrid.spatial.gridrepair import GridRepair, unclosed_rings
from geogrid.workspace._feature_rules import (
    checked_geometry,
    keep_level_of_parents,
    keep_tiling,
    prepared_geometry,
    validated_properties,
)
from geogrid.workspace.features import FeatureLayer, FeaturePage, feature_layer, feature_page

if TYPE_CHECKING:
    from geogrid.workspace import Workspace

__all__ = [
    "BatchFeature",
    "EditOutcome",
    "Editor",
    "create_feature",
    "delete_feature",
    "if_match_holds",
    "read_audit_log",
    "replace_feature",
    "replace_features",
    "update_feature",
]


@dataclass(frozen=True)
class Editor:
    """Who writes, for the audit log: a credential's name and role, and the request id."""

    name: str
    role: str | None
    request_id: str | None = None


@dataclass(frozen=True)
class EditOutcome:
    """What a write stored: the feature (in the asked system; None after a delete), the
    repairs of its geometry (rings closed, ``make_valid``; empty when it was stored as
    given), and the audit entry's id."""

    page: FeaturePage | None
    repairs: tuple[GridRepair, ...]
    audit_id: int

    @property
    def repaired(self) -> str | None:
        """The repairs in one line (None when the geometry was stored as given)."""
        return "; ".join(r.message for r in self.repairs) or None


# ---------------------------------------------------------------------------- the writes

_Edit = TypeVar("_Edit", bound=Callable[..., Any])


def _seen_here(edit: _Edit) -> _Edit:
    """Run an edit in the workspace's helper process when it has one (an API server's:
    the edit's checks then take no time from the requests it answers meanwhile), then
    make this process see the write: its ``/locate`` is answered from the rebuilt indexes
    before the edit answers (other requests meanwhile from the previous ones)."""

    @functools.wraps(edit)
    def run(workspace: Workspace, layer_name: str, *args: Any, **kwargs: Any) -> Any:
        def here() -> Any:
            return edit(workspace, layer_name, *args, **kwargs)

        helper = workspace.helper_process
        outcome = here() if helper is None else helper.edit(run, layer_name, args, kwargs, here)
        workspace.refresh_after_write(_editable(layer_name).name)
        return outcome

    return run  # type: ignore[return-value]


@_seen_here
def create_feature(
    workspace: Workspace,
    layer_name: str,
    *,
    geometry: Mapping[str, Any],
    properties: Mapping[str, Any],
    feature_id: str | int | None = None,
    crs: gcrs.CRSLike = None,
    editor: Editor,
) -> EditOutcome:
    """Store a new feature; its code is ``properties["code"]`` or ``feature_id``.

    Raises
    ------
    ConflictError
        A feature with this code exists.
    EditRefusedError, InvalidGeometryError, InvalidRequestError
        The feature breaks the layer's rules (``details`` says how).
    """
    layer = _editable(layer_name)
    code = properties.get("code", feature_id)
    if feature_id is not None and str(feature_id) != str(code):
        raise InvalidRequestError("the feature's id and properties.code differ")
    if code is None:
        raise InvalidRequestError("a new feature needs properties.code (or an id)")
    values = validated_properties(layer, {**properties, "code": str(code)})
    geom = prepared_geometry(workspace, layer, geometry, crs)
    unclosed = unclosed_rings(geometry)

    def write(conn: Connection) -> tuple[FeatureRows, int, list[GridRepair]]:
        if read_feature(conn, layer.name, ("code",), values["code"]).values:
            raise ConflictError(
                f"{layer.name} already has a feature {values['code']!r}; replace it with PUT",
                details={"collection": layer.name, "feature": values["code"]},
            )
        stored, repaired = checked_geometry(
            workspace, conn, layer, values, geom, replaces=False, unclosed=unclosed
        )
        w.insert_feature(conn, layer.name, values, stored)
        return (*_finish(conn, layer, "create", values["code"], None, editor), repaired)

    return _run(workspace, layer, write, crs)


@_seen_here
def replace_feature(
    workspace: Workspace,
    layer_name: str,
    code: str,
    *,
    geometry: Mapping[str, Any],
    properties: Mapping[str, Any],
    feature_id: str | int | None = None,
    crs: gcrs.CRSLike = None,
    if_match: str | None,
    editor: Editor,
) -> EditOutcome:
    """Replace feature ``code`` whole: properties not given take their defaults."""
    layer = _editable(layer_name)
    _require_precondition(if_match)
    _same_code(code, properties.get("code", code), feature_id)
    values = validated_properties(layer, {**properties, "code": code})
    geom = prepared_geometry(workspace, layer, geometry, crs)
    unclosed = unclosed_rings(geometry)

    def write(conn: Connection) -> tuple[FeatureRows, int, list[GridRepair]]:
        before = _current(conn, layer, code, if_match)
        keep_level_of_parents(conn, layer, before, values)
        stored, repaired = checked_geometry(
            workspace, conn, layer, values, geom, replaces=True, unclosed=unclosed
        )
        w.update_feature(conn, layer.name, code, _without_code(values), stored)
        keep_tiling(workspace, conn, layer, [_vacated(before)])
        return (*_finish(conn, layer, "replace", code, before, editor), repaired)

    return _run(workspace, layer, write, crs)


@_seen_here
def update_feature(
    workspace: Workspace,
    layer_name: str,
    code: str,
    *,
    geometry: Mapping[str, Any] | None,
    properties: Mapping[str, Any],
    feature_id: str | int | None = None,
    crs: gcrs.CRSLike = None,
    if_match: str | None,
    editor: Editor,
) -> EditOutcome:
    """Merge ``properties`` into feature ``code`` (None clears one); a geometry replaces
    the stored one. A grid is checked against its neighbours again when its geometry,
    level or parent changes."""
    layer = _editable(layer_name)
    _require_precondition(if_match)
    _same_code(code, properties.get("code", code), feature_id)
    geom = prepared_geometry(workspace, layer, geometry, crs) if geometry is not None else None
    unclosed = unclosed_rings(geometry) if geometry is not None else []

    def write(conn: Connection) -> tuple[FeatureRows, int, list[GridRepair]]:
        before = _current(conn, layer, code, if_match)
        stored_values = dict(zip(before.columns, before.values[0], strict=True))
        values = validated_properties(layer, {**stored_values, **properties, "code": code})
        keep_level_of_parents(conn, layer, before, values)
        repaired: list[GridRepair] = []
        new_geom = geom if geom is not None else shapely.from_wkb(before.wkb[0])
        moved = any(values.get(k) != stored_values.get(k) for k in ("level", "parent_code"))
        if geom is not None or (layer.name == "grids" and moved):
            new_geom, repaired = checked_geometry(
                workspace, conn, layer, values, new_geom, replaces=True, unclosed=unclosed
            )
        w.update_feature(conn, layer.name, code, _without_code(values), new_geom)
        keep_tiling(workspace, conn, layer, [_vacated(before)])
        return (*_finish(conn, layer, "update", code, before, editor), repaired)

    return _run(workspace, layer, write, crs)


@dataclass(frozen=True)
class BatchFeature:
    """One feature of a multi-feature replacement: its code, the ETag it was read with,
    and its new geometry and properties (see :func:`replace_features`)."""

    code: str
    if_match: str | None
    geometry: Mapping[str, Any]
    properties: Mapping[str, Any]


MAX_BATCH_FEATURES = 100
"""Most features one multi-feature edit may replace."""


@_seen_here
def replace_features(
    workspace: Workspace,
    layer_name: str,
    features: Sequence[BatchFeature],
    *,
    crs: gcrs.CRSLike = None,
    editor: Editor,
) -> list[EditOutcome]:
    """Replace several features whole in ONE transaction: all are stored or none.

    Each feature's ``If-Match`` must name its stored version (412 otherwise). The grids
    are written first and checked afterwards, each against its neighbours as they are
    once every write is in: so a border can move between two siblings (one shrinks, the
    other grows) without the overlap or the gap that either edit alone would make. Each
    feature gets its own audit entry. Features of one edit must have distinct codes.

    Raises
    ------
    EditRefusedError, InvalidGeometryError, InvalidRequestError
        A feature breaks the layer's rules, or the edit opens a gap or an overlap.
    NotFoundError, PreconditionFailedError, PreconditionRequiredError
        A feature is not stored, was changed since it was read, or has no ``If-Match``.
    """
    layer = _editable(layer_name)
    if not features or len(features) > MAX_BATCH_FEATURES:
        raise InvalidRequestError(
            f"a multi-feature edit replaces 1 to {MAX_BATCH_FEATURES} features, "
            f"not {len(features)}",
            details={"features": len(features), "limit": MAX_BATCH_FEATURES},
        )
    codes = [f.code for f in features]
    if len(set(codes)) != len(codes):
        twice = sorted({c for c in codes if codes.count(c) > 1})
        raise InvalidRequestError(
            f"a multi-feature edit names {', '.join(twice[:5])} more than once",
            details={"features": twice[:20]},
        )
    prepared = []
    for f in features:
        _require_precondition(f.if_match)
        _same_code(f.code, f.properties.get("code", f.code), None)
        values = validated_properties(layer, {**f.properties, "code": f.code})
        geom = prepared_geometry(workspace, layer, f.geometry, crs)
        prepared.append((f, values, geom, unclosed_rings(f.geometry)))

    def write(conn: Connection) -> list[tuple[FeatureRows, int, list[GridRepair]]]:
        befores = []
        for f, values, geom, _ in prepared:
            before = _current(conn, layer, f.code, f.if_match)
            keep_level_of_parents(conn, layer, before, values)
            interim = repair_grid(geom) if layer.name == "grids" else geom
            w.update_feature(conn, layer.name, f.code, _without_code(values), interim or geom)
            befores.append(before)
        repairs = []
        for f, values, geom, unclosed in prepared:
            stored, repaired = checked_geometry(
                workspace, conn, layer, values, geom, replaces=True, unclosed=unclosed
            )
            w.update_feature(conn, layer.name, f.code, _without_code(values), stored)
            repairs.append(repaired)
        keep_tiling(workspace, conn, layer, [_vacated(b) for b in befores])
        return [
            (*_finish(conn, layer, "replace", f.code, before, editor), repaired)
            for (f, *_), before, repaired in zip(prepared, befores, repairs, strict=True)
        ]

    return _run_all(workspace, layer, write, crs)


@_seen_here
def delete_feature(
    workspace: Workspace, layer_name: str, code: str, *, if_match: str | None, editor: Editor
) -> EditOutcome:
    """Delete feature ``code``. A grid with children, grid workers or API keys limited
    to it is kept (:class:`ConflictError`): move or delete those first."""
    layer = _editable(layer_name)
    _require_precondition(if_match)

    def write(conn: Connection) -> tuple[FeatureRows, int, list[GridRepair]]:
        before = _current(conn, layer, code, if_match)
        if layer.name == "grids":
            found = {k: v for k, v in w.grid_dependents(conn, code).items() if v}
            if found:
                what = ", ".join(f"{len(v)} {k.replace('_', ' ')}" for k, v in found.items())
                raise ConflictError(
                    f"grid {code} still has {what}; move or delete them first",
                    details={"feature": code, **found},
                )
        w.delete_feature(conn, layer.name, code)
        return (*_finish(conn, layer, "delete", code, before, editor, gone=True), [])

    return _run(workspace, layer, write, None)


def if_match_holds(if_match: str, version: str) -> bool:
    """Return True when an ``If-Match`` value names the stored ``version`` (strong match).

    ``*`` matches any stored version; weak tags (``W/"..."``) never match. A tag of
    another representation (``"<version>.gcj02"``) names the same stored version.

    Examples
    --------
    >>> if_match_holds('"abc.gcj02", "def"', "abc"), if_match_holds('W/"abc"', "abc")
    (True, False)
    """
    for tag in (t.strip() for t in if_match.split(",")):
        if tag == "*":
            return True
        if len(tag) >= 2 and tag[0] == tag[-1] == '"' and tag[1:-1].split(".", 1)[0] == version:
            return True
    return False


# ----------------------------------------------------------------------------- internals


def _editable(name: str) -> FeatureLayer:
    layer = feature_layer(name)
    if not layer.editable:
        raise NotFoundError(
            f"{layer.name} cannot be edited through the API; load it with `geogrid load`",
            details={"collection": layer.name},
        )
    return layer


def _require_precondition(if_match: str | None) -> None:
    if not if_match:
        raise PreconditionRequiredError(
            "send If-Match with the ETag you read (GET the feature first), or If-Match: *",
            details={"header": "If-Match"},
        )


def _same_code(code: str, given: Any, feature_id: str | int | None) -> None:
    for other in (given, feature_id):
        if other is not None and str(other) != code:
            raise InvalidRequestError(
                f"the body names feature {str(other)[:64]!r} but the path {code!r}; "
                "a feature's code cannot be changed",
                details={"feature": code},
            )


def _without_code(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k != "code"}


def _current(conn: Connection, layer: FeatureLayer, code: str, if_match: str | None) -> FeatureRows:
    """Lock and return the stored feature; 404 if missing, 412 if its version moved on."""
    rows = read_feature(conn, layer.name, layer.properties, code, for_update=True)
    if not rows.values:
        raise NotFoundError(
            f"{layer.name} has no feature {code[:64]!r}",
            details={"collection": layer.name, "feature": code[:64]},
        )
    if if_match is None or not if_match_holds(if_match, rows.versions[0]):
        raise PreconditionFailedError(
            f"{layer.name} {code} changed since it was read (its ETag is no longer current); "
            "GET it again and redo the edit on what is stored now",
            details={"collection": layer.name, "feature": code},
        )
    return rows


def _vacated(before: FeatureRows) -> tuple[str, str | None, shapely.Geometry]:
    """The code, parent and geometry of a grid before its edit (see ``keep_tiling``)."""
    props = dict(zip(before.columns, before.values[0], strict=True))
    return props["code"], props.get("parent_code"), shapely.from_wkb(before.wkb[0])


def _as_geojson(rows: FeatureRows) -> dict[str, Any]:
    props = dict(zip(rows.columns, rows.values[0], strict=True))
    geom = shapely.from_wkb(rows.wkb[0])
    return {
        "type": "Feature",
        "id": props["code"],
        "geometry": shapely.geometry.mapping(geom),
        "properties": props,
    }


def _finish(
    conn: Connection,
    layer: FeatureLayer,
    action: str,
    code: str,
    before: FeatureRows | None,
    editor: Editor,
    *,
    gone: bool = False,
) -> tuple[FeatureRows, int]:
    """Audit the write and bump the layer's version; return the stored row (empty if gone)
    and the audit entry's id."""
    after = read_feature(conn, layer.name, layer.properties, code)
    audit_id = insert_audit(
        conn,
        actor=editor.name,
        role=editor.role,
        action=action,
        layer=layer.name,
        code=code,
        before=_as_geojson(before) if before is not None else None,
        after=None if gone else _as_geojson(after),
        request_id=editor.request_id,
    )
    bump_version(conn, layer.name)
    return after, audit_id


def _run(workspace: Workspace, layer: FeatureLayer, write: Any, crs: gcrs.CRSLike) -> EditOutcome:
    """Run ``write`` in one transaction under the layer's lock; return what it stored."""
    return _run_all(workspace, layer, lambda conn: [write(conn)], crs)[0]


def _run_all(
    workspace: Workspace, layer: FeatureLayer, write: Any, crs: gcrs.CRSLike
) -> list[EditOutcome]:
    """Run ``write`` (returning one stored row, audit id and repairs per feature) in one
    transaction under the layer's lock; return what it stored."""
    system = gcrs.parse_crs(crs)
    try:
        with workspace.engine.begin() as conn:
            w.lock_layer(conn, layer.name)
            written = write(conn)
    except IntegrityError as exc:
        diag = getattr(exc.orig, "diag", None)
        detail = getattr(diag, "message_detail", None) or getattr(diag, "message_primary", "")
        raise ConflictError(
            f"the database refused the edit; nothing was changed: {detail}",
            details={"collection": layer.name},
        ) from None
    return [
        EditOutcome(
            feature_page(layer, rows, system, 1) if rows.values else None,
            tuple(repaired),
            audit_id,
        )
        for rows, audit_id, repaired in written
    ]


def read_audit_log(
    workspace: Workspace, *, layer: str | None = None, code: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Return audit entries, newest first, optionally of one layer and one feature."""
    with workspace.engine.connect() as conn:
        return read_audit(conn, layer=layer, code=code, limit=limit)
