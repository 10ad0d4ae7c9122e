"""Plans checked by an independent checker, against brute force, and for their reasons."""

from __future__ import annotations

import time

import numpy as np
import pytest

from geogrid.spatial.transport import (
    IsolationSite,
    TransferRequest,
    TransportInputError,
    TransportSettings,
    Vehicle,
    plan_transport,
)
from tests.spatial.transport.transport_checker import (
    CLASSES,
    Instance,
    best_makespan,
    check_plan,
    plane_instance,
)
from tests.spatial.transport.transport_inputs import model_inputs, plan


def medium_instance(seed: int = 7) -> Instance:
    """Return about 400 people in households of 1-5, 5 sites, 20 vehicles (one day)."""
    rng = np.random.default_rng(seed)
    inst = plane_instance(
        rng,
        160,
        5,
        20,
        side_m=20_000,
        speed_ms=11.0,
        ready_max_s=4 * 3600,
        shift_s=24 * 3600,
        spare=1.3,
    )
    people = 0
    for k, r in enumerate(inst.requests):  # trim to exactly 400 people
        r["group_size"] = min(r["group_size"], max(400 - people, 0))
        people += r["group_size"]
        if r["group_size"] == 0:
            inst.requests = inst.requests[:k]
            break
    for k, v in enumerate(inst.vehicles):
        if v["seats"] == 2:  # the converted patrol car: two at a time, returnees only
            v["risk_classes"] = {"returnee"}
        v["depot"] = inst.vehicles[k % 3]["depot"]  # three depots
    return inst


@pytest.fixture(scope="module")
def medium():
    return medium_instance()


@pytest.mark.parametrize("seed", range(8))
def test_random_small_plans_pass_the_checker(seed):
    rng = np.random.default_rng(100 + seed)
    size = int(rng.integers(1, 9)), int(rng.integers(1, 3)), int(rng.integers(1, 4))
    inst = plane_instance(rng, *size, shift_s=int(rng.integers(2, 12)) * 3600)
    for s in inst.sites:
        s["capacity"] = int(rng.integers(3, 20))
        s["risk_classes"] = set(rng.choice(CLASSES, int(rng.integers(1, 4)), replace=False))
    for v in inst.vehicles:
        v["risk_classes"] = set(rng.choice(CLASSES, int(rng.integers(1, 4)), replace=False))
    back = bool(seed % 2)
    got = plan(inst, time_budget_s=1.0, return_to_depot=back)
    check_plan(got, inst, return_to_depot=back)


@pytest.mark.parametrize(
    ("seed", "households", "vehicles"),
    [(0, 4, 1), (1, 5, 2), (2, 6, 1), (3, 6, 2), (4, 7, 2), (5, 8, 1), (6, 8, 2)],
)
def test_small_plans_are_within_5_percent_of_brute_force(seed, households, vehicles):
    rng = np.random.default_rng(seed)
    inst = plane_instance(rng, households, 2, vehicles, shift_s=48 * 3600, seats=(7,))
    got = plan(inst, time_budget_s=2.0)
    check_plan(got, inst)
    assert not got.unserved
    best = best_makespan(inst, dict(got.assignment))
    # the plan rounds every leg up to a whole second: at most 2 per trip, 1 from the depot
    assert got.all_moved_by_s <= 1.05 * best + 2 * households + 1


def test_medium_case_passes_the_checker(medium):
    got = plan(medium, time_budget_s=6.0)
    check_plan(got, medium)
    summary = got.summary()
    assert summary.people_moved == sum(r["group_size"] for r in medium.requests) == 400
    assert not got.unserved
    assert summary.all_moved_by_s == got.all_moved_by_s
    assert summary.vehicles_used >= 15  # the makespan objective spreads the work
    assert summary.km_driven == pytest.approx(sum(r.distance_m for r in got.routes) / 1000)


@pytest.mark.parametrize("budget_s", [0.5, 2.0])
def test_time_budget_is_respected(medium, budget_s):
    started = time.perf_counter()
    got = plan(medium, time_budget_s=budget_s)
    wall = time.perf_counter() - started
    assert wall <= budget_s + 0.5
    check_plan(got, medium)
    assert got.summary().people_moved == 400  # the quick first plan serves everyone


def test_ortools_plans_pass_the_checker():
    rng = np.random.default_rng(3)
    inst = plane_instance(rng, 12, 2, 3)
    got = plan(inst, solver="ortools", time_budget_s=1.0)
    check_plan(got, inst)
    assert not got.unserved


def test_other_service_times_are_respected():
    rng = np.random.default_rng(4)
    inst = plane_instance(rng, 6, 2, 2)
    times = {"pickup_s": 300, "drop_s": 60, "disinfection_s": 1800}
    got = plan(inst, time_budget_s=1.0, return_to_depot=True, **times)
    check_plan(got, inst, return_to_depot=True, **times)


def line(*places: float) -> np.ndarray:
    """Return travel times between places on a line, one second per metre."""
    x = np.array(places, dtype=float)
    return np.abs(x[:, None] - x[None, :])


def test_unserved_reasons():
    # places: 0 depot, 1 site, 2..9 homes
    t = line(0, 100, 200, 300, 400, 500, 600, 700, 800, 900)
    t[:, 7] = np.inf  # home 7: no road leads there
    t[7, 7] = 0
    t[1, 9] = t[0, 9] = np.inf  # home 9: its site is reachable from it, not from the depot
    requests = [
        TransferRequest("ok", 2, 2, "close_contact"),
        TransferRequest("class", 3, 1, "secondary_contact"),  # no site for the class
        TransferRequest("seats", 4, 8, "close_contact"),  # a 7-seat fleet
        TransferRequest("vehicle", 5, 1, "returnee"),  # no vehicle may carry returnees
        TransferRequest("late", 6, 1, "close_contact", ready_s=20_000),  # after the shift
        TransferRequest("road", 7, 1, "close_contact"),
        TransferRequest("full", 8, 6, "close_contact"),  # more than the 5 places left
        TransferRequest("depot", 9, 1, "close_contact"),
    ]
    sites = [
        IsolationSite(
            "hotel",
            1,
            capacity=10,
            occupied=5,
            risk_classes=frozenset({"close_contact", "returnee"}),
        ),
    ]
    fleet = [Vehicle("bus", 7, 0, 0, 10_000, frozenset({"close_contact", "secondary_contact"}))]
    got = plan_transport(requests, fleet, sites, t, settings=TransportSettings(time_budget_s=1))
    reasons = {u.request: u.reason for u in got.unserved}
    assert reasons == {
        "class": "no_capacity_for_risk_class",
        "seats": "no_vehicle_with_enough_seats",
        "vehicle": "no_vehicle_for_risk_class",
        "late": "outside_every_shift",
        "road": "unreachable",
        "full": "no_capacity_for_risk_class",
        "depot": "unreachable",
    }
    assert dict(got.assignment) == {"ok": "hotel"}


def test_fleet_time_exhausted():
    t = line(0, 100, 1000, 1100, 1200)
    requests = [TransferRequest(f"h{k}", 2 + k, 1, "returnee") for k in range(3)]
    sites = [IsolationSite("hotel", 1, capacity=10)]
    fleet = [Vehicle("car", 4, 0, 0, 7000)]  # a trip takes about 3,000 s: two fit
    got = plan_transport(requests, fleet, sites, t, settings=TransportSettings(time_budget_s=1))
    assert len(got.assignment) == 2
    assert [u.reason for u in got.unserved] == ["fleet_time_exhausted"]


def test_plan_of_nothing():
    got = plan_transport([], [Vehicle("car", 4, 0, 0, 100)], [], np.zeros((1, 1)))
    assert got.routes[0].stops == ()
    assert got.all_moved_by_s is None
    assert got.summary().people_moved == 0
    assert got.stops_frame().empty


def test_stops_frame_has_one_row_per_stop(medium):
    rng = np.random.default_rng(5)
    inst = plane_instance(rng, 5, 1, 2)
    got = plan(inst, time_budget_s=0.5)
    frame = got.stops_frame()
    assert len(frame) == sum(len(r.stops) for r in got.routes)
    assert {"vehicle", "seq", "kind", "location", "arrival_s", "request"} <= set(frame.columns)


@pytest.mark.parametrize(
    "change",
    [
        lambda inst: inst.duration_s.__setitem__((0, 0), np.nan),
        lambda inst: inst.requests[0].__setitem__("location", 10_000),
        lambda inst: inst.vehicles.append(dict(inst.vehicles[0])),
    ],
)
def test_bad_inputs_are_refused(change):
    inst = plane_instance(np.random.default_rng(0), 3, 1, 1)
    change(inst)
    requests, vehicles, sites = model_inputs(inst)
    with pytest.raises(TransportInputError):
        plan_transport(requests, vehicles, sites, inst.duration_s)


def test_bad_records_are_refused():
    with pytest.raises(TransportInputError):
        TransferRequest("h", 0, 0, "close_contact")
    with pytest.raises(TransportInputError):
        TransferRequest("h", 0, 1, "tourist")
    with pytest.raises(TransportInputError):
        Vehicle("v", 4, 0, 100, 50)
    with pytest.raises(ValueError, match="negative"):
        IsolationSite("s", 0, -1)


def test_long_days_are_planned_in_waves():
    # 60 households on 3 vehicles: 20 trips each, planned in waves of about 8
    rng = np.random.default_rng(21)
    inst = plane_instance(rng, 60, 3, 3, shift_s=72 * 3600, seats=(7,))
    got = plan(inst, time_budget_s=3.0)
    check_plan(got, inst)
    assert not got.unserved
    # the work alone (boarding, loaded drive, drop, disinfection) bounds the last arrival
    t = inst.duration_s
    site_at = {s["code"]: s["location"] for s in inst.sites}
    work = sum(
        120 + t[r["location"], site_at[got.assignment[r["code"]]]] + 1020 for r in inst.requests
    )
    assert got.all_moved_by_s >= work / 3 - 1020
    assert got.all_moved_by_s <= 1.35 * work / 3  # empty driving adds about a third
