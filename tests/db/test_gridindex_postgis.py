"""GridIndex agrees with PostGIS on every point of the demo county.

The reference is computed by PostGIS alone: for each level, the grid whose code sorts
first among those that ``ST_Covers`` the point (the stated tie-break). The points are
100,000 random points over the county, plus points exactly on shared borders: boundary
vertices of village and micro grids, and midpoints of their boundary segments.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from sqlalchemy import Engine, text

from geogrid.db.queries.snapshots import read_grids
from geogrid.spatial.gridindex import GridIndex

LEVELS = ("county", "town", "village", "micro")


def _border_points(grids, rng: np.random.Generator, n: int) -> np.ndarray:
    inner = grids[grids["level"].isin(["village", "micro"])]
    rings = shapely.get_exterior_ring(shapely.get_parts(inner.geometry.to_numpy()))
    coords = shapely.get_coordinates(rings)
    vertices = coords[rng.choice(len(coords), n, replace=False)]
    starts = rng.choice(len(coords) - 1, n, replace=False)
    midpoints = (coords[starts] + coords[starts + 1]) / 2  # may be off the segment by 1 ulp
    return np.vstack([vertices, midpoints])


def _postgis_owners(engine: Engine, xy: np.ndarray) -> dict[str, list]:
    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        with raw.cursor() as cur:
            cur.execute("CREATE TEMP TABLE pts (i int PRIMARY KEY, geom geometry(Point, 4326))")
            with cur.copy("COPY pts (i, geom) FROM STDIN") as copy:
                for i, (x, y) in enumerate(xy):
                    copy.write_row(
                        (i, shapely.to_wkb(shapely.Point(x, y), hex=True, include_srid=False))
                    )
            cur.execute("UPDATE pts SET geom = ST_SetSRID(geom, 4326)")
            cur.execute("CREATE INDEX ON pts USING gist (geom)")
            cur.execute("ANALYZE pts")
        owners: dict[str, list] = {}
        for level in LEVELS:
            found = dict(
                conn.execute(
                    text(
                        "SELECT DISTINCT ON (p.i) p.i, g.code FROM pts p JOIN grids g "
                        "ON g.level = :level AND ST_Covers(g.geom, p.geom) "
                        'ORDER BY p.i, g.code COLLATE "C"'
                    ),
                    {"level": level},
                ).all()
            )
            owners[level] = [found.get(i) for i in range(len(xy))]
        industry = dict(
            conn.execute(
                text(
                    'SELECT p.i, array_agg(g.code ORDER BY g.code COLLATE "C") FROM pts p '
                    "JOIN grids g ON g.level = 'industry' AND ST_Covers(g.geom, p.geom) "
                    "GROUP BY p.i"
                )
            ).all()
        )
        owners["industry"] = [industry.get(i, []) for i in range(len(xy))]
    return owners


@pytest.mark.slow
def test_gridindex_agrees_with_postgis_on_the_demo_county(demo_db: Engine) -> None:
    with demo_db.connect() as conn:
        grids = read_grids(conn)
    rng = np.random.default_rng(20200131)
    minx, miny, maxx, maxy = grids.total_bounds
    random = np.column_stack([rng.uniform(minx, maxx, 100_000), rng.uniform(miny, maxy, 100_000)])
    xy = np.vstack([random, _border_points(grids, rng, 5_000)])

    index = GridIndex.from_geodataframe(grids)
    found = index.locate(xy[:, 0], xy[:, 1])
    expected = _postgis_owners(demo_db, xy)

    for level in LEVELS:
        mine = found.codes(level)
        disagree = [i for i in range(len(xy)) if mine[i] != expected[level][i]]
        assert not disagree, (
            f"{len(disagree)} points disagree at level {level}, e.g. point "
            f"{xy[disagree[0]].tolist()}: index {mine[disagree[0]]}, "
            f"PostGIS {expected[level][disagree[0]]}"
        )
    assert found.industry_codes() == expected["industry"]
    # the one-point path (the API's) on the border points and a sample of the others
    for i in [*range(0, 100_000, 50), *range(100_000, len(xy))]:
        one = index.locate_one(*xy[i])
        assert [one.code(level) for level in LEVELS] == [expected[lv][i] for lv in LEVELS], i
        assert list(one.industry_codes) == expected["industry"][i], i
    # outside the county PostGIS finds no county, and the index says so explicitly
    outside = np.array([c is None for c in expected["county"]])
    assert outside.any()
    assert (found.status[outside] == "outside").all()
    assert (found.status[~outside] != "outside").all()
