"""Site assignment against brute force: most persons placed, then least travel."""

from __future__ import annotations

import numpy as np
import pytest

from geogrid.spatial.transport import IsolationSite, TransferRequest, assign_sites
from tests.spatial.transport.transport_checker import CLASSES, best_assignment, plane_instance
from tests.spatial.transport.transport_inputs import model_inputs


@pytest.mark.parametrize("seed", range(12))
def test_assignment_is_optimal_on_small_cases(seed):
    rng = np.random.default_rng(seed)
    inst = plane_instance(rng, int(rng.integers(2, 8)), int(rng.integers(1, 4)), 1)
    for s in inst.sites:  # tight capacities and partial acceptance
        s["capacity"] = int(rng.integers(0, 9))
        s["occupied"] = int(rng.integers(0, 3))
        s["risk_classes"] = set(rng.choice(CLASSES, int(rng.integers(1, 4)), replace=False))
    if seed % 3 == 0:  # some roads missing
        inst.duration_s[rng.random(inst.duration_s.shape) < 0.2] = np.inf
    requests, _, sites = model_inputs(inst)

    got = assign_sites(requests, sites, inst.duration_s)

    persons, travel = best_assignment(inst)
    placed = [k for k in got.site if k >= 0]
    assert sum(r.group_size for r, k in zip(requests, got.site, strict=True) if k >= 0) == persons
    assert got.travel_s == pytest.approx(travel, abs=1e-6)
    assert got.optimal
    load = np.bincount(
        got.site[got.site >= 0],
        weights=[r.group_size for r, k in zip(requests, got.site, strict=True) if k >= 0],
        minlength=len(sites),
    )
    assert all(load[k] <= s.remaining for k, s in enumerate(sites))
    for r, k in zip(requests, got.site, strict=True):
        if k >= 0:
            assert r.risk_class in sites[k].risk_classes
    assert len(placed) == sum(why is None for why in got.reason)


def test_reasons_for_households_left_out():
    t = np.array(
        [
            [0, 1, 1, 1, 5, 5],
            [1, 0, 1, 1, 5, 5],
            [1, 1, 0, 1, np.inf, np.inf],
            [1, 1, 1, 0, 5, 5],
            [5, 5, 5, 5, 0, 1],
            [5, 5, 5, 5, 1, 0],
        ],
        dtype=float,
    )
    requests = [
        TransferRequest("a", 0, 3, "close_contact"),
        TransferRequest("b", 1, 2, "close_contact"),
        TransferRequest("c", 2, 1, "close_contact"),  # no road to a site
        TransferRequest("d", 3, 1, "secondary_contact"),  # no site takes the class
    ]
    sites = [
        IsolationSite("s4", 4, capacity=4, occupied=1, risk_classes=frozenset({"close_contact"})),
        IsolationSite("s5", 5, capacity=9, occupied=9, risk_classes=frozenset({"close_contact"})),
    ]
    got = assign_sites(requests, sites, t)
    assert got.site.tolist() == [0, -1, -1, -1]  # 3 persons beat 2 in the 3 places left
    assert got.reason == (
        None,
        "no_capacity_for_risk_class",
        "unreachable",
        "no_capacity_for_risk_class",
    )


def test_empty_inputs():
    got = assign_sites([], [], np.zeros((0, 0)))
    assert got.site.shape == (0,)
    assert got.travel_s == 0.0
    assert got.optimal
