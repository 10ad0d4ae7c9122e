"""pg_trgm's nearest standard address (the benchmark's plain peer) on a real PostGIS."""

from __future__ import annotations

from sqlalchemy import Engine

from geogrid.db.queries.addresses import nearest_by_trigram
from geogrid.spatial.addresses import normalize_address


def test_nearest_by_trigram(county_db: Engine) -> None:
    texts = ["平阳县鳌江镇乙村工业路4号", "鳌江镇乙村工业路4号附近", "完全无关的文字"]
    with county_db.begin() as conn:
        exact, noisy, unrelated = nearest_by_trigram(conn, [normalize_address(t) for t in texts])
    assert (exact.code, exact.score) == ("C-001-002-A2", 1.0)
    assert noisy.code == "C-001-002-A2"
    assert 0.3 <= noisy.score < 1.0
    assert (unrelated.code, unrelated.score, unrelated.lon) == (None, 0.0, None)
    assert exact.lon is not None
    assert exact.lat is not None
