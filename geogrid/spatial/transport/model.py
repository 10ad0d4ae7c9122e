"""Inputs and outputs of transport planning: requests, sites, vehicles, settings, plans.

Every place is a *location index*: a row (and column) of the travel-time matrix
``duration_s`` and of the distance matrix ``distance_m`` the caller builds on the road
network (household pickups, isolation sites, depots, in any order). Times are integer
seconds from a day start chosen by the caller, who converts datetimes at the edge.

Personal data (names, phones, identity numbers, health status, address text) never
enters this package: a request is a code, a location, a group size, a risk class and a
ready time.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from geogrid.errors import InvalidRequestError

__all__ = [
    "RISK_CLASSES",
    "UNSERVED_REASONS",
    "IsolationSite",
    "PlanSummary",
    "Probe",
    "RiskClass",
    "Stop",
    "StopKind",
    "TransferRequest",
    "TransportInputError",
    "TransportPlan",
    "TransportSettings",
    "Unserved",
    "UnservedReason",
    "Vehicle",
    "VehicleRoute",
]

RiskClass = Literal["close_contact", "secondary_contact", "returnee"]
RISK_CLASSES: tuple[str, ...] = ("close_contact", "secondary_contact", "returnee")

StopKind = Literal["start", "pickup", "drop", "disinfect", "end"]

UnservedReason = Literal[
    "no_capacity_for_risk_class",
    "unreachable",
    "no_vehicle_for_risk_class",
    "no_vehicle_with_enough_seats",
    "outside_every_shift",
    "fleet_time_exhausted",
]
UNSERVED_REASONS: tuple[str, ...] = (
    "no_capacity_for_risk_class",  # every accepting site is full (counted in persons)
    "unreachable",  # no road path to an accepting site, or from any usable vehicle
    "no_vehicle_for_risk_class",  # no vehicle may carry this risk class
    "no_vehicle_with_enough_seats",  # vehicles for the class exist, all too small
    "outside_every_shift",  # no usable vehicle could do this trip alone within its shift
    "fleet_time_exhausted",  # feasible alone, but the fleet's shifts are full
)


class TransportInputError(InvalidRequestError):
    """Transport planning input that cannot be used (bad size, class, time or index)."""

    code = "transport_input"


def _risk_set(values: Iterable[str], what: str) -> frozenset[str]:
    out = frozenset(values)
    unknown = out - set(RISK_CLASSES)
    if unknown:
        raise TransportInputError(
            f"{what}: unknown risk class {sorted(unknown)}; expected one of {RISK_CLASSES}"
        )
    return out


@dataclass(frozen=True)
class TransferRequest:
    """One household waiting to be moved to isolation.

    Attributes
    ----------
    code
        Identifier of the request (the ``transfer_requests`` row's code).
    location
        Location index of the pickup point (the home, snapped to the road).
    group_size
        People in the household (at least 1); a household always travels together.
    risk_class
        One of :data:`RISK_CLASSES`.
    ready_s
        Earliest pickup time, seconds from the day start.
    """

    code: str
    location: int
    group_size: int
    risk_class: str
    ready_s: int = 0

    def __post_init__(self) -> None:
        if self.group_size < 1:
            raise TransportInputError(f"request {self.code}: group_size must be at least 1")
        _risk_set([self.risk_class], f"request {self.code}")


@dataclass(frozen=True)
class IsolationSite:
    """A centralized isolation site: capacity in persons and the risk classes it takes."""

    code: str
    location: int
    capacity: int
    occupied: int = 0
    risk_classes: frozenset[str] = frozenset(RISK_CLASSES)

    def __post_init__(self) -> None:
        object.__setattr__(self, "risk_classes", _risk_set(self.risk_classes, self.code))
        if self.capacity < 0 or self.occupied < 0:
            raise TransportInputError(f"site {self.code}: negative capacity or occupancy")

    @property
    def remaining(self) -> int:
        """Return the persons the site can still take (never negative)."""
        return max(self.capacity - self.occupied, 0)


@dataclass(frozen=True)
class Vehicle:
    """A transfer vehicle: seats, depot, shift and the risk classes it may carry.

    The shift bounds all of the vehicle's work: it leaves its depot at or after
    ``shift_start_s`` and finishes the disinfection after its last drop (and its drive
    back to the depot, when :attr:`TransportSettings.return_to_depot`) by ``shift_end_s``.
    """

    code: str
    seats: int
    depot: int
    shift_start_s: int
    shift_end_s: int
    risk_classes: frozenset[str] = frozenset(RISK_CLASSES)

    def __post_init__(self) -> None:
        object.__setattr__(self, "risk_classes", _risk_set(self.risk_classes, self.code))
        if self.seats < 1:
            raise TransportInputError(f"vehicle {self.code}: seats must be at least 1")
        if self.shift_end_s < self.shift_start_s:
            raise TransportInputError(f"vehicle {self.code}: shift ends before it starts")


@dataclass(frozen=True)
class TransportSettings:
    """Service times, solver choice and effort.

    Attributes
    ----------
    pickup_s
        Boarding time at the home.
    drop_s
        Getting off at the site.
    disinfection_s
        Disinfecting the vehicle at the site after every drop, before the next trip.
    return_to_depot
        End every used vehicle's route at its depot (the drive back counts in its
        shift). When false, a route ends where its last disinfection ends.
    time_budget_s
        Wall-clock budget of a whole :func:`~geogrid.spatial.transport.plan_transport`
        call (assignment, solver and schedule); kept to within a fraction of a second.
    solver
        ``"vroom"`` (default) or ``"ortools"``.
    exploration_level
        VROOM search effort, 0 (fastest) to 5. Every call is seeded with the best plan so
        far and cut off by the time left, and 5 gave the best plans within the budget in
        ``benchmarks/transport.py`` (400 people: the same last arrival as 120 s runs in
        about 6 s).
    threads
        Solver threads.
    makespan_tolerance
        Stop asking the solver for an earlier last arrival once the step is smaller than
        this share of it (see :mod:`geogrid.spatial.transport.search`).
    """

    pickup_s: int = 120
    drop_s: int = 120
    disinfection_s: int = 900
    return_to_depot: bool = False
    time_budget_s: float = 10.0
    solver: Literal["vroom", "ortools"] = "vroom"
    exploration_level: int = 5
    threads: int = 2
    makespan_tolerance: float = 0.005

    def __post_init__(self) -> None:
        if min(self.pickup_s, self.drop_s, self.disinfection_s) < 0:
            raise TransportInputError("service and disinfection times must not be negative")
        if not self.time_budget_s > 0:
            raise TransportInputError("time_budget_s must be positive")
        if self.solver not in ("vroom", "ortools"):
            raise TransportInputError(f"unknown solver {self.solver!r}")


@dataclass(frozen=True)
class Stop:
    """One step of a vehicle's day.

    Attributes
    ----------
    kind
        ``start`` (leaving the depot), ``pickup``, ``drop``, ``disinfect`` or ``end``.
    location
        Location index; the caller turns consecutive pairs into route geometry.
    arrival_s, departure_s
        When the vehicle arrives (for ``pickup``, when boarding starts: the vehicle is
        scheduled to arrive just in time) and when it leaves, seconds from the day start.
    distance_m
        Distance driven since the route start (NaN without a distance matrix).
    request, site
        Code of the household and of its site (``None`` for start and end).
    group_size
        People of the household concerned (0 for start and end).
    """

    kind: StopKind
    location: int
    arrival_s: int
    departure_s: int
    distance_m: float
    request: str | None = None
    site: str | None = None
    group_size: int = 0


@dataclass(frozen=True)
class VehicleRoute:
    """A vehicle's ordered stops; empty when the vehicle is not used."""

    vehicle: str
    stops: tuple[Stop, ...] = ()
    driving_s: int = 0

    @property
    def trips(self) -> int:
        """Return the number of households carried."""
        return sum(stop.kind == "pickup" for stop in self.stops)

    @property
    def start_s(self) -> int | None:
        """Return when the vehicle leaves its start, or ``None`` when unused."""
        return self.stops[0].departure_s if self.stops else None

    @property
    def end_s(self) -> int | None:
        """Return when the route ends, or ``None`` when unused."""
        return self.stops[-1].arrival_s if self.stops else None

    @property
    def distance_m(self) -> float:
        """Return the distance driven (0 when unused)."""
        return self.stops[-1].distance_m if self.stops else 0.0


@dataclass(frozen=True)
class Unserved:
    """A request the plan does not serve, and why (one of :data:`UNSERVED_REASONS`)."""

    request: str
    reason: UnservedReason


@dataclass(frozen=True)
class Probe:
    """One solver call of the makespan search, kept for measurement.

    ``deadline_s`` is the latest arrival asked for (``None``: none), ``makespan_s`` the
    last arrival of the answer (``None`` when it left requests out), ``wall_s`` its time.
    """

    deadline_s: int | None
    makespan_s: int | None
    wall_s: float


@dataclass(frozen=True)
class PlanSummary:
    """Headline figures of a plan.

    ``all_moved_by_s`` is the last arrival of a household at its site (``None`` when
    nobody is moved); ``vehicle_hours`` counts used vehicles from leaving the start to the
    route end, waiting included.
    """

    households_moved: int
    people_moved: int
    all_moved_by_s: int | None
    vehicles_used: int
    vehicle_hours: float
    driving_hours: float
    km_driven: float
    unserved: Mapping[str, int]
    solve_s: float


@dataclass(frozen=True)
class TransportPlan:
    """Routes, the site of every served household, the unserved, and the inputs.

    The inputs are kept so that :func:`~geogrid.spatial.transport.replan` can continue
    from the plan.
    """

    routes: tuple[VehicleRoute, ...]
    assignment: Mapping[str, str]
    unserved: tuple[Unserved, ...]
    requests: tuple[TransferRequest, ...]
    vehicles: tuple[Vehicle, ...]
    sites: tuple[IsolationSite, ...]
    settings: TransportSettings
    solve_s: float = 0.0
    probes: tuple[Probe, ...] = field(default=(), repr=False)

    @property
    def all_moved_by_s(self) -> int | None:
        """Return the last arrival of a household at its site (``None``: nobody moved)."""
        drops = [s.arrival_s for r in self.routes for s in r.stops if s.kind == "drop"]
        return max(drops) if drops else None

    def summary(self) -> PlanSummary:
        """Return the headline figures."""
        used = [r for r in self.routes if r.trips]
        sizes = {r.code: r.group_size for r in self.requests}
        distance = sum(r.distance_m for r in used)
        return PlanSummary(
            households_moved=len(self.assignment),
            people_moved=sum(sizes[c] for c in self.assignment),
            all_moved_by_s=self.all_moved_by_s,
            vehicles_used=len(used),
            vehicle_hours=sum((r.end_s or 0) - (r.start_s or 0) for r in used) / 3600,
            driving_hours=sum(r.driving_s for r in used) / 3600,
            km_driven=distance / 1000 if not math.isnan(distance) else math.nan,
            unserved=dict(Counter(u.reason for u in self.unserved)),
            solve_s=self.solve_s,
        )

    def stops_frame(self) -> pd.DataFrame:
        """Return every stop as a row, with a ``vehicle`` and a ``seq`` column."""
        rows: list[dict[str, Any]] = []
        for route in self.routes:
            for seq, stop in enumerate(route.stops):
                rows.append({"vehicle": route.vehicle, "seq": seq, **stop.__dict__})
        columns = ["vehicle", "seq", *Stop.__dataclass_fields__]
        return pd.DataFrame(rows, columns=columns)
