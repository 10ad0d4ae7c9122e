"""Benchmark of transport to isolation: solve time and plan quality against references.

Two cases, each planned with the default settings and then by two references:

- **400 people / 5 sites / 20 vehicles** (the Pingyang day): target under 10 s including
  the matrix. A synthetic county (``geogrid.spatial.transport.synthetic``) unless
  ``--demo`` is given, which reads the demo GeoPackage and builds the matrices on the
  road network (:func:`demo_instance`).
- **4,000 people / 40 vehicles** (synthetic, vehicles around the clock): target under
  60 s.

References, on the same instance and assignment: VROOM at its highest exploration level
(5) with a 120 s budget, and OR-Tools (guided local search from the same first plan)
with a 120 s budget; ``--quick`` cuts them to 20 s. Printed: wall time, last arrival
(``all moved by``), vehicle hours, km, a lower bound on the last arrival, and the ratio
of the default plan's last arrival to each reference's (target: within 5 %).

Usage::

    python benchmarks/transport.py [--quick] [--demo [PATH]] [--only small|large]
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime
from pathlib import Path

import numpy as np

from geogrid.spatial.transport import (
    IsolationSite,
    TransferRequest,
    TransportPlan,
    TransportSettings,
    Vehicle,
    assign_sites,
    plan_transport,
)
from geogrid.spatial.transport.schedule import Trips, VehicleState, lower_bound, seconds_matrix
from geogrid.spatial.transport.synthetic import TransportInstance, synthetic_instance

DEMO = Path(__file__).resolve().parent.parent / "geodata" / "pingyang-demo.gpkg.zip"


def demo_instance(path: Path = DEMO) -> TransportInstance:
    """Return the demo day: requests, sites and vehicles with road-network matrices.

    This is where the demo data plugs in: the layers ``transfer_requests``,
    ``isolation_sites``, ``vehicles`` and ``roads`` of the demo GeoPackage; every point is
    snapped to a :class:`~geogrid.spatial.roads.network.RoadNetwork` built from the roads, and
    the time and length matrices come from ``RoadNetwork.cost_matrix``. Times are seconds
    from local midnight of the first ready time's day. (The workspace will do the same
    from the database.)
    """
    import geopandas as gpd

    from geogrid.spatial.roads.network import RoadNetwork

    source = f"zip://{path}!{path.name.removesuffix('.zip')}" if path.suffix == ".zip" else path
    layer = {
        name: gpd.read_file(source, layer=name)
        for name in ("transfer_requests", "isolation_sites", "vehicles", "roads")
    }
    req, sites, fleet = layer["transfer_requests"], layer["isolation_sites"], layer["vehicles"]
    points = np.concatenate(
        [np.column_stack([g.geometry.x, g.geometry.y]) for g in (req, sites, fleet)]
    )
    started = time.perf_counter()
    network = RoadNetwork.from_geodataframe(layer["roads"])
    snapped = network.snap(points[:, 0], points[:, 1])
    duration = network.cost_matrix(snapped, snapped, "time")
    distance = network.cost_matrix(snapped, snapped, "length")
    print(
        f"  demo matrix: network + snap + 2 matrices {time.perf_counter() - started:.2f} s "
        f"({len(points)} locations)"
    )

    ready = [datetime.fromisoformat(t) for t in req["ready_at"]]
    day = min(ready).replace(hour=0, minute=0, second=0, microsecond=0)

    def seconds(text: str) -> int:
        return int((datetime.fromisoformat(text) - day).total_seconds())

    def classes(text: str) -> frozenset[str]:
        return frozenset(c.strip() for c in str(text).split(",") if c.strip())

    n, m = len(req), len(sites)
    requests = tuple(
        TransferRequest(r.code, i, int(r.group_size), r.risk_class, seconds(r.ready_at))
        for i, r in enumerate(req.itertuples())
    )
    site_list = tuple(
        IsolationSite(s.code, n + k, int(s.capacity), int(s.occupied), classes(s.risk_classes))
        for k, s in enumerate(sites.itertuples())
    )
    vehicles = tuple(
        Vehicle(
            v.code,
            int(v.seats),
            n + m + k,
            seconds(v.shift_start),
            seconds(v.shift_end),
            classes(v.risk_classes),
        )
        for k, v in enumerate(fleet.itertuples())
    )
    return TransportInstance(requests, site_list, vehicles, duration, distance, points)


def bound_h(inst: TransportInstance, settings: TransportSettings) -> float:
    """Return a lower bound on the last arrival (hours) for the default assignment."""
    placed = assign_sites(inst.requests, inst.sites, inst.duration_s)
    travel = seconds_matrix(inst.duration_s)
    keep = [(r, inst.sites[k]) for r, k in zip(inst.requests, placed.site, strict=True) if k >= 0]
    trips = Trips.build([r for r, _ in keep], [s for _, s in keep], travel)
    states = [VehicleState.fresh(v) for v in inst.vehicles]
    allowed = np.ones((len(trips), len(states)), dtype=bool)
    return lower_bound(trips, states, allowed, travel, settings, matching_max=10**5) / 3600


def run(label: str, inst: TransportInstance, settings: TransportSettings) -> TransportPlan:
    """Plan ``inst`` and print one line of figures."""
    started = time.perf_counter()
    plan = plan_transport(
        inst.requests, inst.vehicles, inst.sites, inst.duration_s, inst.distance_m, settings
    )
    wall = time.perf_counter() - started
    s = plan.summary()
    last = s.all_moved_by_s / 3600 if s.all_moved_by_s is not None else float("nan")
    calls = len(plan.probes)
    print(
        f"  {label:<34} {wall:7.1f} s  all moved by {last:6.2f} h  vehicle hours "
        f"{s.vehicle_hours:7.1f}  km {s.km_driven:8.0f}  moved {s.people_moved:5d}  "
        f"unserved {sum(s.unserved.values())}  solver calls {calls}"
    )
    return plan


def case(title: str, inst: TransportInstance, budget_s: float, reference_s: float) -> None:
    """Plan one instance with the defaults and the two references; print the ratios."""
    print(
        f"\n{title}: {inst.people} people in {len(inst.requests)} households, "
        f"{len(inst.sites)} sites, {len(inst.vehicles)} vehicles"
    )
    default = TransportSettings(time_budget_s=budget_s)
    ours = run(
        f"default (VROOM level {default.exploration_level}, {budget_s:.1f} s)", inst, default
    )
    refs = {
        "VROOM level 5": TransportSettings(
            time_budget_s=reference_s, exploration_level=5, makespan_tolerance=1e-4
        ),
        "OR-Tools GLS": TransportSettings(time_budget_s=reference_s, solver="ortools"),
    }
    out = {name: run(f"{name}, {reference_s:g} s", inst, s) for name, s in refs.items()}
    print(f"  lower bound on the last arrival: {bound_h(inst, default):.2f} h")
    for name, ref in out.items():
        a, b = ours.all_moved_by_s, ref.all_moved_by_s
        hours = ours.summary().vehicle_hours / ref.summary().vehicle_hours
        if a and b:
            print(f"  default / {name}: last arrival {a / b:.3f}, vehicle hours {hours:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 s references, not 120 s")
    parser.add_argument("--demo", nargs="?", const=DEMO, type=Path, help="demo GeoPackage")
    parser.add_argument("--only", choices=["small", "large"], help="run one case")
    args = parser.parse_args()
    reference_s = 20.0 if args.quick else 120.0

    if args.only != "large":
        started = time.perf_counter()
        demo = args.demo
        small = demo_instance(demo) if demo else synthetic_instance(400, 5, 20, seed=0)
        built = time.perf_counter() - started
        budget = max(1.0, 9.0 - built)  # the target counts the matrix too
        print(f"instance and matrix built in {built:.2f} s; planning budget {budget:.1f} s")
        case("400 people / 5 sites / 20 vehicles", small, budget, reference_s)
    if args.only != "small":
        large = synthetic_instance(4000, 5, 40, shift_s=72 * 3600, seed=0)
        case("4,000 people / 5 sites / 40 vehicles", large, 50.0, reference_s)


if __name__ == "__main__":
    main()
