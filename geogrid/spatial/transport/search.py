"""Shorten the last arrival with a cost-minimising solver: deadlines, seeds and repair.

VROOM minimises cost (here the empty driving between trips; loaded driving is fixed
once sites are assigned), which tends to give few vehicles long days. To minimise the
time the last household arrives (the *makespan*), every solver call asks for a deadline
``D`` (trip ``j`` must start boarding by ``D - pickup_s - loaded_j``) and the deadline is
squeezed down from the best plan found:

- a quick dispatching rule (:func:`~.schedule.dispatch`) gives the first plan, its last
  arrival the upper bound ``hi``; :func:`~.schedule.lower_bound` gives ``lo``;
- each call asks for ``D = hi - step`` (at first halfway to ``lo``), starting from the
  best plan without the trips that would miss ``D`` (:func:`trim_to_deadline`);
- an answer serving every trip becomes the best plan (``hi`` = its own last arrival);
  an answer that leaves trips out gets them inserted where they delay the last arrival
  least (:func:`insert_missing`), kept if that beats ``hi``, and ``step`` is halved;
- when ``step`` falls below ``makespan_tolerance * hi``, a local search on the makespan
  itself (:func:`polish`) improves the best plan; if that shortens the last arrival and
  time is left, the squeeze starts again from the polished plan.

Last, one more call with the deadline at the best last arrival, seeded with the best
plan, lets the solver cut the empty driving (its own objective) without delaying
anyone. A fifth of the time is kept for the local search and that call; the whole stays
within the time budget.

A failure does not raise ``lo``: the solver is a heuristic, and a missed deadline only
says it found no plan, not that none exists.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from geogrid.spatial.transport.model import Probe, TransportSettings, Vehicle
from geogrid.spatial.transport.schedule import Trips, VehicleState, dispatch, lower_bound

__all__ = [
    "Orders",
    "RoutingResult",
    "insert_missing",
    "makespan_of",
    "polish",
    "search_makespan",
    "trim_to_deadline",
]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
Orders = list[list[int]]
Solve = Callable[[int | None, float, Orders | None], Orders]

SAFETY_S = 0.05  # kept back from the budget to build the final schedule
POLISH_SHARE = 0.2  # of the time, kept for the local search and the last solver call


@dataclass(frozen=True)
class RoutingResult:
    """Trip order per vehicle (positions in ``trips``) and the solver calls made."""

    orders: Orders
    probes: tuple[Probe, ...]


class _Clock:
    """Times routes of trips the way :func:`~.schedule.schedule_route` does, quickly."""

    def __init__(
        self,
        trips: Trips,
        vehicles: Sequence[Vehicle],
        states: Sequence[VehicleState],
        travel_s: IntArray,
        settings: TransportSettings,
    ) -> None:
        self.trips, self.vehicles, self.states = trips, vehicles, states
        self.travel, self.settings = travel_s, settings
        self.home, self.dest = trips.home.tolist(), trips.dest.tolist()
        self.ready = trips.ready_s.tolist()
        self.into = (settings.pickup_s + trips.loaded_s).tolist()
        self.after = settings.drop_s + settings.disinfection_s
        fixed = [s.arrival_s for state in states for s in state.prefix if s.kind == "drop"]
        self.fixed = max(fixed, default=0)  # replanning: trips under way

    def route(self, v: int, order: Sequence[int]) -> tuple[int, bool, int]:
        """Return vehicle ``v``'s last arrival doing ``order``, if it fits, its empty driving."""
        vehicle, state = self.vehicles[v], self.states[v]
        here, clock, last, empty = state.location, state.free_s, 0, 0
        for j in order:
            drive = int(self.travel[here, self.home[j]])
            board = max(clock + drive, self.ready[j])
            last, empty = board + self.into[j], empty + drive
            clock, here = last + self.after, self.dest[j]
        if self.settings.return_to_depot and order:
            back = int(self.travel[here, vehicle.depot])
            clock, empty = clock + back, empty + back
        return last, clock <= vehicle.shift_end_s, empty

    def driving(self, orders: Orders) -> int:
        """Return the empty driving of ``orders``."""
        return sum(self.route(v, order)[2] for v, order in enumerate(orders) if order)

    def makespan(self, orders: Orders) -> int | None:
        """Return the last arrival of ``orders``, or ``None`` when a route breaks its shift."""
        last = self.fixed
        for v, order in enumerate(orders):
            if order:
                arrive, fits, _ = self.route(v, order)
                if not fits:
                    return None
                last = max(last, arrive)
        return last


def makespan_of(
    orders: Orders,
    trips: Trips,
    vehicles: Sequence[Vehicle],
    states: Sequence[VehicleState],
    travel_s: IntArray,
    settings: TransportSettings,
) -> int | None:
    """Return the last arrival of ``orders``, or ``None`` when a route breaks its shift."""
    return _Clock(trips, vehicles, states, travel_s, settings).makespan(orders)


def trim_to_deadline(
    orders: Orders,
    deadline_s: int | None,
    trips: Trips,
    vehicles: Sequence[Vehicle],
    states: Sequence[VehicleState],
    travel_s: IntArray,
    settings: TransportSettings,
) -> Orders:
    """Return ``orders`` without the trips that would arrive after ``deadline_s``.

    Each route is walked in order and a trip kept only if, after the trips kept before
    it, it arrives by the deadline and the vehicle can still end its shift in time: a
    feasible start for a search with that deadline.
    """
    clock = _Clock(trips, vehicles, states, travel_s, settings)
    limit = np.iinfo(np.int64).max if deadline_s is None else deadline_s
    out: Orders = []
    for v, order in enumerate(orders):
        kept: list[int] = []
        for j in order:
            arrive, fits, _ = clock.route(v, [*kept, j])
            if arrive <= limit and fits:
                kept.append(j)
        out.append(kept)
    return out


def insert_missing(
    orders: Orders,
    allowed: BoolArray,
    trips: Trips,
    vehicles: Sequence[Vehicle],
    states: Sequence[VehicleState],
    travel_s: IntArray,
    settings: TransportSettings,
) -> Orders | None:
    """Return ``orders`` with every missing trip inserted, or ``None`` if one fits nowhere.

    Longest trips first, each where it makes its route's last arrival earliest (ties:
    least added time), among allowed vehicles whose shift still holds.
    """
    clock = _Clock(trips, vehicles, states, travel_s, settings)
    out = [list(o) for o in orders]
    served = {j for o in out for j in o}
    missing = sorted(set(range(len(trips))) - served, key=lambda j: -clock.into[j])
    spans = [clock.route(v, o)[0] if o else 0 for v, o in enumerate(out)]
    for j in missing:
        best: tuple[int, int, int, int] | None = None
        for v in np.flatnonzero(allowed[j]).tolist():
            for at in range(len(out[v]) + 1):
                arrive, fits, _ = clock.route(v, [*out[v][:at], j, *out[v][at:]])
                if fits and (best is None or (arrive, arrive - spans[v]) < best[:2]):
                    best = (arrive, arrive - spans[v], v, at)
        if best is None:
            return None
        _, _, v, at = best
        out[v].insert(at, j)
        spans[v] = best[0]
    return out


def search_makespan(
    solve: Solve,
    trips: Trips,
    vehicles: Sequence[Vehicle],
    states: Sequence[VehicleState],
    allowed: BoolArray,
    travel_s: IntArray,
    settings: TransportSettings,
    deadline_at: float,
) -> RoutingResult:
    """Squeeze the last arrival with ``solve(deadline_s, timeout_s, seed) -> orders``.

    See the module notes. Serves as many trips as the first plan (the dispatching rule,
    or an unconstrained ``solve`` when that rule leaves trips out and the solver serves
    more); ``deadline_at`` is a :func:`time.perf_counter` value.
    """
    clock = _Clock(trips, vehicles, states, travel_s, settings)
    probes: list[Probe] = []

    def left() -> float:
        return deadline_at - time.perf_counter() - SAFETY_S

    def probe(deadline_s: int | None, seed: Orders) -> tuple[Orders, bool, int | None]:
        started = time.perf_counter()
        orders = solve(deadline_s, max(left(), 0.01), seed)
        full = sum(len(o) for o in orders) == len(trips)
        makespan = clock.makespan(orders)
        probes.append(Probe(deadline_s, makespan if full else None, time.perf_counter() - started))
        return orders, full, makespan

    best = dispatch(trips, vehicles, states, allowed, travel_s, settings)
    served, hi = sum(len(o) for o in best), clock.makespan(best)
    if (served < len(trips) or hi is None) and left() > 0:
        orders, full, makespan = probe(
            None, trim_to_deadline(best, None, trips, vehicles, states, travel_s, settings)
        )
        got = sum(len(o) for o in orders)
        if makespan is not None and got > served:
            best, served, hi = orders, got, makespan
    if hi is None or served < len(trips):
        return RoutingResult(best, tuple(probes))  # plan.py reports the trips left out
    lo = max(lower_bound(trips, states, allowed, travel_s, settings), clock.fixed)
    reserve = POLISH_SHARE * left()
    tolerance = max(settings.makespan_tolerance * hi, 1)
    while True:  # squeeze, polish, and squeeze again from the polished plan if it is better
        step = (hi - lo) / 2
        while step >= tolerance and left() - reserve > _too_short(probes):
            deadline = int(hi - step)
            seed = trim_to_deadline(best, deadline, trips, vehicles, states, travel_s, settings)
            orders, full, makespan = probe(deadline, seed)
            met = full and makespan is not None and makespan <= deadline
            if not full:  # a complete plan only: insert the trips the solver left out
                repaired = None
                if _few_missing(orders, len(trips)):
                    repaired = insert_missing(
                        orders, allowed, trips, vehicles, states, travel_s, settings
                    )
                orders = repaired or []
                makespan = None if repaired is None else clock.makespan(repaired)
            if makespan is not None and makespan < hi:
                best, hi = orders, makespan
                step = min(step, (hi - lo) / 2)
            if not met:
                step /= 2
        best = polish(
            best, allowed, trips, vehicles, states, travel_s, settings, deadline_at - SAFETY_S
        )
        polished = clock.makespan(best)
        if polished is None or polished >= hi:
            break
        hi = polished
        if left() - reserve <= _too_short(probes):
            break
    if left() > _too_short(probes):  # least empty driving for the best last arrival
        seed = trim_to_deadline(best, hi, trips, vehicles, states, travel_s, settings)
        orders, full, makespan = probe(hi, seed)
        on_time = full and makespan is not None and makespan <= hi
        if on_time and clock.driving(orders) < clock.driving(best):
            best = orders
    return RoutingResult(best, tuple(probes))


def polish(
    orders: Orders,
    allowed: BoolArray,
    trips: Trips,
    vehicles: Sequence[Vehicle],
    states: Sequence[VehicleState],
    travel_s: IntArray,
    settings: TransportSettings,
    deadline_at: float,
) -> Orders:
    """Return ``orders`` improved by moving and swapping trips of the latest routes.

    A local search on the objective itself: (last arrival, number of routes reaching
    it, empty driving), lexicographically. Moves: put a trip of a latest route anywhere
    else (its own route included), or swap it with a trip of another route. The first
    improving move is made, until none improves or ``deadline_at``.
    """
    clock = _Clock(trips, vehicles, states, travel_s, settings)
    out = [list(o) for o in orders]
    timed = [clock.route(v, o) if o else (0, True, 0) for v, o in enumerate(out)]
    span = [t[0] for t in timed]
    empty = [t[2] for t in timed]

    def key(changed: dict[int, tuple[int, int]]) -> tuple[int, int, int]:
        spans = [changed[v][0] if v in changed else span[v] for v in range(len(out))]
        top = max(spans, default=0)
        driving = sum(changed[v][1] if v in changed else empty[v] for v in range(len(out)))
        return top, spans.count(top), driving

    def attempt(changed: dict[int, list[int]]) -> bool:
        timings = {v: clock.route(v, o) if o else (0, True, 0) for v, o in changed.items()}
        if not all(t[1] for t in timings.values()):
            return False
        if key({v: (t[0], t[2]) for v, t in timings.items()}) >= current:
            return False
        for v, o in changed.items():
            out[v], span[v], empty[v] = o, timings[v][0], timings[v][2]
        return True

    def moves(c: int) -> Iterator[dict[int, list[int]]]:
        """Yield the neighbours of route ``c``: segments of 1-2 trips moved or swapped."""
        route = out[c]
        for a, i in itertools.product((1, 2), range(len(route))):
            seg, rest = route[i : i + a], route[:i] + route[i + a :]
            if len(seg) < a:
                continue
            for at in range(len(rest) + 1):  # elsewhere in its own route
                if at != i:
                    yield {c: [*rest[:at], *seg, *rest[at:]]}
            fit = allowed[seg].all(axis=0)
            for v in np.flatnonzero(fit).tolist():
                if v == c:
                    continue
                other = out[v]
                for b, k in itertools.product((0, 1, 2), range(len(other) + 1)):
                    back = other[k : k + b]
                    if len(back) < b or (b and not allowed[back, c].all()):
                        continue
                    yield {c: [*rest[:i], *back, *rest[i:]], v: [*other[:k], *seg, *other[k + b :]]}

    improved = True
    while improved and time.perf_counter() < deadline_at:
        improved = False
        current = key({})
        for c in [v for v in range(len(out)) if span[v] == current[0] and out[v]]:
            for count, change in enumerate(moves(c)):
                if attempt(change):
                    improved = True
                    break
                if count % 64 == 0 and time.perf_counter() >= deadline_at:
                    break
            if improved or time.perf_counter() >= deadline_at:
                break
    return out


def _few_missing(orders: Orders, count: int) -> bool:
    """Return whether few enough trips are missing for :func:`insert_missing` to be quick."""
    return count - sum(len(o) for o in orders) <= max(3, count // 20)


def _too_short(probes: Sequence[Probe]) -> float:
    """Return the least time worth starting another solver call with.

    VROOM's timeout stops its local search, not its first constructions: a call started
    with much less time than the first one took would overrun the budget.
    """
    return max(0.05, 0.5 * probes[0].wall_s) if probes else 0.05
