"""The standard address nearest to a text by trigram similarity (``pg_trgm``).

The plain alternative to :class:`~geogrid.spatial.addresses.AddressMatcher`: PostgreSQL's
``%`` operator on ``addresses.normalized``, served by its GIN trigram index, then the most
similar row. ``benchmarks/address_match.py --eval`` runs it beside geogrid's matcher.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, text

__all__ = ["TrigramHit", "nearest_by_trigram"]

_NEAREST = text(
    "SELECT code, similarity(normalized, :q) AS score, ST_X(geom) AS lon, ST_Y(geom) AS lat "
    "FROM addresses WHERE normalized % :q ORDER BY score DESC, code LIMIT 1"
)


@dataclass(frozen=True, slots=True)
class TrigramHit:
    """The most similar standard address, or ``code=None`` when none passes the threshold."""

    code: str | None
    score: float
    lon: float | None
    lat: float | None


def nearest_by_trigram(
    conn: Connection, texts: Sequence[str], *, threshold: float = 0.3
) -> list[TrigramHit]:
    """Return, for each (normalised) text, the most similar standard address.

    ``threshold`` is ``pg_trgm.similarity_threshold`` for this transaction: rows less
    similar are not considered.
    """
    conn.execute(
        text("SELECT set_config('pg_trgm.similarity_threshold', :t, true)"), {"t": str(threshold)}
    )
    out = []
    for q in texts:
        row = conn.execute(_NEAREST, {"q": q}).first()
        if row is None:
            out.append(TrigramHit(None, 0.0, None, None))
        else:
            out.append(TrigramHit(str(row.code), float(row.score), float(row.lon), float(row.lat)))
    return out
