"""The PostGIS schema as GeoAlchemy2 tables.

All geometry is stored in EPSG:4326 (WGS 84) and has a GiST index. Every layer has a
unique text ``code``: loads upsert by it, and the API addresses features by it. Columns
holding personal data are listed in :data:`PERSONAL_COLUMNS`; they are masked for callers
who may not read them and never logged.
"""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from geogrid.access import Role
from geogrid.road_classes import ROAD_CLASSES

__all__ = [
    "AUDIT_ACTIONS",
    "GRID_LEVELS",
    "LAYER_TABLES",
    "PERSONAL_COLUMNS",
    "ROLES",
    "Address",
    "AddressCorrection",
    "ApiCredential",
    "AuditEntry",
    "Base",
    "Checkpoint",
    "Grid",
    "GridWorker",
    "IsolationSite",
    "LayerVersion",
    "Road",
    "TransferRequest",
    "TransportPlanRow",
    "TransportRouteRow",
    "Vehicle",
    "Water",
]

SRID = 4326
GRID_LEVELS = ("county", "town", "village", "micro", "industry")
CHECKPOINT_KINDS = ("traffic_station", "village_gate", "temporary")
CHECKPOINT_STATUSES = ("active", "closed")
RISK_CLASSES = ("close_contact", "secondary_contact", "returnee")

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


class Base(DeclarativeBase):
    """Declarative base with stable constraint names (Alembic relies on them)."""

    metadata = MetaData(naming_convention=NAMING)


class _Stamped:
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class Grid(_Stamped, Base):
    """A governance grid at one level of the county › town › village › micro tree.

    Industry grids overlay the territorial tree; their parent (if any) is the county.
    """

    __tablename__ = "grids"
    __table_args__ = (CheckConstraint(_in("level", GRID_LEVELS), name="level"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(Text)
    level: Mapped[str] = mapped_column(String(16), index=True)
    parent_code: Mapped[str | None] = mapped_column(
        String(64),
        ForeignKey("grids.code", onupdate="CASCADE", deferrable=True, initially="DEFERRED"),
        index=True,
    )
    population: Mapped[int | None] = mapped_column(Integer)
    households: Mapped[int | None] = mapped_column(Integer)
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=True), nullable=False)


class GridWorker(_Stamped, Base):
    """The person responsible for a grid (personal data: name, phone)."""

    __tablename__ = "grid_workers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(32))
    grid_code: Mapped[str] = mapped_column(
        String(64),
        ForeignKey("grids.code", onupdate="CASCADE", deferrable=True, initially="DEFERRED"),
        index=True,
    )


class Checkpoint(_Stamped, Base):
    """A staffed point on a road where people and vehicles are checked."""

    __tablename__ = "checkpoints"
    __table_args__ = (
        CheckConstraint(_in("kind", CHECKPOINT_KINDS), name="kind"),
        CheckConstraint(_in("status", CHECKPOINT_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), server_default="active")
    staff: Mapped[int | None] = mapped_column(Integer)
    geom = mapped_column(Geometry("POINT", srid=SRID, spatial_index=True), nullable=False)


class IsolationSite(_Stamped, Base):
    """A centralized isolation site (usually a hotel) with a capacity."""

    __tablename__ = "isolation_sites"
    __table_args__ = (CheckConstraint("occupied <= capacity", name="occupancy"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(32), server_default="hotel")
    capacity: Mapped[int] = mapped_column(Integer)
    occupied: Mapped[int] = mapped_column(Integer, server_default="0")
    risk_classes: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    address: Mapped[str | None] = mapped_column(Text)
    geom = mapped_column(Geometry("POINT", srid=SRID, spatial_index=True), nullable=False)


class Address(_Stamped, Base):
    """A standard address (门牌) of the gazetteer, with its parsed components."""

    __tablename__ = "addresses"
    __table_args__ = (
        Index(
            "ix_addresses_normalized_trgm",
            "normalized",
            postgresql_using="gin",
            postgresql_ops={"normalized": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    full_text: Mapped[str] = mapped_column(Text)
    normalized: Mapped[str] = mapped_column(Text)
    county: Mapped[str | None] = mapped_column(Text)
    town: Mapped[str | None] = mapped_column(Text)
    village: Mapped[str | None] = mapped_column(Text, index=True)
    road: Mapped[str | None] = mapped_column(Text)
    number: Mapped[str | None] = mapped_column(Text)
    building: Mapped[str | None] = mapped_column(Text)
    unit: Mapped[str | None] = mapped_column(Text)
    room: Mapped[str | None] = mapped_column(Text)
    geom = mapped_column(Geometry("POINT", srid=SRID, spatial_index=True), nullable=False)


class Road(_Stamped, Base):
    """A road edge between two intersections, with pgRouting topology.

    ``source``/``target`` are node ids shared with the in-memory ``RoadNetwork``;
    ``cost``/``reverse_cost`` are travel times by car in seconds, ``reverse_cost < 0`` for
    one-way edges and both ``< 0`` for edges closed to cars (pgRouting's convention);
    ``car``/``foot`` say which profiles may use the edge (see README, "Road profiles").
    """

    __tablename__ = "roads"
    __table_args__ = (CheckConstraint(_in("road_class", ROAD_CLASSES), name="road_class"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str | None] = mapped_column(Text)
    road_class: Mapped[str] = mapped_column(String(16))
    speed_kmh: Mapped[float] = mapped_column(Float)
    oneway: Mapped[bool] = mapped_column(Boolean, server_default="false")
    bridge: Mapped[bool] = mapped_column(Boolean, server_default="false")
    car: Mapped[bool] = mapped_column(Boolean, server_default="true")
    foot: Mapped[bool] = mapped_column(Boolean, server_default="true")
    length_m: Mapped[float | None] = mapped_column(Float)
    source: Mapped[int | None] = mapped_column(BigInteger, index=True)
    target: Mapped[int | None] = mapped_column(BigInteger, index=True)
    cost: Mapped[float | None] = mapped_column(Float)
    reverse_cost: Mapped[float | None] = mapped_column(Float)
    geom = mapped_column(Geometry("LINESTRING", srid=SRID, spatial_index=True), nullable=False)


class TransferRequest(_Stamped, Base):
    """A household waiting to be moved to isolation (personal data)."""

    __tablename__ = "transfer_requests"
    __table_args__ = (
        CheckConstraint(_in("risk_class", RISK_CLASSES), name="risk_class"),
        CheckConstraint("group_size >= 1", name="group_size"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    contact_name: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(32))
    id_number: Mapped[str | None] = mapped_column(String(32))
    group_size: Mapped[int] = mapped_column(Integer)
    risk_class: Mapped[str] = mapped_column(String(32))
    health_status: Mapped[str | None] = mapped_column(String(16))
    ready_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    address_text: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), server_default="waiting")
    geom = mapped_column(Geometry("POINT", srid=SRID, spatial_index=True), nullable=False)


class Vehicle(_Stamped, Base):
    """A transfer vehicle of the fleet, based at a depot."""

    __tablename__ = "vehicles"
    __table_args__ = (CheckConstraint("seats >= 1", name="seats"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str | None] = mapped_column(Text)
    seats: Mapped[int] = mapped_column(Integer)
    depot_name: Mapped[str | None] = mapped_column(Text)
    risk_classes: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    shift_start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    shift_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    geom = mapped_column(Geometry("POINT", srid=SRID, spatial_index=True), nullable=False)


class Water(_Stamped, Base):
    """Rivers and lakes, drawn on maps for orientation."""

    __tablename__ = "water"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str | None] = mapped_column(Text)
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=True), nullable=False)


class TransportPlanRow(Base):
    """A saved transport plan: its settings, summary, assignment and unserved requests.

    Requests are named by code only; personal data stays in ``transfer_requests``.
    """

    __tablename__ = "transport_plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    day_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    settings: Mapped[dict] = mapped_column(JSONB)  # type: ignore[type-arg]
    summary: Mapped[dict] = mapped_column(JSONB)  # type: ignore[type-arg]
    assignment: Mapped[dict] = mapped_column(JSONB)  # type: ignore[type-arg]
    unserved: Mapped[list] = mapped_column(JSONB)  # type: ignore[type-arg]
    # what the solver was given (points, requests, sites, fleet), to plan it again
    inputs: Mapped[dict] = mapped_column(JSONB, server_default="{}")  # type: ignore[type-arg]
    previous_plan_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("transport_plans.id", ondelete="SET NULL")
    )


class TransportRouteRow(Base):
    """One vehicle's schedule and route geometry in a saved plan."""

    __tablename__ = "transport_routes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("transport_plans.id", ondelete="CASCADE"), index=True
    )
    vehicle_code: Mapped[str] = mapped_column(String(64))
    stops: Mapped[list] = mapped_column(JSONB)  # type: ignore[type-arg]
    km: Mapped[float] = mapped_column(Float)
    geom = mapped_column(Geometry("MULTILINESTRING", srid=SRID, spatial_index=True))


class LayerVersion(Base):
    """A counter per layer, bumped by every write; in-memory caches key on it."""

    __tablename__ = "layer_versions"

    layer: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


LAYER_TABLES: dict[str, type[Base]] = {
    "grids": Grid,
    "grid_workers": GridWorker,
    "checkpoints": Checkpoint,
    "isolation_sites": IsolationSite,
    "addresses": Address,
    "roads": Road,
    "transfer_requests": TransferRequest,
    "vehicles": Vehicle,
    "water": Water,
}

PERSONAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "grid_workers": ("name", "phone"),
    "transfer_requests": ("contact_name", "phone", "id_number", "health_status", "address_text"),
}


ROLES = tuple(role.value for role in Role)


class ApiCredential(Base):
    """An API key: who holds it, their role, and for a grid worker their grid subtree.

    Only a SHA-256 hash of the key's secret is stored (see ``geogrid.db.queries.credentials``).
    A revoked key keeps its row (``revoked_at`` set) so the audit log can still name it.
    """

    __tablename__ = "api_credentials"
    __table_args__ = (
        CheckConstraint(_in("role", ROLES), name="role"),
        CheckConstraint("(role = 'grid_worker') = (grid_code IS NOT NULL)", name="grid_code"),
        Index(
            "uq_api_credentials_active_name",
            "name",
            unique=True,
            postgresql_where="revoked_at IS NULL",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(16))
    grid_code: Mapped[str | None] = mapped_column(
        String(64),
        ForeignKey("grids.code", onupdate="CASCADE", deferrable=True, initially="DEFERRED"),
    )
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


AUDIT_ACTIONS = ("create", "replace", "update", "delete")


class AuditEntry(Base):
    """One write to a layer through the API: who, when, what, and the feature before and
    after (GeoJSON Features in WGS 84; None before a create and after a delete).

    Written in the same transaction as the write it records, so neither exists without
    the other. Personal data never goes in: only public layers are edited through the API.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        CheckConstraint(_in("action", AUDIT_ACTIONS), name="action"),
        Index("ix_audit_log_layer_code", "layer", "code"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor: Mapped[str] = mapped_column(Text)
    role: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(16))
    layer: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict | None] = mapped_column(JSONB)  # type: ignore[type-arg]
    after: Mapped[dict | None] = mapped_column(JSONB)  # type: ignore[type-arg]
    request_id: Mapped[str | None] = mapped_column(String(64))


class AddressCorrection(Base):
    """An operator's correction: an address text (matched after normalisation) that means
    a grid or a standard address. The matcher answers the text with it at once.

    ``text`` may be personal data (it is what someone typed): it is stored here for the
    operators who list corrections, never logged and never copied into the audit log.
    Exactly one of ``grid_code`` and ``address_code`` is set; no foreign key, so a grid
    or address deleted later leaves the correction unused rather than blocking the delete.
    """

    __tablename__ = "address_corrections"
    __table_args__ = (
        CheckConstraint("(grid_code IS NULL) <> (address_code IS NULL)", name="target"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    normalized: Mapped[str] = mapped_column(Text, unique=True)
    grid_code: Mapped[str | None] = mapped_column(String(64))
    address_code: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
