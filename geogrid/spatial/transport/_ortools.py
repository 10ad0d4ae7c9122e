"""Route the transfer vehicles with OR-Tools (the alternative solver, and a reference).

The same trip model as :mod:`.routing` (one node per household trip), with a time
dimension whose value at a trip node is the *arrival at the site*: the transit into trip
``j`` is the drive to its home, boarding and the loaded drive (plus the drop and
disinfection of the trip before), waiting is slack, and the node's window starts at
``ready_j + pickup_s + loaded_j``. The route end adds the last drop and disinfection
(and the drive back to the depot when asked), bounded by the shift end; route starts
are fixed at the vehicle's free time. The objective is
``SPAN_WEIGHT * (latest route end - earliest start) + driving``, OR-Tools' global span
cost, which is the last arrival when vehicles do not return to their depot (with a
return it is the last return). Dropping a trip costs more than any plan, so trips are
left out only when the shifts cannot hold them. The search starts from the quick
dispatching plan (:func:`~.schedule.dispatch`; without it the first solution ignores the
span and guided local search was measured far behind) and runs guided local search until
the time budget is spent.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from geogrid.spatial.transport.model import Probe, TransportSettings, Vehicle
from geogrid.spatial.transport.schedule import Trips, VehicleState, dispatch
from geogrid.spatial.transport.search import RoutingResult, makespan_of

__all__ = ["route_ortools"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

SPAN_WEIGHT = 100


def route_ortools(
    trips: Trips,
    vehicles: Sequence[Vehicle],
    states: Sequence[VehicleState],
    allowed: BoolArray,
    travel_s: IntArray,
    settings: TransportSettings,
    deadline_at: float,
) -> RoutingResult:
    """Return trip orders from OR-Tools; same arguments as :func:`.routing.route_vroom`."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    started = time.perf_counter()
    n, m = len(trips), len(vehicles)
    if n == 0:
        return RoutingResult([[] for _ in vehicles], ())
    where = np.array([s.location for s in states], dtype=np.int64)
    depot = np.array([v.depot for v in vehicles], dtype=np.int64)
    after = settings.drop_s + settings.disinfection_s
    into = settings.pickup_s + trips.loaded_s  # board and drive to the site

    size = n + 2 * m  # trips, then vehicle starts, then vehicle ends
    clock = np.zeros((size, size), dtype=np.int64)
    drive = np.zeros((size, size), dtype=np.int64)
    empty = travel_s[np.ix_(trips.dest, trips.home)]
    clock[:n, :n] = after + empty + into[None, :]
    drive[:n, :n] = empty + trips.loaded_s[None, :]
    first = travel_s[np.ix_(where, trips.home)]
    clock[n : n + m, :n] = first + into[None, :]
    drive[n : n + m, :n] = first + trips.loaded_s[None, :]
    back = travel_s[np.ix_(trips.dest, depot)] if settings.return_to_depot else 0
    clock[:n, n + m :] = after + back
    drive[:n, n + m :] = back
    np.fill_diagonal(clock[:n, :n], 0)
    np.fill_diagonal(drive[:n, :n], 0)

    starts = list(range(n, n + m))
    ends = list(range(n + m, n + 2 * m))
    manager = pywrapcp.RoutingIndexManager(size, m, starts, ends)
    model = pywrapcp.RoutingModel(manager)
    cost = model.RegisterTransitMatrix(drive.tolist())  # indexed by node
    model.SetArcCostEvaluatorOfAllVehicles(cost)
    horizon = int(max(v.shift_end_s for v in vehicles))
    model.AddDimension(model.RegisterTransitMatrix(clock.tolist()), horizon, horizon, False, "t")
    dim = model.GetDimensionOrDie("t")
    dim.SetGlobalSpanCostCoefficient(SPAN_WEIGHT)
    for v in range(m):
        dim.CumulVar(model.Start(v)).SetValue(int(states[v].free_s))
        dim.CumulVar(model.End(v)).SetMax(int(vehicles[v].shift_end_s))
    penalty = SPAN_WEIGHT * horizon * 10 + int(drive.sum())
    for j in range(n):
        index = manager.NodeToIndex(j)
        dim.CumulVar(index).SetMin(int(trips.ready_s[j] + into[j]))
        model.VehicleVar(index).SetValues([-1, *(int(v) for v in np.flatnonzero(allowed[j]))])
        model.AddDisjunction([index], penalty)

    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = (
        routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    )
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    budget = max(deadline_at - time.perf_counter() - 0.1, 0.1)
    params.time_limit.FromMilliseconds(int(budget * 1000))
    initial = dispatch(trips, vehicles, states, allowed, travel_s, settings)
    model.CloseModelWithParameters(params)
    start = model.ReadAssignmentFromRoutes(initial, True)
    if start is not None:
        solution = model.SolveFromAssignmentWithParameters(start, params)
    else:
        solution = model.SolveWithParameters(params)
    orders: list[list[int]] = [[] for _ in vehicles]
    if solution is not None:
        for v in range(m):
            index = solution.Value(model.NextVar(model.Start(v)))
            while not model.IsEnd(index):
                orders[v].append(manager.IndexToNode(index))
                index = solution.Value(model.NextVar(index))
    makespan = makespan_of(orders, trips, vehicles, states, travel_s, settings)
    served = sum(len(o) for o in orders)
    probe = Probe(None, makespan if served == n else None, time.perf_counter() - started)
    return RoutingResult(orders, (probe,))
