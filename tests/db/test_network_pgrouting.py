"""The in-memory RoadNetwork gives pgRouting's answers on the demo road network."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import Engine, text

from geogrid.db.queries.roads import read_roads
from geogrid.spatial.roads.network import RoadNetwork


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


def _pgr_costs(conn, pairs: list[tuple[int, int]]) -> dict[tuple[int, int], float]:
    """Return pgRouting's cost for each ``(start, end)`` node pair (absent: unreachable)."""
    starts = ",".join(str(int(s)) for s, _ in pairs)
    ends = ",".join(str(int(t)) for _, t in pairs)
    rows = conn.execute(
        text(
            "SELECT start_vid, end_vid, agg_cost FROM pgr_dijkstraCost("
            "'SELECT id, source, target, cost, reverse_cost FROM roads', "
            f"'SELECT unnest(ARRAY[{starts}]::bigint[]) AS source, "
            f"unnest(ARRAY[{ends}]::bigint[]) AS target', directed := true)"
        )
    ).all()
    out = {(int(s), int(t)): float(cost) for s, t, cost in rows}
    out |= {(int(s), int(t)): 0.0 for s, t in pairs if s == t}
    return out


def test_one_way_ends_route_like_their_nodes(demo_db: Engine, network: RoadNetwork) -> None:
    # a place at the start of a one-way road (as origin) or at its end (as destination)
    # is that node: its cost is pgRouting's from/to the node id, never "drive the road"
    one_way = np.flatnonzero((network.cost_s >= 0) & (network.reverse_cost_s < 0))
    assert len(one_way) >= 120  # every one of them (124 on the demo)
    rng = np.random.default_rng(7)
    ends = one_way
    others = rng.choice(network.node_ids, len(ends))
    start, end = network.source[ends], network.target[ends]
    with demo_db.connect() as conn:
        expected_from = _pgr_costs(conn, list(zip(start, others, strict=True)))
        expected_to = _pgr_costs(conn, list(zip(others, end, strict=True)))
    # the places: given as fractions, and found by snapping the node's own coordinates
    at_start = network.snapped_from_fractions(ends, np.zeros(len(ends)))
    at_end = network.snapped_from_fractions(ends, np.ones(len(ends)))
    pos_start = np.searchsorted(network.node_ids, start)
    pos_end = np.searchsorted(network.node_ids, end)
    snapped_start = network.snap(network.node_lon[pos_start], network.node_lat[pos_start])
    snapped_end = network.snap(network.node_lon[pos_end], network.node_lat[pos_end])
    assert np.all(snapped_start.distance_m < 1e-3)
    assert np.all(snapped_end.distance_m < 1e-3)
    checks = {
        "from start (fraction 0)": (network.cost_matrix(at_start, others), expected_from, False),
        "from start (snapped)": (network.cost_matrix(snapped_start, others), expected_from, False),
        "to end (fraction 1)": (network.cost_matrix(others, at_end), expected_to, True),
        "to end (snapped)": (network.cost_matrix(others, snapped_end), expected_to, True),
    }
    disagree: list[tuple[str, int]] = []
    finite = 0
    for name, (matrix, expected, to_end) in checks.items():
        for i in range(len(ends)):
            pair = (int(others[i]), int(end[i])) if to_end else (int(start[i]), int(others[i]))
            want = expected.get(pair, np.inf)
            got = matrix[i, i]
            finite += bool(np.isfinite(want))
            if not (got == pytest.approx(want, rel=1e-9, abs=1e-9) or got == want == np.inf):
                disagree.append((name, i))
    assert disagree == []
    assert finite >= 4 * 100
    # shortest paths agree too, on both kinds of ends
    for i in range(0, len(ends), 5):
        leave = network.shortest_path(at_start[i], int(others[i]))
        arrive = network.shortest_path(int(others[i]), at_end[i])
        want_leave = expected_from.get((int(start[i]), int(others[i])), np.inf)
        want_arrive = expected_to.get((int(others[i]), int(end[i])), np.inf)
        assert leave.cost == pytest.approx(want_leave, rel=1e-9) or leave.cost == want_leave
        assert arrive.cost == pytest.approx(want_arrive, rel=1e-9) or arrive.cost == want_arrive
