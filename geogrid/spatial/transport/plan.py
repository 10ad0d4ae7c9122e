"""Plan the move to isolation: sites for households, then trips for vehicles.

:func:`plan_transport` checks what no vehicle could ever do (risk class, seats),
assigns households to sites (:func:`~.assign.assign_sites`), works out which vehicle may
do which trip (reachable, fits its shift on its own), routes the vehicles with the chosen
solver (:func:`~.routing.route_vroom` or OR-Tools) within the time budget, and times the
stops (:func:`~.schedule.schedule_route`). :func:`replan` keeps the trips already under
way and plans everything else again.

Every request that is not served comes back with one reason, checked in this order:
``no_vehicle_for_risk_class``, ``no_vehicle_with_enough_seats``,
``no_capacity_for_risk_class`` / ``unreachable`` (no accepting site with room, or none
reachable), ``unreachable`` (no allowed vehicle can drive to it), ``outside_every_shift``
and ``fleet_time_exhausted``.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from geogrid.spatial.transport.assign import assign_sites
from geogrid.spatial.transport.model import (
    IsolationSite,
    Probe,
    Stop,
    TransferRequest,
    TransportInputError,
    TransportPlan,
    TransportSettings,
    Unserved,
    UnservedReason,
    Vehicle,
    VehicleRoute,
)
from geogrid.spatial.transport.routing import route_vroom
from geogrid.spatial.transport.schedule import (
    Trips,
    VehicleState,
    fits_alone,
    schedule_route,
    seconds_matrix,
)
from geogrid.spatial.transport.search import RoutingResult

__all__ = ["plan_transport", "replan"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

ASSIGN_SHARE = 0.25  # at most this share of the time budget goes to the site assignment


def plan_transport(
    requests: Sequence[TransferRequest],
    vehicles: Sequence[Vehicle],
    sites: Sequence[IsolationSite],
    duration_s: npt.ArrayLike,
    distance_m: npt.ArrayLike | None = None,
    settings: TransportSettings | None = None,
) -> TransportPlan:
    """Assign every household to a site and plan the vehicles' trips.

    Parameters
    ----------
    requests
        Households waiting; codes must be unique.
    vehicles
        The fleet.
    sites
        Isolation sites with their capacity and current occupancy.
    duration_s
        ``(n, n)`` travel times between locations, seconds, ``inf`` where unreachable;
        may be asymmetric. Rounded up to whole seconds.
    distance_m
        ``(n, n)`` road distances, for the stops' cumulative distance (NaN without it).
    settings
        Service times, solver and time budget.

    Returns
    -------
    TransportPlan
        Routes for every vehicle (empty when unused), the site of every served household
        and the unserved with their reasons.

    Examples
    --------
    One household of three, one minibus, one hotel, on a line of three places:

    >>> t = np.array([[0.0, 600, 300], [600, 0, 900], [300, 900, 0]])
    >>> plan = plan_transport(
    ...     [TransferRequest("h1", 1, 3, "close_contact", ready_s=0)],
    ...     [Vehicle("car", seats=4, depot=0, shift_start_s=0, shift_end_s=8 * 3600)],
    ...     [IsolationSite("hotel", 2, capacity=10)],
    ...     t,
    ... )
    >>> [(s.kind, s.location, s.arrival_s, s.departure_s) for s in plan.routes[0].stops]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('start', 0, 0, 0), ('pickup', 1, 600, 720), ('drop', 2, 1620, 1740),
     ('disinfect', 2, 1740, 2640), ('end', 2, 2640, 2640)]
    >>> plan.all_moved_by_s, plan.summary().people_moved
    (1620, 3)
    """
    started = time.perf_counter()
    settings = settings or TransportSettings()
    requests, vehicles, sites = tuple(requests), tuple(vehicles), tuple(sites)
    duration, distance = _check(requests, vehicles, sites, duration_s, distance_m)
    states = [VehicleState.fresh(v) for v in vehicles]
    part = _plan(requests, vehicles, sites, states, duration, distance, settings, started)
    return TransportPlan(
        routes=part.routes,
        assignment=part.assignment,
        unserved=part.unserved,
        requests=requests,
        vehicles=vehicles,
        sites=sites,
        settings=settings,
        solve_s=time.perf_counter() - started,
        probes=part.probes,
    )


def replan(
    previous: TransportPlan,
    now_s: int,
    new_requests: Sequence[TransferRequest] = (),
    *,
    duration_s: npt.ArrayLike,
    distance_m: npt.ArrayLike | None = None,
    vehicles: Sequence[Vehicle] | None = None,
    sites: Sequence[IsolationSite] | None = None,
    settings: TransportSettings | None = None,
) -> TransportPlan:
    """Plan again at ``now_s``, keeping the trips already under way.

    A trip is under way once its vehicle has left for the pickup (so every trip whose
    boarding has started, and those the vehicle is driving to: a vehicle between two
    places cannot be restarted from a matrix location). Those trips are kept as they
    were; their vehicle continues from the site of its last one when that disinfection
    ends, or from ``now_s`` if later. Other vehicles start from their depot at ``now_s``
    (or their shift start). Every other household of ``previous`` (served or not) and
    every new request is assigned and routed again.

    Parameters
    ----------
    previous
        The plan being carried out.
    now_s
        The time of replanning, seconds from the same day start.
    new_requests
        Households to add; one with the code of an earlier request replaces it (unless
        that request's trip is under way).
    duration_s, distance_m
        Matrices over all locations; the previous plan's location indices must still
        mean the same places (append new locations at the end).
    vehicles
        The fleet now (default: the previous one); a vehicle with trips under way must
        stay in it (end its shift at ``now_s`` to give it no new trips).
    sites
        The sites with their occupancy *before* any household of ``previous`` (default:
        the previous plan's); households of trips under way are added to it here.
    settings
        Default: the previous plan's.

    Returns
    -------
    TransportPlan
        The whole day: kept trips and new ones.
    """
    started = time.perf_counter()
    settings = settings or previous.settings
    fleet = tuple(vehicles) if vehicles is not None else previous.vehicles
    base_sites = tuple(sites) if sites is not None else previous.sites
    merged = {r.code: r for r in previous.requests} | {r.code: r for r in new_requests}
    everyone = tuple(merged.values())
    duration, distance = _check(everyone, fleet, base_sites, duration_s, distance_m)
    travel = seconds_matrix(duration)

    routes = {r.vehicle: r for r in previous.routes}
    states: list[VehicleState] = []
    kept: dict[str, str] = {}
    for vehicle in fleet:
        prefix = _under_way(routes.pop(vehicle.code, VehicleRoute(vehicle.code)), now_s)
        if not prefix:
            states.append(VehicleState.fresh(vehicle, now_s))
            continue
        done = prefix[-1].arrival_s + previous.settings.disinfection_s
        prefix = (*prefix[:-1], replace(prefix[-1], departure_s=done))
        driving = sum(int(travel[a.location, b.location]) for a, b in itertools.pairwise(prefix))
        states.append(VehicleState(prefix[-1].location, max(done, now_s), prefix, driving))
        kept |= {str(s.request): str(s.site) for s in prefix if s.kind == "pickup"}
    for route in routes.values():
        if _under_way(route, now_s):
            raise TransportInputError(f"vehicle {route.vehicle} has trips under way; keep it")

    size = {r.code: r.group_size for r in everyone}
    taken = Counter[str]()
    for code, site in kept.items():
        taken[site] += size[code]
    left_sites = tuple(replace(s, occupied=s.occupied + taken[s.code]) for s in base_sites)
    rest = tuple(r for r in everyone if r.code not in kept)
    part = _plan(rest, fleet, left_sites, states, duration, distance, settings, started)
    return TransportPlan(
        routes=part.routes,
        assignment={**kept, **part.assignment},
        unserved=part.unserved,
        requests=everyone,
        vehicles=fleet,
        sites=base_sites,
        settings=settings,
        solve_s=time.perf_counter() - started,
        probes=part.probes,
    )


@dataclass(frozen=True)
class _Part:
    routes: tuple[VehicleRoute, ...]
    assignment: Mapping[str, str]
    unserved: tuple[Unserved, ...]
    probes: tuple[Probe, ...]


def _plan(
    requests: tuple[TransferRequest, ...],
    vehicles: tuple[Vehicle, ...],
    sites: tuple[IsolationSite, ...],
    states: list[VehicleState],
    duration: FloatArray,
    distance: FloatArray | None,
    settings: TransportSettings,
    started: float,
) -> _Part:
    """Assign, route and time ``requests`` with vehicles free as ``states`` say."""
    deadline_at = started + settings.time_budget_s
    travel = seconds_matrix(duration)
    reasons: dict[str, UnservedReason] = {}
    for r in requests:
        classes = [v for v in vehicles if r.risk_class in v.risk_classes]
        if not classes:
            reasons[r.code] = "no_vehicle_for_risk_class"
        elif all(v.seats < r.group_size for v in classes):
            reasons[r.code] = "no_vehicle_with_enough_seats"
    placeable = [r for r in requests if r.code not in reasons]
    limit = max(settings.time_budget_s * ASSIGN_SHARE - (time.perf_counter() - started), 0.05)
    placed = assign_sites(placeable, sites, duration, time_limit_s=limit)
    for r, why in zip(placeable, placed.reason, strict=True):
        if why is not None:
            reasons[r.code] = why
    chosen = [(r, sites[k]) for r, k in zip(placeable, placed.site, strict=True) if k >= 0]
    trips = Trips.build([r for r, _ in chosen], [s for _, s in chosen], travel)

    fit = np.array(
        [
            [r.risk_class in v.risk_classes and v.seats >= r.group_size for v in vehicles]
            for r in trips.requests
        ],
        dtype=bool,
    ).reshape(len(trips), len(vehicles))
    roads, alone = fits_alone(trips, vehicles, states, travel, settings)
    allowed = fit & alone
    for j, r in enumerate(trips.requests):
        if not (fit[j] & roads[j]).any():
            reasons[r.code] = "unreachable"
        elif not allowed[j].any():
            reasons[r.code] = "outside_every_shift"
    go = np.flatnonzero(allowed.any(axis=1))
    sub = Trips.build([trips.requests[j] for j in go], [trips.sites[j] for j in go], travel)
    result = _route(sub, vehicles, states, allowed[go], travel, settings, deadline_at)

    routes: list[VehicleRoute] = []
    assignment: dict[str, str] = {}
    for v, solved in enumerate(result.orders):
        order = list(solved)
        while True:
            route, fits = schedule_route(
                vehicles[v], states[v], order, sub, travel, distance, settings
            )
            if fits or not order:
                break
            order.pop()  # never expected: the solver broke a shift; drop the last trip
        routes.append(route)
        assignment |= {sub.requests[j].code: sub.sites[j].code for j in order}
    for r in sub.requests:
        if r.code not in assignment:
            reasons[r.code] = "fleet_time_exhausted"
    unserved = tuple(Unserved(r.code, reasons[r.code]) for r in requests if r.code in reasons)
    return _Part(tuple(routes), assignment, unserved, result.probes)


def _route(
    trips: Trips,
    vehicles: Sequence[Vehicle],
    states: Sequence[VehicleState],
    allowed: npt.NDArray[np.bool_],
    travel: IntArray,
    settings: TransportSettings,
    deadline_at: float,
) -> RoutingResult:
    """Return trip orders from the chosen solver (OR-Tools is imported only when chosen)."""
    if len(trips) == 0:
        return RoutingResult([[] for _ in vehicles], ())
    if settings.solver == "ortools":
        from geogrid.spatial.transport._ortools import route_ortools

        return route_ortools(trips, vehicles, states, allowed, travel, settings, deadline_at)
    return route_vroom(trips, vehicles, states, allowed, travel, settings, deadline_at)


def _under_way(route: VehicleRoute, now_s: int) -> tuple[Stop, ...]:
    """Return the stops of ``route`` up to the disinfection of its last trip under way."""
    stops, keep = route.stops, 0
    for k, stop in enumerate(stops):
        if stop.kind == "pickup" and stops[k - 1].departure_s <= now_s:
            keep = k + 3  # pickup, drop, disinfect
    return stops[:keep]


def _check(
    requests: tuple[TransferRequest, ...],
    vehicles: tuple[Vehicle, ...],
    sites: tuple[IsolationSite, ...],
    duration_s: npt.ArrayLike,
    distance_m: npt.ArrayLike | None,
) -> tuple[FloatArray, FloatArray | None]:
    """Return the matrices as float arrays after checking shapes, indices and codes."""
    duration = np.asarray(duration_s, dtype=float)
    if duration.ndim != 2 or duration.shape[0] != duration.shape[1]:
        raise TransportInputError("duration_s must be a square matrix")
    if np.isnan(duration).any() or (duration < 0).any():
        raise TransportInputError("duration_s must hold non-negative times or inf")
    distance = None if distance_m is None else np.asarray(distance_m, dtype=float)
    if distance is not None and distance.shape != duration.shape:
        raise TransportInputError("distance_m must have the shape of duration_s")
    n = duration.shape[0]
    places = [r.location for r in requests] + [s.location for s in sites]
    places += [v.depot for v in vehicles]
    if any(not 0 <= p < n for p in places):
        raise TransportInputError(f"a location index is outside the {n}x{n} matrix")
    for what, codes in (
        ("request", [r.code for r in requests]),
        ("vehicle", [v.code for v in vehicles]),
        ("site", [s.code for s in sites]),
    ):
        twice = [c for c, k in Counter(codes).items() if k > 1]
        if twice:
            raise TransportInputError(f"duplicate {what} codes: {sorted(twice)[:5]}")
    return duration, distance
