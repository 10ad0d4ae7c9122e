"""What each loadable layer looks like: its table, columns, types and geometry.

A :class:`LayerSpec` is the single description the readers, the validator and the loader
share. ``geogrid load --kind`` accepts the spec's name or any of its aliases.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from geogrid.errors import GeoGridError
from geogrid.road_classes import ROAD_CLASSES

__all__ = ["LAYER_SPECS", "ColumnType", "GeometryFamily", "LayerSpec", "spec_for"]

ColumnType = Literal["str", "int", "float", "bool", "list", "datetime"]
GeometryFamily = Literal["polygon", "point", "line"]


@dataclass(frozen=True)
class LayerSpec:
    """One loadable layer.

    Parameters
    ----------
    name
        The table the layer is stored in (also the GeoPackage layer name of the demo data).
    aliases
        Other names ``--kind`` accepts.
    geometry
        The geometry family, or None for a plain attribute table.
    required
        Columns a file must have (besides the geometry), with their types.
    optional
        Columns that may be absent, with their types and defaults.
    choices
        Allowed values of some columns.
    code_optional
        Rows without a ``code`` get ``<name>-<row>``.
    replace_within
        Columns that bound ``--replace``: a stored row the file lacks is deleted only when
        the file holds rows with the same values in these columns (rows with an empty
        value bound nothing). Empty: the file is the whole layer.
    tree_parent
        The column naming a row's parent in the same table: the rows under a row that
        ``--replace`` deletes are deleted with it.
    """

    name: str
    aliases: tuple[str, ...]
    geometry: GeometryFamily | None
    required: dict[str, ColumnType]
    optional: dict[str, tuple[ColumnType, Any]] = field(default_factory=dict)
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)
    code_optional: bool = False
    replace_within: tuple[str, ...] = ()
    tree_parent: str | None = None

    @property
    def columns(self) -> dict[str, ColumnType]:
        """All columns of the layer with their types, required first."""
        return {**self.required, **{key: kind for key, (kind, _) in self.optional.items()}}


LAYER_SPECS: dict[str, LayerSpec] = {
    spec.name: spec
    for spec in (
        LayerSpec(
            name="grids",
            aliases=("grid",),
            geometry="polygon",
            required={"code": "str", "name": "str", "level": "str"},
            optional={
                "parent_code": ("str", None),
                "population": ("int", None),
                "households": ("int", None),
            },
            choices={"level": ("county", "town", "village", "micro", "industry")},
            # --replace replaces the children of the parents the file holds, level by
            # level: a file of one county's towns leaves other counties, and the
            # county's industry grids, alone
            replace_within=("parent_code", "level"),
            tree_parent="parent_code",
        ),
        LayerSpec(
            name="grid_workers",
            aliases=("workers", "worker"),
            geometry=None,
            required={"code": "str", "name": "str", "grid_code": "str"},
            optional={"phone": ("str", None)},
            replace_within=("grid_code",),
        ),
        LayerSpec(
            name="checkpoints",
            aliases=("checkpoint",),
            geometry="point",
            required={"code": "str", "name": "str", "kind": "str"},
            optional={"status": ("str", "active"), "staff": ("int", None)},
            choices={
                "kind": ("traffic_station", "village_gate", "temporary"),
                "status": ("active", "closed"),
            },
        ),
        LayerSpec(
            name="isolation_sites",
            aliases=("sites", "site"),
            geometry="point",
            required={"code": "str", "name": "str", "capacity": "int"},
            optional={
                "kind": ("str", "hotel"),
                "occupied": ("int", 0),
                "risk_classes": ("list", []),
                "address": ("str", None),
            },
        ),
        LayerSpec(
            name="addresses",
            aliases=("address", "gazetteer"),
            geometry="point",
            required={"code": "str", "full_text": "str"},
            optional=dict.fromkeys(
                ("county", "town", "village", "road", "number", "building", "unit", "room"),
                ("str", None),
            ),
        ),
        LayerSpec(
            name="roads",
            aliases=("road",),
            geometry="line",
            required={"code": "str", "road_class": "str"},
            optional={
                "name": ("str", None),
                "speed_kmh": ("float", None),
                "oneway": ("bool", False),
                "bridge": ("bool", False),
                "car": ("bool", None),  # missing: every class but path
                "foot": ("bool", True),
            },
            choices={"road_class": ROAD_CLASSES},
        ),
        LayerSpec(
            name="transfer_requests",
            aliases=("requests", "request", "transfers"),
            geometry="point",
            required={"code": "str", "group_size": "int", "risk_class": "str"},
            optional={
                "contact_name": ("str", None),
                "phone": ("str", None),
                "id_number": ("str", None),
                "health_status": ("str", None),
                "ready_at": ("datetime", None),
                "address_text": ("str", None),
                "status": ("str", "waiting"),
            },
            choices={"risk_class": ("close_contact", "secondary_contact", "returnee")},
        ),
        LayerSpec(
            name="vehicles",
            aliases=("vehicle", "fleet"),
            geometry="point",
            required={"code": "str", "seats": "int"},
            optional={
                "name": ("str", None),
                "depot_name": ("str", None),
                "risk_classes": ("list", []),
                "shift_start": ("datetime", None),
                "shift_end": ("datetime", None),
            },
        ),
        LayerSpec(
            name="water",
            aliases=("rivers", "river"),
            geometry="polygon",
            required={"code": "str"},
            optional={"name": ("str", None)},
            code_optional=True,
        ),
    )
}


def spec_for(kind: str) -> LayerSpec:
    """Return the spec for a ``--kind`` value (table name or alias).

    Examples
    --------
    >>> spec_for("sites").name
    'isolation_sites'
    """
    key = kind.strip().lower().replace("-", "_")
    for spec in LAYER_SPECS.values():
        if key == spec.name or key in spec.aliases:
            return spec
    known = ", ".join(sorted(LAYER_SPECS))
    raise GeoGridError(f"unknown layer kind {kind!r}; choose one of: {known}")
