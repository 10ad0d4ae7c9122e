"""Limits and failures: body size (413), statement timeout (504), escaped database errors
(503), unexpected errors (JSON 500), and the one JSON log line each request leaves."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import psycopg
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text

from geogrid.api.app import create_app
from geogrid.api.errors import install_error_handlers
from geogrid.api.logging import install_request_logging
from geogrid.db.engine import create_geogrid_engine
from geogrid.settings import Settings
from geogrid.workspace import Workspace
from geogrid.workspace.credentials import issue_key
from tests.conftest import X0, Y0

LIMIT = 2048
ROW = {"lon": X0 + 0.01, "lat": Y0 + 0.01}


def _client(engine: Engine, **overrides: object) -> tuple[TestClient, dict[str, str]]:
    settings = Settings(max_body_bytes=LIMIT, warm_up=False, cache_check_interval_s=0, **overrides)
    workspace = Workspace(engine, settings)
    key = issue_key(workspace, "limits test", "admin").key
    client = TestClient(create_app(settings, workspace=workspace))
    return client, {"Authorization": f"Bearer {key}"}


@pytest.fixture
def county_client(county_db: Engine) -> tuple[TestClient, dict[str, str]]:
    return _client(county_db)


def _json_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "geogrid.access"]


def test_declared_body_over_the_limit_is_413_before_anything_else(
    county_client: tuple[TestClient, dict[str, str]],
) -> None:
    client, auth = county_client
    small = json.dumps({"rows": [ROW] * 10}).encode()
    assert len(small) < LIMIT
    assert client.post("/locate/batch", content=small, headers=auth).status_code == 200
    big = json.dumps({"rows": [ROW] * 100}).encode()
    assert len(big) > LIMIT
    # no credential either: the body limit answers first, without reading the body
    response = client.post("/locate/batch", content=big)
    assert response.status_code == 413
    assert response.json() == {
        "code": "too_large",
        "message": f"the request body has {len(big):,} bytes; the limit is {LIMIT:,} bytes",
        "details": {"limit": LIMIT, "bytes": len(big)},
    }
    assert response.headers["X-Request-ID"]


def test_undeclared_body_is_counted(county_client: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = county_client

    def chunks(n: int) -> Iterator[bytes]:  # no Content-Length: sent chunked
        yield b'{"rows": ['
        for i in range(n):
            yield (b", " if i else b"") + json.dumps(ROW).encode() + b" " * 400
        yield b"]}"

    fine = client.post("/locate/batch", content=chunks(3), headers=auth)
    assert fine.status_code == 200
    assert len(fine.json()["results"]) == 3
    response = client.post("/locate/batch", content=chunks(100), headers=auth)
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert response.json()["details"] == {"limit": LIMIT}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_real_server_refuses_a_chunked_upload_and_closes(county_db: Engine) -> None:
    client, auth = _client(county_db)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(client.app, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(100):
            if server.started:
                break
            time.sleep(0.05)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.putrequest("POST", "/locate/batch")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Authorization", auth["Authorization"])
        conn.endheaders()
        chunk = b" " * 1024
        try:
            for _ in range(64):  # 64 KiB announced nowhere; the limit is 2 KiB
                conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may stop listening once it has answered
        response = conn.getresponse()
        body = json.loads(response.read())
        assert response.status == 413
        assert body["code"] == "too_large"
        assert response.getheader("Connection") == "close"
        assert response.getheader("X-Request-ID")
    finally:
        server.should_exit = True
        thread.join(10)


def test_statement_timeout_is_504_and_the_service_goes_on(
    county_db: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    slow = create_geogrid_engine(
        county_db.url.render_as_string(False), Settings(statement_timeout_ms=200)
    )
    client, auth = _client(slow, statement_timeout_ms=200)
    point = {"lon": X0 + 0.01, "lat": Y0 + 0.01}
    # another session holds the grids table (a long migration, say): reading it must wait
    with county_db.connect() as blocker:
        blocker.execute(text("LOCK TABLE grids IN ACCESS EXCLUSIVE MODE"))
        started = time.perf_counter()
        with caplog.at_level("INFO", logger="geogrid"):
            response = client.get("/locate", params=point, headers=auth)
        waited = time.perf_counter() - started
        blocker.rollback()
    assert response.status_code == 504
    assert response.json()["code"] == "query_timeout"
    assert response.json()["details"] == {"timeout_ms": 200}
    assert waited < 5
    logged = [r for r in _json_lines(caplog) if r["request_id"] == response.headers["X-Request-ID"]]
    assert len(logged) == 1
    assert logged[0]["status"] == 504
    assert logged[0]["error"] == "query_timeout"
    assert logged[0]["path"] == "/locate"
    assert "lon" not in json.dumps(logged)  # never the query string
    again = client.get("/locate", params=point, headers=auth)
    assert again.status_code == 200
    assert again.json()["chain"][-1]["code"] == "C-001-001-01"
    slow.dispose()


def test_unexpected_failure_is_a_json_500_with_the_request_id(
    county_db: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    client, auth = _client(county_db)
    with county_db.begin() as conn:  # a database missing a table: a bug, not an outage
        conn.execute(text("DROP TABLE grid_workers CASCADE"))
    address = "平阳县鳌江镇乙村工业路4号"
    with caplog.at_level("INFO", logger="geogrid"):
        response = client.get(
            "/locate", params={"address": address}, headers={**auth, "X-Request-ID": "req-42"}
        )
    assert response.status_code == 500
    assert response.headers["X-Request-ID"] == "req-42"
    assert response.json()["code"] == "internal_error"
    assert response.json()["details"] == {"request_id": "req-42"}
    (logged,) = [r for r in _json_lines(caplog) if r["request_id"] == "req-42"]
    assert logged["status"] == 500
    assert logged["exception"] == "DatabaseError"  # pandas' wrapper of the driver's error
    assert logged["where"]
    text_logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "乙村" not in text_logged
    assert "does not exist" not in text_logged  # never the message, so never SQL
    assert "SELECT" not in text_logged


def test_database_errors_that_escape_are_503_or_504(tmp_path: Path, pg_server) -> None:
    """Code that reaches the database around geogrid's engines still answers 503/504."""
    dead = f"postgresql+psycopg://postgres@/geogrid?host={tmp_path}&port=1"
    app = FastAPI()
    install_error_handlers(app)
    install_request_logging(app)

    @app.get("/driver")
    def driver() -> None:
        psycopg.connect(f"host={tmp_path} port=1 dbname=geogrid user=postgres")

    @app.get("/plain-engine")
    def plain_engine() -> None:
        create_engine(dead).connect()

    @app.get("/cancelled")
    def cancelled() -> None:
        with create_engine(pg_server.admin_url).connect() as conn:
            conn.execute(text("SET statement_timeout = 100"))
            conn.execute(text("SELECT pg_sleep(2)"))

    @app.get("/pandas")
    def pandas_read() -> None:
        with create_engine(pg_server.admin_url).connect() as conn:
            conn.execute(text("SET statement_timeout = 100"))
            pd.read_sql(text("SELECT pg_sleep(2)"), conn)

    client = TestClient(app)
    for path in ("/driver", "/plain-engine"):
        response = client.get(path)
        assert response.status_code == 503, path
        assert response.headers["Retry-After"].isdigit()
        assert response.json()["code"] == "database_unavailable"
        assert response.headers["X-Request-ID"]
    for path in ("/cancelled", "/pandas"):
        response = client.get(path)
        assert response.status_code == 504, path
        assert response.json()["code"] == "query_timeout"


def test_every_operation_declares_the_shared_error_answers(tmp_path: Path) -> None:
    dead = create_geogrid_engine(f"postgresql+psycopg://postgres@/geogrid?host={tmp_path}&port=1")
    schema = create_app(Settings(warm_up=False), workspace=Workspace(dead)).openapi()
    operations = [(path, op) for path, ops in schema["paths"].items() for op in ops.values()]
    assert len(operations) >= 20
    public = []
    for path, op in operations:
        responses = op["responses"]
        assert "500" in responses, path
        if "security" not in op:  # static answers: proven below to need no database
            public.append(path)
            continue
        for status in ("503", "504"):
            assert status in responses, (path, status)
        assert "Retry-After" in responses["503"].get("headers", {}), path
        if "requestBody" in op:
            assert "413" in responses, path
        if "422" in responses:  # geogrid's error body, not FastAPI's HTTPValidationError
            assert "HTTPValidationError" not in json.dumps(responses["422"]), path
    # An operation declared public (no key) must be static: it answers with the database down.
    assert {"/", "/conformance"} <= set(public)
    with TestClient(create_app(Settings(warm_up=False), workspace=Workspace(dead))) as client:
        for path in public:
            concrete = path.replace("{name}", "maplibre-gl.js")
            assert "{" not in concrete, f"give {path} an example value here"
            answer = client.get(concrete)
            assert answer.status_code == 200, (path, answer.status_code, answer.text[:200])
