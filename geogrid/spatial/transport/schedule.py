"""Trips and the clock: from an ordered list of trips to a timed vehicle schedule.

With one household per trip, a vehicle's day is a sequence of *trips*: drive to the home,
board (``pickup_s``), drive to the household's site, get off (``drop_s``), disinfect
(``disinfection_s``). Whatever solver orders the trips, the timed stops are computed here,
the same way for every solver, from integer travel times: ``ceil`` of the matrix, so a
schedule is never faster than the roads (rounding up by under a second per leg).

A vehicle waits at the site it last disinfected at and leaves *just in time* to start
boarding when the next household is ready; its start stop likewise leaves just in time
for the first pickup.

Also here: a quick dispatching heuristic (a first schedule and an upper bound on the
last arrival) and lower bounds on the last arrival.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

from geogrid.spatial.transport.model import (
    IsolationSite,
    Stop,
    TransferRequest,
    TransportSettings,
    Vehicle,
    VehicleRoute,
)

__all__ = [
    "UNREACHABLE_S",
    "Trips",
    "VehicleState",
    "dispatch",
    "earliest_arrival",
    "empty_driving_bound",
    "fits_alone",
    "lower_bound",
    "schedule_route",
    "seconds_matrix",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

MATCHING_MAX = 1200
"""Most trips for which :func:`empty_driving_bound` solves the exact matching by default
(measured about 0.15 s for 1,000 trips, 1 s for 1,600)."""

UNREACHABLE_S = 1_000_000_000
"""Integer travel time standing for ``inf``: longer than any shift, small enough for VROOM."""


def seconds_matrix(duration_s: npt.ArrayLike) -> IntArray:
    """Return travel times rounded up to whole seconds, ``inf`` as :data:`UNREACHABLE_S`.

    Examples
    --------
    >>> seconds_matrix([[0.0, 10.2], [np.inf, 0.0]]).tolist()
    [[0, 11], [1000000000, 0]]
    """
    out = np.ceil(np.asarray(duration_s, dtype=float))
    out[~np.isfinite(out) | (out > UNREACHABLE_S)] = UNREACHABLE_S
    return out.astype(np.int64)


@dataclass(frozen=True, eq=False)
class Trips:
    """The households to carry, each with its site, as arrays (one entry per trip)."""

    requests: tuple[TransferRequest, ...]
    sites: tuple[IsolationSite, ...]
    home: IntArray
    dest: IntArray
    ready_s: IntArray
    size: IntArray
    loaded_s: IntArray

    @classmethod
    def build(
        cls,
        requests: Sequence[TransferRequest],
        sites: Sequence[IsolationSite],
        travel_s: IntArray,
    ) -> Trips:
        """Return the trips of ``requests``, the i-th going to ``sites[i]``."""
        home = np.array([r.location for r in requests], dtype=np.int64)
        dest = np.array([s.location for s in sites], dtype=np.int64)
        return cls(
            tuple(requests),
            tuple(sites),
            home,
            dest,
            np.array([r.ready_s for r in requests], dtype=np.int64),
            np.array([r.group_size for r in requests], dtype=np.int64),
            travel_s[home, dest] if len(home) else np.zeros(0, dtype=np.int64),
        )

    def __len__(self) -> int:
        return len(self.requests)

    def subset(self, pick: npt.ArrayLike) -> Trips:
        """Return the trips at positions ``pick``, in that order."""
        at = np.asarray(pick, dtype=np.int64)
        return Trips(
            tuple(self.requests[j] for j in at),
            tuple(self.sites[j] for j in at),
            self.home[at],
            self.dest[at],
            self.ready_s[at],
            self.size[at],
            self.loaded_s[at],
        )


@dataclass(frozen=True)
class VehicleState:
    """Where and from when a vehicle is free for new trips, and its stops so far.

    A fresh vehicle is at its depot from its shift start with no stops; when replanning,
    a vehicle with trips already under way continues from the site of its last fixed
    trip (``prefix`` ends with that trip's disinfection).
    """

    location: int
    free_s: int
    prefix: tuple[Stop, ...] = ()
    prefix_driving_s: int = 0

    @classmethod
    def fresh(cls, vehicle: Vehicle, now_s: int | None = None) -> VehicleState:
        """Return a vehicle at its depot, free from its shift start (or ``now_s``)."""
        start = vehicle.shift_start_s if now_s is None else max(vehicle.shift_start_s, now_s)
        return cls(vehicle.depot, start)


def earliest_arrival(
    trips: Trips, states: Sequence[VehicleState], travel_s: IntArray, settings: TransportSettings
) -> IntArray:
    """Return, per trip and vehicle, the earliest arrival at the site as its first trip."""
    where = np.array([s.location for s in states], dtype=np.int64)
    free = np.array([s.free_s for s in states], dtype=np.int64)
    reach = free[None, :] + travel_s[np.ix_(where, trips.home)].T
    board = np.maximum(reach, trips.ready_s[:, None])
    return board + settings.pickup_s + trips.loaded_s[:, None]


def fits_alone(
    trips: Trips,
    vehicles: Sequence[Vehicle],
    states: Sequence[VehicleState],
    travel_s: IntArray,
    settings: TransportSettings,
) -> tuple[BoolArray, BoolArray]:
    """Return, per trip and vehicle, whether the roads connect and whether it fits the shift.

    The first array says the vehicle can reach the home (and, when it must, get back to
    its depot from the site); the second that the trip, as the vehicle's only new trip,
    ends within its shift.
    """
    where = np.array([s.location for s in states], dtype=np.int64)
    roads = travel_s[np.ix_(where, trips.home)].T < UNREACHABLE_S
    roads &= (trips.loaded_s < UNREACHABLE_S)[:, None]
    finish = earliest_arrival(trips, states, travel_s, settings)
    finish = finish + settings.drop_s + settings.disinfection_s
    if settings.return_to_depot:
        back = travel_s[np.ix_(trips.dest, np.array([v.depot for v in vehicles], dtype=np.int64))]
        roads &= back < UNREACHABLE_S
        finish = finish + back
    shift_end = np.array([v.shift_end_s for v in vehicles], dtype=np.int64)
    return roads, roads & (finish <= shift_end[None, :])


def schedule_route(
    vehicle: Vehicle,
    state: VehicleState,
    order: Sequence[int],
    trips: Trips,
    travel_s: IntArray,
    distance_m: FloatArray | None,
    settings: TransportSettings,
) -> tuple[VehicleRoute, bool]:
    """Return the timed route doing ``order`` (trip positions), and whether it fits the shift.

    The route continues ``state.prefix`` when there is one (new trips leave no earlier
    than ``state.free_s``). Without trips and prefix the route is empty.
    """
    stops = list(state.prefix)
    if not order and not stops:
        return VehicleRoute(vehicle.code), True
    loc, t = state.location, state.free_s if order else stops[-1].departure_s
    driving = state.prefix_driving_s
    dist = stops[-1].distance_m if stops else 0.0
    if not stops:
        stops.append(Stop("start", loc, t, t, dist))

    def leg(a: int, b: int) -> float:
        return math.nan if distance_m is None else float(distance_m[a, b])

    for j in order:
        request, site = trips.requests[j], trips.sites[j]
        home, dest = int(trips.home[j]), int(trips.dest[j])
        on = (request.code, site.code, request.group_size)
        drive = int(travel_s[loc, home])
        board = max(t + drive, int(trips.ready_s[j]))
        stops[-1] = replace(stops[-1], departure_s=board - drive)  # leave just in time
        dist += leg(loc, home)
        stops.append(Stop("pickup", home, board, board + settings.pickup_s, dist, *on))
        arrive = board + settings.pickup_s + int(trips.loaded_s[j])
        dist += leg(home, dest)
        off = arrive + settings.drop_s
        stops.append(Stop("drop", dest, arrive, off, dist, *on))
        t = off + settings.disinfection_s
        stops.append(Stop("disinfect", dest, off, t, dist, *on))
        driving += drive + int(trips.loaded_s[j])
        loc = dest
    if settings.return_to_depot:
        drive = int(travel_s[loc, vehicle.depot])
        dist += leg(loc, vehicle.depot)
        driving += drive
        t, loc = t + drive, vehicle.depot
    stops.append(Stop("end", loc, t, t, dist))
    fits = t <= vehicle.shift_end_s  # an unreachable leg (UNREACHABLE_S) never fits
    return VehicleRoute(vehicle.code, tuple(stops), driving), fits


def dispatch(
    trips: Trips,
    vehicles: Sequence[Vehicle],
    states: Sequence[VehicleState],
    allowed: BoolArray,
    travel_s: IntArray,
    settings: TransportSettings,
) -> list[list[int]]:
    """Return trip orders from a quick dispatching rule (a first plan, not a good one).

    Repeatedly, the vehicle that is free first takes the allowed trip it can start
    boarding soonest (ties: the nearest), if it still fits its shift.
    """
    n, m = len(trips), len(vehicles)
    orders: list[list[int]] = [[] for _ in range(m)]
    left = np.ones(n, dtype=bool)
    where = np.array([s.location for s in states], dtype=np.int64)
    free = np.array([s.free_s for s in states], dtype=np.int64)
    active = np.asarray(allowed.any(axis=0), dtype=bool).copy()
    shift_end = np.array([v.shift_end_s for v in vehicles], dtype=np.int64)
    depot = np.array([v.depot for v in vehicles], dtype=np.int64)
    after = settings.pickup_s + trips.loaded_s + settings.drop_s + settings.disinfection_s
    while left.any() and active.any():
        v = int(np.flatnonzero(active)[np.argmin(free[active])])
        cand = np.flatnonzero(left & allowed[:, v])
        drive = travel_s[where[v], trips.home[cand]]
        board = np.maximum(free[v] + drive, trips.ready_s[cand])
        finish = board + after[cand]
        if settings.return_to_depot:
            finish = finish + travel_s[trips.dest[cand], depot[v]]
        ok = (finish <= shift_end[v]) & (drive < UNREACHABLE_S)
        if not ok.any():
            active[v] = False
            continue
        key = np.where(ok, board * 2**31 + drive, np.iinfo(np.int64).max)
        j = int(cand[np.argmin(key)])
        orders[v].append(j)
        left[j] = False
        free[v] = board[np.argmin(key)] + after[j]
        where[v] = trips.dest[j]
    return orders


def lower_bound(
    trips: Trips,
    states: Sequence[VehicleState],
    allowed: BoolArray,
    travel_s: IntArray,
    settings: TransportSettings,
    matching_max: int = MATCHING_MAX,
) -> int:
    """Return a lower bound on the last arrival of a plan serving every trip.

    The larger of: the latest of the trips' earliest possible arrivals, and the time by
    which the fleet together can have worked through every trip: each trip costs its
    boarding, loaded drive, drop and disinfection, plus the empty drive to its home,
    whose total is at least :func:`empty_driving_bound`; a vehicle's last drop and
    disinfection may fall after the bound.
    """
    if len(trips) == 0:
        return 0
    first = earliest_arrival(trips, states, travel_s, settings)
    single = int(np.where(allowed, first, np.iinfo(np.int64).max).min(axis=1).max())
    service = settings.drop_s + settings.disinfection_s
    work = int((settings.pickup_s + trips.loaded_s + service).sum())
    work += empty_driving_bound(trips, states, travel_s, matching_max)
    free = np.sort(np.array([s.free_s for s in states], dtype=np.int64))
    work -= service * len(free)
    # smallest M with sum(max(0, M - free_v)) >= work
    bound = int(free[0])
    for k in range(1, len(free) + 1):
        bound = math.ceil((work + free[:k].sum()) / k)
        if k == len(free) or bound <= free[k]:
            break
    return max(single, bound)


def empty_driving_bound(
    trips: Trips,
    states: Sequence[VehicleState],
    travel_s: IntArray,
    matching_max: int = MATCHING_MAX,
) -> int:
    """Return a lower bound on the total empty driving of any plan serving every trip.

    In a plan every trip is reached from a different place: the end of another trip or
    a vehicle's start. The cheapest such matching (an assignment problem, solved
    exactly) bounds the empty driving; above ``matching_max`` trips, or if the matching
    needs an unreachable leg, each home's nearest trip end or start is used.
    """
    n = len(trips)
    sources = np.concatenate([trips.dest, [s.location for s in states]]).astype(np.int64)
    cost = travel_s[np.ix_(sources, trips.home)]
    if n <= matching_max:
        cost = cost.copy()
        cost[np.arange(n), np.arange(n)] = UNREACHABLE_S  # not from its own end
        rows, cols = linear_sum_assignment(cost)
        legs = cost[rows, cols]
        if (legs < UNREACHABLE_S).all():
            return int(legs.sum())
    return int(cost.min(axis=0).sum())
