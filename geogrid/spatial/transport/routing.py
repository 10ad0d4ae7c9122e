"""Route the transfer vehicles with VROOM.

**One household per trip.** Because a vehicle never carries two households, a route is
a sequence of whole trips home → site, and each trip is modelled as *one VROOM job*: its
location is a virtual place whose incoming travel times are those to the home and whose
outgoing times are those from the site, and its service time is boarding + the loaded
drive + getting off + disinfection. Mixing households is then impossible by
construction, pickup and drop never need pairing (no shipments, no precedence), and the
search works on half as many stops. A vehicle may do a trip only where the caller allows
it (risk class, enough seats, reachable, fits the shift alone); that table is encoded
exactly in VROOM skills: vehicle ``v`` has every skill but its own, a trip requires the
skills of the vehicles it may not use. Vehicle time windows are the shifts; with
``return_to_depot`` the route ends at the depot, otherwise where the last trip ends.

**Makespan.** VROOM minimises cost; :func:`~.search.search_makespan` turns that into
the last arrival with deadlines on the trips, and seeds every call with the best plan so
far (VROOM takes initial routes as vehicle ``steps``).

**Long days.** VROOM slows down sharply as routes grow long, so a day of many trips per
vehicle is planned in consecutive waves (:func:`_waves`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from datetime import timedelta

import numpy as np
import numpy.typing as npt

from geogrid.spatial.transport.model import Probe, TransportSettings, Vehicle
from geogrid.spatial.transport.schedule import Trips, VehicleState, schedule_route
from geogrid.spatial.transport.search import Orders, RoutingResult, search_makespan

__all__ = ["WAVE_TRIPS", "route_vroom"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

WAVE_TRIPS = 8  # trips per vehicle in one VROOM model, at most (see _waves)


def route_vroom(
    trips: Trips,
    vehicles: Sequence[Vehicle],
    states: Sequence[VehicleState],
    allowed: BoolArray,
    travel_s: IntArray,
    settings: TransportSettings,
    deadline_at: float,
) -> RoutingResult:
    """Return trip orders from VROOM with the makespan search (see the module notes).

    Parameters
    ----------
    trips
        Trips to plan; each must be allowed for at least one vehicle.
    vehicles, states
        The fleet and where and when each vehicle is free.
    allowed
        ``(len(trips), len(vehicles))``: which vehicle may do which trip.
    travel_s
        Integer travel times (:func:`~.schedule.seconds_matrix`).
    settings
        Service times, effort and threads.
    deadline_at
        :func:`time.perf_counter` value by which to return.
    """
    waves = _waves(trips, allowed)
    orders: Orders = [[] for _ in vehicles]
    probes: list[Probe] = []
    carry = np.zeros(0, dtype=np.int64)
    states = list(states)
    for w, wave in enumerate(waves):
        pick = np.concatenate([carry, wave])
        sub = trips.subset(pick)
        share = (deadline_at - time.perf_counter()) / (len(waves) - w)
        solve = _VroomProblem(sub, vehicles, states, allowed[pick], travel_s, settings)
        result = search_makespan(
            solve,
            sub,
            vehicles,
            states,
            allowed[pick],
            travel_s,
            settings,
            time.perf_counter() + share,
        )
        probes += result.probes
        done = np.zeros(len(pick), dtype=bool)
        for v, order in enumerate(result.orders):
            if not order:
                continue
            orders[v] += [int(pick[j]) for j in order]
            done[order] = True
            route, _ = schedule_route(vehicles[v], states[v], order, sub, travel_s, None, settings)
            last = route.stops[-2]  # the last disinfection
            states[v] = VehicleState(last.location, last.departure_s)
        carry = pick[~done]
    return RoutingResult(orders, tuple(probes))


def _waves(trips: Trips, allowed: BoolArray) -> list[IntArray]:
    """Split the trips into waves of about :data:`WAVE_TRIPS` trips per vehicle.

    VROOM slows down sharply as routes grow long (measured: 150 trips on 20 vehicles
    take about a second, 380 trips on 10 vehicles ten, 1,600 on 40 over ten minutes),
    so a long day is planned as consecutive waves, each vehicle continuing the next wave
    from where it ends the last. Waves follow the ready times; trips ready at the same
    time are shuffled (with a fixed seed) first, so that a wave is a mix of the whole
    territory even when the requests come sorted by address.
    """
    active = int(allowed.any(axis=0).sum())
    count = math.ceil(len(trips) / max(WAVE_TRIPS * active, 1))
    if count <= 1:
        return [np.arange(len(trips), dtype=np.int64)]
    mixed = np.random.default_rng(0).permutation(len(trips))
    order = mixed[np.argsort(trips.ready_s[mixed], kind="stable")]
    return [np.sort(part) for part in np.array_split(order, count)]


class _VroomProblem:
    """The fixed part of the VROOM model; calling it solves for one deadline."""

    def __init__(
        self,
        trips: Trips,
        vehicles: Sequence[Vehicle],
        states: Sequence[VehicleState],
        allowed: BoolArray,
        travel_s: IntArray,
        settings: TransportSettings,
    ) -> None:
        import vroom

        self.vroom = vroom
        places = [s.location for s in states]
        if settings.return_to_depot:
            places += [v.depot for v in vehicles]
        anchors = np.unique(np.array(places, dtype=np.int64))
        self.anchor = {int(a): k for k, a in enumerate(anchors)}
        origin = np.concatenate([anchors, trips.dest])
        target = np.concatenate([anchors, trips.home])
        matrix = travel_s[np.ix_(origin, target)]
        np.fill_diagonal(matrix, 0)
        self.matrix = matrix.astype(np.uint32)  # a vroom Matrix cannot serve two inputs
        self.offset = len(anchors)
        self.trips, self.vehicles, self.states = trips, vehicles, states
        self.allowed, self.settings = allowed, settings
        self.service = (
            settings.pickup_s + trips.loaded_s + settings.drop_s + settings.disinfection_s
        )
        self.horizon = max(v.shift_end_s for v in vehicles)

    def __call__(self, deadline_s: int | None, timeout_s: float, seed: Orders | None) -> Orders:
        """Solve with every arrival by ``deadline_s``, starting from ``seed`` if given.

        The seed must be feasible for the deadline; should VROOM refuse it all the same,
        the search starts from scratch.
        """
        try:
            return self._solve(deadline_s, timeout_s, seed)
        except Exception:  # vroom raises a bare exception class on a refused seed
            if seed is None:
                raise
            return self._solve(deadline_s, timeout_s, None)

    def _solve(self, deadline_s: int | None, timeout_s: float, seed: Orders | None) -> Orders:
        vroom, trips, settings = self.vroom, self.trips, self.settings
        latest = np.full(len(trips), self.horizon, dtype=np.int64)
        if deadline_s is not None:
            latest = np.minimum(latest, deadline_s - settings.pickup_s - trips.loaded_s)
            if np.any(latest < trips.ready_s):
                return [[] for _ in self.vehicles]
        problem = vroom.Input()
        problem.set_durations_matrix("car", self.matrix)
        everyone = set(range(len(self.vehicles)))
        for v, (vehicle, state) in enumerate(zip(self.vehicles, self.states, strict=True)):
            if not self.allowed[:, v].any():
                continue
            end = self.anchor[vehicle.depot] if settings.return_to_depot else None
            steps = []
            if seed is not None:
                steps = [vroom.VehicleStep("start")]
                steps += [vroom.VehicleStep("single", j) for j in seed[v]]
                steps += [vroom.VehicleStep("end")]
            problem.add_vehicle(
                vroom.Vehicle(
                    v,
                    start=self.anchor[state.location],
                    end=end,
                    skills=everyone - {v},
                    time_window=vroom.TimeWindow(state.free_s, vehicle.shift_end_s),
                    steps=steps,
                )
            )
        for j in range(len(trips)):
            problem.add_job(
                vroom.Job(
                    j,
                    location=self.offset + j,
                    default_service=int(self.service[j]),
                    skills={int(v) for v in np.flatnonzero(~self.allowed[j])},
                    time_windows=[vroom.TimeWindow(int(trips.ready_s[j]), int(latest[j]))],
                )
            )
        solution = problem.solve(
            exploration_level=settings.exploration_level,
            nb_threads=settings.threads,
            timeout=timedelta(seconds=timeout_s),
        )
        frame = solution.routes
        jobs = frame[frame["type"] == "job"]
        orders: Orders = [[] for _ in self.vehicles]
        for v, j in zip(jobs["vehicle_id"].to_numpy(), jobs["id"].to_numpy(), strict=True):
            orders[int(v)].append(int(j))
        return orders
