"""Ceiling for benchmarks/api_locate.sh: the same URL answered with a fixed body.

FastAPI parses ``lon``/``lat`` exactly as geogrid's route does and returns a constant
answer of the same size, so the difference to geogrid is the cost of locating (and of
geogrid's middleware) and what remains is the framework's and the server's own.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import FastAPI, Query, Response

BODY = (
    '{"status":"found","chain":[{"code":"330326","name":"平阳县","level":"county"},'
    '{"code":"330326-101","name":"鳌江镇","level":"town"},'
    '{"code":"330326-101-003","name":"曾山村","level":"village"},'
    '{"code":"330326-101-003-02","name":"曾山村第2网格","level":"micro"}],'
    '"industry":[],"worker":{"name":"张*","phone":"138****0000"},'
    '"point":{"lon":120.6,"lat":27.6},"confidence":1.0}'
).encode()

app = FastAPI()


@app.get("/locate")
async def locate(
    lon: Annotated[float | None, Query()] = None,
    lat: Annotated[float | None, Query()] = None,
    crs: Annotated[str, Query()] = "wgs84",
) -> Response:
    """Return a fixed answer after parsing the query like geogrid does."""
    if lon is None or lat is None or not crs:
        return Response(status_code=422)
    return Response(BODY, media_type="application/json")
