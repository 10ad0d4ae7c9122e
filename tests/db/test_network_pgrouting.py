"""The in-memory RoadNetwork gives pgRouting's answers on the demo road network."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import Engine, text

from geogrid.db.queries.roads import read_roads
from geogrid.spatial.network import RoadNetwork


@pytest.fixture(scope="module")
def network(demo_db: Engine) -> RoadNetwork:
    with demo_db.connect() as conn:
        return RoadNetwork.from_geodataframe(read_roads(conn))


def test_travel_times_equal_pgr_dijkstracost(demo_db: Engine, network: RoadNetwork) -> None:
    with demo_db.connect() as conn:
        nodes = np.array(
            conn.execute(text("SELECT DISTINCT source FROM roads ORDER BY source")).scalars().all()
        )
    rng = np.random.default_rng(42)
    sources = rng.choice(nodes, 20, replace=False)
    targets = rng.choice(nodes, 10, replace=False)  # 200 pairs
    with demo_db.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT start_vid, end_vid, agg_cost FROM pgr_dijkstraCost("
                "'SELECT id, source, target, cost, reverse_cost FROM roads', "
                ":sources, :targets, directed := true)"
            ),
            {"sources": sources.tolist(), "targets": targets.tolist()},
        ).all()
    expected = {(int(s), int(t)): cost for s, t, cost in rows}
    mine = network.cost_matrix(sources, targets, weight="time")
    compared = 0
    for i, s in enumerate(sources):
        for j, t in enumerate(targets):
            if s == t:
                continue
            assert (int(s), int(t)) in expected, f"pgRouting finds no path {s} → {t}"
            assert mine[i, j] == pytest.approx(expected[int(s), int(t)], rel=1e-3)
            compared += 1
    assert compared >= 190


def test_driving_distance_equals_pgr_drivingdistance(demo_db: Engine, network: RoadNetwork) -> None:
    with demo_db.connect() as conn:
        start = conn.execute(text("SELECT source FROM roads ORDER BY id LIMIT 1")).scalar_one()
        rows = conn.execute(
            text(
                "SELECT node, agg_cost FROM pgr_drivingDistance("
                "'SELECT id, source, target, length_m AS cost, "
                "CASE WHEN reverse_cost < 0 THEN -1 ELSE length_m END AS reverse_cost "
                "FROM roads', :start, 2000, directed := true)"
            ),
            {"start": start},
        ).all()
    expected = {int(node): cost for node, cost in rows}
    area = network.service_area([start], 2000.0, weight="length")
    mine = dict(zip(area.node_ids.tolist(), area.node_cost.tolist(), strict=True))
    assert set(mine) == set(expected)
    for node, cost in expected.items():
        assert mine[node] == pytest.approx(cost, rel=1e-6, abs=1e-6)
