"""Baseline for benchmarks/api_locate.sh: answer /locate with one PostGIS query per request.

Same URL and the same chain in the answer as geogrid's route, but every request asks
PostGIS (ST_Covers with the first-code rule, one lateral subquery per level) instead of
the in-memory GridIndex.
"""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import text

from geogrid.db.engine import get_engine

SQL = text(
    """
    SELECT l.level, (SELECT code FROM grids g WHERE g.level = l.level
                     AND ST_Covers(g.geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))
                     ORDER BY code COLLATE "C" LIMIT 1) AS code
    FROM unnest(ARRAY['county', 'town', 'village', 'micro']) AS l(level)
    """
)

app = FastAPI()


@app.get("/locate")
def locate(lon: float, lat: float) -> dict[str, object]:
    """Return the grid chain of a WGS 84 point, straight from PostGIS."""
    with get_engine().connect() as conn:
        rows = conn.execute(SQL, {"lon": lon, "lat": lat}).all()
    return {"chain": [{"level": level, "code": code} for level, code in rows if code]}
