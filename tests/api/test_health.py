"""``/health`` reports the database and its extensions, or 503 while it is down."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from geogrid.api.app import create_app
from geogrid.db.engine import create_geogrid_engine
from geogrid.workspace import Workspace


def test_health_reports_versions(empty_db: Engine) -> None:
    client = TestClient(create_app(workspace=Workspace(empty_db)))
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    with empty_db.connect() as conn:
        postgis = conn.execute(
            text("SELECT extversion FROM pg_extension WHERE extname = 'postgis'")
        ).scalar_one()
    assert body["database"]["postgis"].startswith(postgis.split(".")[0])
    assert re.fullmatch(r"\d+\.\d+", body["database"]["postgresql"])
    assert re.fullmatch(r"\d+\.\d+\.\d+", body["database"]["pgrouting"])


def test_health_says_503_when_the_database_is_down(tmp_path) -> None:
    gone = create_geogrid_engine(f"postgresql+psycopg://postgres@/geogrid?host={tmp_path}&port=1")
    client = TestClient(create_app(workspace=Workspace(gone)))
    response = client.get("/health")
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert response.json()["database"]["reachable"] is False
