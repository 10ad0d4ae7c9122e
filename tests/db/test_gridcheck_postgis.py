"""check_grids agrees with PostGIS on the demo grids and on a copy with injected defects.

The references are computed by PostGIS alone, on ``geography`` (the WGS 84 ellipsoid):
pairwise sibling overlaps ``ST_Area(ST_Intersection(a, b)::geography)``, gaps
``ST_Area(ST_Difference(parent, ST_Union(children))::geography)`` and children outside
``ST_Area(ST_Difference(child, parent)::geography)``.
"""

from __future__ import annotations

import time
from collections import defaultdict

import pytest
from sqlalchemy import Engine, text

from geogrid.db.queries.snapshots import read_grids
from geogrid.ingest.demo import demo_path
from geogrid.ingest.load import LoadRequest, load_files
from geogrid.spatial.gridcheck import ProblemKind, check_grids

REL = 1e-3  # PostGIS geodesic areas against the local projection's
TOLERANCE_M2 = 1.0  # check_grids' default: smaller areas are not reported

SIBLINGS = """
SELECT a.code, b.code, ST_Area(ST_Intersection(a.geom, b.geom)::geography)
FROM grids a JOIN grids b
  ON a.parent_code = b.parent_code AND a.level = b.level AND a.code < b.code
 AND a.geom && b.geom AND ST_Relate(a.geom, b.geom, '2********')
JOIN grids p ON p.code = a.parent_code
WHERE a.level <> 'industry' AND p.level <> 'industry'
"""
GAPS = """
SELECT p.code, ST_Area(ST_Difference(p.geom, ST_Union(c.geom))::geography)
FROM grids p JOIN grids c ON c.parent_code = p.code AND c.level = CASE p.level
  WHEN 'county' THEN 'town' WHEN 'town' THEN 'village' WHEN 'village' THEN 'micro' END
GROUP BY p.code, p.geom
"""
OUTSIDE = """
SELECT c.code, ST_Area(ST_Difference(c.geom, p.geom)::geography)
FROM grids c JOIN grids p ON p.code = c.parent_code
WHERE c.level <> 'industry' AND NOT ST_CoveredBy(c.geom, p.geom)
"""


def _postgis(engine: Engine) -> tuple[dict, dict, dict]:
    with engine.connect() as conn:
        overlaps = {(a, b): area for a, b, area in conn.execute(text(SIBLINGS))}
        gaps = dict(conn.execute(text(GAPS)).all())
        outside = dict(conn.execute(text(OUTSIDE)).all())
    return overlaps, gaps, outside


def _mine(report) -> tuple[dict, dict, dict]:
    """Sum the report's areas like the PostGIS queries do (slivers by what they are of)."""
    overlaps: dict = defaultdict(float)
    gaps: dict = defaultdict(float)
    outside: dict = defaultdict(float)
    for p in report.problems:
        what = p.detail if p.kind == ProblemKind.SLIVER else p.kind.value
        if what == "overlap":
            overlaps[p.codes] += p.area_m2
        elif what == "gap":
            gaps[p.parent_code] += p.area_m2
        elif what == "outside":
            outside[p.codes[0]] += p.area_m2
    return overlaps, gaps, outside


def _agree(mine: dict, reference: dict, *, abs_m2: float) -> None:
    """Every area above the tolerance is on both sides, and the areas match."""
    big = {k for k, v in reference.items() if v > abs_m2}
    assert big <= mine.keys(), sorted(big - mine.keys())[:10]
    for key, area in mine.items():
        assert area == pytest.approx(reference.get(key, 0.0), rel=REL, abs=abs_m2), key


def test_the_demo_grids_are_clean_for_postgis_too(demo_db: Engine) -> None:
    with demo_db.connect() as conn:
        grids = read_grids(conn)
    started = time.perf_counter()
    report = check_grids(grids)
    elapsed = time.perf_counter() - started
    print(f"check_grids on the demo set ({len(grids)} grids): {elapsed:.2f} s")
    assert report.is_clean, [p.message for p in report.problems[:10]]
    assert report.parents_checked == 306
    overlaps, gaps, outside = _postgis(demo_db)
    assert len(gaps) == report.parents_checked
    assert max(overlaps.values(), default=0.0) < TOLERANCE_M2
    assert max(gaps.values()) < TOLERANCE_M2
    assert max(outside.values(), default=0.0) < TOLERANCE_M2


INJECT = [
    # 1. a village grows across its border into its neighbour (clipped to the town):
    #    an overlap of two villages, and a gap in the village among its micro-grids
    """
    WITH pair AS (
      SELECT a.code AS a, b.code AS b, a.parent_code AS town,
             ST_PointOnSurface(ST_Intersection(a.geom, b.geom)) AS at
      FROM grids a JOIN grids b ON a.parent_code = b.parent_code AND a.code < b.code
      WHERE a.level = 'village' AND b.level = 'village' AND a.parent_code = '330326-101'
        AND ST_Intersects(a.geom, b.geom)
      ORDER BY a.code, b.code LIMIT 1)
    UPDATE grids g SET geom = ST_Multi(ST_CollectionExtract(ST_Union(g.geom,
      ST_Intersection(ST_Buffer(pair.at, 0.002), t.geom)), 3))
    FROM pair JOIN grids t ON t.code = pair.town WHERE g.code = pair.a
    """,
    # 2. a hole in a village of another town: a gap in the town, micro-grids outside
    """
    UPDATE grids SET geom = ST_Multi(ST_Difference(geom, ST_Buffer(ST_PointOnSurface(geom), 0.001)))
    WHERE code = (SELECT min(code) FROM grids WHERE level = 'village'
                  AND parent_code = '330326-102')
    """,
    # 3. a micro-grid moved 30 m east: overlaps, a gap, and outside its village
    """
    UPDATE grids SET geom = ST_Translate(geom, 0.0003, 0)
    WHERE code = (SELECT min(code) FROM grids WHERE level = 'micro'
                  AND parent_code LIKE '330326-103-%')
    """,
]


@pytest.mark.slow
def test_injected_defects_agree_with_postgis(empty_db: Engine) -> None:
    load_files(empty_db, [LoadRequest(demo_path(), "grids", layer="grids")])
    with empty_db.begin() as conn:
        for statement in INJECT:
            assert conn.execute(text(statement)).rowcount == 1
    with empty_db.connect() as conn:
        grids = read_grids(conn)
    report = check_grids(grids)
    counts = report.counts()
    print("injected defects found:", {k: v for k, v in counts.items() if v})
    assert counts["overlap"] >= 2
    assert counts["gap"] >= 3
    assert counts["outside"] >= 2
    assert counts["invalid"] == counts["not_polygon"] == 0

    mine = _mine(report)
    reference = _postgis(empty_db)
    for found, expected in zip(mine, reference, strict=True):
        _agree(found, expected, abs_m2=2 * TOLERANCE_M2)
        worst = max(abs(v / expected[k] - 1) for k, v in found.items() if expected.get(k, 0) > 100)
        print(f"{len(found)} areas, worst relative difference to PostGIS {worst:.1e}")
    # the overlap injected first: the two villages of 330326-101 share a few hectares
    grown = [area for pair, area in mine[0].items() if pair[0].startswith("330326-101-")]
    assert max(grown) > 10_000
