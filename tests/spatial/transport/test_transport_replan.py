"""Replanning keeps the trips under way and plans the rest, checked independently."""

from __future__ import annotations

import numpy as np
import pytest

from geogrid.spatial.transport import TransferRequest, TransportInputError, replan
from tests.spatial.transport.transport_checker import check_plan, plane_instance
from tests.spatial.transport.transport_inputs import model_inputs, plan


def under_way(route, now_s):
    """Return the stops of trips whose vehicle left for the pickup by ``now_s`` (test's own)."""
    stops = list(route.stops)
    last = None
    for k, stop in enumerate(stops):
        if stop.kind == "pickup" and stops[k - 1].departure_s <= now_s:
            last = k + 2
    return stops[: last + 1] if last is not None else []


@pytest.fixture(scope="module")
def day():
    rng = np.random.default_rng(11)
    inst = plane_instance(rng, 30, 3, 4, shift_s=24 * 3600)
    first = plan(inst, time_budget_s=2.0)
    check_plan(first, inst)
    return inst, first


def test_replan_keeps_trips_under_way_and_adds_new_ones(day):
    inst, first = day
    now = int(np.median([r.start_s for r in first.routes if r.stops])) + 2 * 3600
    # two new households appear: reuse two existing home locations with new codes
    new = [
        {"code": "n1", "location": 0, "group_size": 2, "risk_class": "returnee", "ready_s": now},
        {
            "code": "n2",
            "location": 5,
            "group_size": 1,
            "risk_class": "close_contact",
            "ready_s": now + 600,
        },
    ]
    again = replan(
        first,
        now,
        [TransferRequest(**r) for r in new],
        duration_s=inst.duration_s,
        distance_m=inst.distance_m,
    )

    whole = type(inst)(
        inst.requests + new, inst.sites, inst.vehicles, inst.duration_s, inst.distance_m
    )
    kept = {s.request for r in first.routes for s in under_way(r, now) if s.kind == "pickup"}
    assert kept, "the test wants trips under way"
    check_plan(again, whole, not_before_s=now, kept=kept)
    for old, new_route in zip(first.routes, again.routes, strict=True):
        prefix = under_way(old, now)
        got = list(new_route.stops[: len(prefix)])
        # same stops; only the last disinfection may end differently (the vehicle waited)
        assert [(s.kind, s.request, s.location, s.arrival_s) for s in got] == [
            (s.kind, s.request, s.location, s.arrival_s) for s in prefix
        ]
        assert all(a == b for a, b in zip(got[:-1], prefix[:-1], strict=True))
    assert {"n1", "n2"} <= set(again.assignment)
    assert not again.unserved
    assert again.summary().people_moved == sum(r["group_size"] for r in whole.requests)


def test_replan_before_anything_started_is_a_new_plan(day):
    inst, first = day
    again = replan(first, -1, duration_s=inst.duration_s, distance_m=inst.distance_m)
    check_plan(again, inst)
    assert len(again.assignment) == len(first.assignment)


def test_replan_after_everything_keeps_everything(day):
    inst, first = day
    again = replan(first, 10**9, duration_s=inst.duration_s, distance_m=inst.distance_m)
    check_plan(again, inst)
    assert dict(again.assignment) == dict(first.assignment)
    assert again.all_moved_by_s == first.all_moved_by_s


def test_a_vehicle_with_trips_under_way_must_stay(day):
    inst, first = day
    now = max(r.start_s for r in first.routes if r.stops) + 1
    busy = {r.vehicle for r in first.routes if under_way(r, now)}
    _, vehicles, _ = model_inputs(inst)
    with pytest.raises(TransportInputError):
        replan(
            first,
            now,
            duration_s=inst.duration_s,
            vehicles=[v for v in vehicles if v.code not in busy],
        )
