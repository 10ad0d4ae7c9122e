"""An independent checker of transport plans, brute-force optima and random instances.

Nothing here imports the solver code: a plan is read through its public attributes
(routes of stops, assignment, unserved) and checked against the raw inputs, the travel
times as floats (the planner rounds them up), and the service times. Instances are
plain dicts built here from points in a plane.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

EPS = 1e-6
CLASSES = ("close_contact", "secondary_contact", "returnee")


@dataclass
class Instance:
    """Raw inputs as plain Python values (the tests wrap them in the package's types)."""

    requests: list[dict[str, Any]]  # code, location, group_size, risk_class, ready_s
    sites: list[dict[str, Any]]  # code, location, capacity, occupied, risk_classes
    vehicles: list[dict[str, Any]]  # code, seats, depot, shift_start_s, shift_end_s, risk_classes
    duration_s: np.ndarray
    distance_m: np.ndarray


def check_solved(
    plan: Any,
    duration_s: np.ndarray,
    distance_m: np.ndarray,
    service: Any,
    **options: Any,
) -> None:
    """:func:`check_plan` on the requests, sites and fleet a plan carries, with the
    matrices it was solved on and the service times of ``service`` (any object with
    ``pickup_s``, ``drop_s`` and ``disinfection_s``); ``options`` go to ``check_plan``."""
    instance = Instance(
        requests=[asdict(r) for r in plan.requests],
        sites=[asdict(s) for s in plan.sites],
        vehicles=[asdict(v) for v in plan.vehicles],
        duration_s=duration_s,
        distance_m=distance_m,
    )
    check_plan(
        plan,
        instance,
        pickup_s=service.pickup_s,
        drop_s=service.drop_s,
        disinfection_s=service.disinfection_s,
        **options,
    )


def plane_instance(
    rng: np.random.Generator,
    households: int,
    sites: int,
    vehicles: int,
    *,
    side_m: float = 8000.0,
    speed_ms: float = 10.0,
    ready_max_s: int = 3600,
    shift_s: int = 12 * 3600,
    spare: float = 1.5,
    seats: tuple[int, ...] = (2, 4, 5, 7),
    mixed_classes: bool = True,
) -> Instance:
    """Return a random instance: homes, sites, depots in a square, straight-line roads."""
    n = households + sites + vehicles
    xy = rng.uniform(0, side_m, (n, 2))
    distance = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)) * 1.2
    duration = distance / speed_ms * rng.uniform(1.0, 1.1, (n, n))  # asymmetric
    np.fill_diagonal(duration, 0.0)
    sizes = rng.integers(1, 6, households)
    classes = [CLASSES[k] for k in rng.integers(0, 3 if mixed_classes else 1, households)]
    requests = [
        {
            "code": f"h{i}",
            "location": i,
            "group_size": int(sizes[i]),
            "risk_class": classes[i],
            "ready_s": int(rng.integers(0, ready_max_s + 1)),
        }
        for i in range(households)
    ]
    total = math.ceil(sizes.sum() * spare / sites) + 5
    site_list = [
        {
            "code": f"s{k}",
            "location": households + k,
            "capacity": total,
            "occupied": int(rng.integers(0, 3)),
            "risk_classes": set(CLASSES),
        }
        for k in range(sites)
    ]
    fleet = [
        {
            "code": f"v{k}",
            "seats": max(seats[k % len(seats)], int(sizes.max()) if k == 0 else 0),
            "depot": households + sites + k,
            "shift_start_s": 0,
            "shift_end_s": shift_s,
            "risk_classes": set(CLASSES),
        }
        for k in range(vehicles)
    ]
    return Instance(requests, site_list, fleet, duration, distance)


# -- the checker ------------------------------------------------------------------------


def check_plan(
    plan: Any,
    inst: Instance,
    *,
    pickup_s: int = 120,
    drop_s: int = 120,
    disinfection_s: int = 900,
    return_to_depot: bool = False,
    not_before_s: float | None = None,
    kept: set[str] | frozenset[str] = frozenset(),
) -> None:
    """Raise ``AssertionError`` naming the first rule a plan breaks.

    ``not_before_s``: a replanned plan's trips not in ``kept`` must leave for their pickup
    at or after it.
    """
    req = {r["code"]: r for r in inst.requests}
    site = {s["code"]: s for s in inst.sites}
    veh = {v["code"]: v for v in inst.vehicles}
    t = inst.duration_s
    picked: Counter[str] = Counter()
    dropped: dict[str, str] = {}
    seen_vehicles: set[str] = set()
    for route in plan.routes:
        v = veh[route.vehicle]
        assert route.vehicle not in seen_vehicles, f"two routes for {route.vehicle}"
        seen_vehicles.add(route.vehicle)
        stops = list(route.stops)
        if not stops:
            continue
        assert stops[0].kind == "start", "route must start with a start"
        assert stops[-1].kind == "end", "route must end with an end"
        assert stops[0].location == v["depot"], f"{route.vehicle} does not start at its depot"
        assert stops[0].departure_s >= v["shift_start_s"] - EPS, "leaves before its shift"
        assert stops[-1].arrival_s <= v["shift_end_s"] + EPS, f"{route.vehicle} ends after shift"
        onboard: str | None = None
        must_disinfect_at: int | None = None
        for k, stop in enumerate(stops):
            assert stop.departure_s >= stop.arrival_s - EPS, "leaves before arriving"
            if k > 0:
                prev = stops[k - 1]
                need = prev.departure_s + t[prev.location, stop.location]
                assert stop.arrival_s >= need - EPS, f"{route.vehicle} stop {k} is too early"
                if not np.isnan(stop.distance_m):
                    step = inst.distance_m[prev.location, stop.location]
                    assert abs(stop.distance_m - prev.distance_m - step) < 1e-3, "distance"
            if stop.kind == "pickup":
                assert onboard is None, f"{route.vehicle} carries two households"
                assert must_disinfect_at is None, f"{route.vehicle} not disinfected"
                r = req[stop.request]
                assert stop.location == r["location"], "pickup at the wrong place"
                assert stop.arrival_s >= r["ready_s"] - EPS, f"{r['code']} picked before ready"
                assert stop.departure_s - stop.arrival_s >= pickup_s - EPS, "boarding too short"
                assert r["group_size"] <= v["seats"], f"{r['code']} does not fit the seats"
                assert r["risk_class"] in v["risk_classes"], "vehicle not allowed for class"
                if not_before_s is not None and r["code"] not in kept:
                    leave = stops[k - 1].departure_s
                    assert leave >= not_before_s - EPS, f"{r['code']} replanned into the past"
                picked[r["code"]] += 1
                onboard = r["code"]
            elif stop.kind == "drop":
                assert onboard == stop.request, "drops a household it does not carry"
                s = site[stop.site]
                assert stop.location == s["location"], "drop at the wrong place"
                assert req[onboard]["risk_class"] in s["risk_classes"], "site refuses class"
                assert stop.departure_s - stop.arrival_s >= drop_s - EPS, "drop too short"
                dropped[onboard] = stop.site
                onboard = None
                must_disinfect_at = stop.location
                drop_end = stop.departure_s
            elif stop.kind == "disinfect":
                assert must_disinfect_at == stop.location, "disinfection not after a drop"
                assert stop.arrival_s >= drop_end - EPS, "disinfects before the drop ends"
                assert stop.departure_s - stop.arrival_s >= disinfection_s - EPS, "too short"
                must_disinfect_at = None
            elif stop.kind == "end":
                assert k == len(stops) - 1, "end in the middle"
                assert onboard is None, "ends loaded"
                assert must_disinfect_at is None, "ends not disinfected"
                if return_to_depot:
                    assert stop.location == v["depot"], "does not return to the depot"
                else:
                    assert stop.location == stops[k - 1].location, "end moves"
            else:
                assert k == 0, f"unexpected stop {stop.kind}"
    assert all(c == 1 for c in picked.values()), "a household is picked up twice"
    assert set(picked) == set(dropped), "picked but not dropped"
    assert dict(plan.assignment) == dropped, "assignment differs from the drops"
    unserved = [u.request for u in plan.unserved]
    assert len(unserved) == len(set(unserved)), "a household unserved twice"
    assert not set(unserved) & set(dropped), "served and unserved"
    assert set(unserved) | set(dropped) == set(req), "a household is lost"
    load = Counter[str]()
    for code, s in dropped.items():
        load[s] += req[code]["group_size"]
    for s, persons in load.items():
        room = max(site[s]["capacity"] - site[s]["occupied"], 0)
        assert persons <= room, f"site {s} over capacity: {persons} > {room}"
    arrivals = [s.arrival_s for r in plan.routes for s in r.stops if s.kind == "drop"]
    assert plan.all_moved_by_s == (max(arrivals) if arrivals else None)


# -- brute force --------------------------------------------------------------------------


def vehicle_tables(
    inst: Instance,
    vehicle: dict[str, Any],
    site_of: dict[str, str],
    *,
    pickup_s: int = 120,
    drop_s: int = 120,
    disinfection_s: int = 900,
    return_to_depot: bool = False,
) -> dict[frozenset[str], float]:
    """Return, for every set of households one vehicle can carry, its least last arrival.

    Enumerates every order of every subset, depth first (a prefix is timed once and
    shared by its extensions; an order that breaks the shift is not extended, as times
    only grow).
    """
    req = {r["code"]: r for r in inst.requests}
    loc = {s["code"]: s["location"] for s in inst.sites}
    t = inst.duration_s
    codes = [
        c
        for c in site_of
        if req[c]["group_size"] <= vehicle["seats"]
        and req[c]["risk_class"] in vehicle["risk_classes"]
    ]
    table: dict[frozenset[str], float] = {frozenset(): 0.0}

    def extend(done: frozenset[str], here: int, clock: float) -> None:
        for code in codes:
            if code in done:
                continue
            r = req[code]
            board = max(clock + t[here, r["location"]], r["ready_s"])
            site = loc[site_of[code]]
            last = board + pickup_s + t[r["location"], site]
            free = last + drop_s + disinfection_s
            finish = free + (t[site, vehicle["depot"]] if return_to_depot else 0.0)
            if finish > vehicle["shift_end_s"] + EPS:
                continue
            key = done | {code}
            table[key] = min(table.get(key, math.inf), last)
            extend(key, site, free)

    extend(frozenset(), vehicle["depot"], float(vehicle["shift_start_s"]))
    return table


def best_makespan(inst: Instance, site_of: dict[str, str], **times: Any) -> float:
    """Return the least last arrival serving every household of ``site_of`` (brute force).

    Every split of the households among the vehicles and every order on each vehicle.
    """
    codes = sorted(site_of)
    tables = [vehicle_tables(inst, v, site_of, **times) for v in inst.vehicles]
    best = math.inf
    for owner in itertools.product(range(len(inst.vehicles)), repeat=len(codes)):
        spans = [
            table.get(frozenset(c for c, o in zip(codes, owner, strict=True) if o == v), math.inf)
            for v, table in enumerate(tables)
        ]
        best = min(best, max(spans))
    return best


def best_assignment(inst: Instance) -> tuple[int, float]:
    """Return (most persons placed, least travel for that) over every assignment."""
    sites = inst.sites
    best = (0, 0.0)
    options = []
    for r in inst.requests:
        ok = [None] + [
            s
            for s in sites
            if r["risk_class"] in s["risk_classes"]
            and np.isfinite(inst.duration_s[r["location"], s["location"]])
        ]
        options.append(ok)
    best_key = (0, -0.0)
    for choice in itertools.product(*options):
        load = Counter[str]()
        persons, travel = 0, 0.0
        for r, s in zip(inst.requests, choice, strict=True):
            if s is None:
                continue
            load[s["code"]] += r["group_size"]
            persons += r["group_size"]
            travel += inst.duration_s[r["location"], s["location"]]
        if any(load[s["code"]] > max(s["capacity"] - s["occupied"], 0) for s in sites):
            continue
        key = (persons, -travel)
        if key > best_key:
            best_key, best = key, (persons, travel)
    return best
