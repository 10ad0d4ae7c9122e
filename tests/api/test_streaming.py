"""No request stalls another: batch and edit bodies counted while they stream in, refused
as soon as they pass a limit, parsed and answered off the event loop (real uvicorn server
on a loopback port, raw sockets, so the client keeps sending while the server answers)."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from geogrid.api.app import create_app
from geogrid.settings import Settings
from geogrid.workspace import Workspace
from tests.conftest import X0, Y0, api_key, bearer

pytestmark = pytest.mark.db

LIMIT = 1000


@dataclass
class Server:
    """A real uvicorn server on a loopback port, and an admin key for it."""

    port: int
    key: str
    workspace: Workspace
    app: FastAPI


@pytest.fixture
def server(county_db: Engine) -> Iterator[Server]:
    settings = Settings(
        max_batch_rows=LIMIT, max_vertices=500, warm_up=False, cache_check_interval_s=60
    )
    key = api_key(county_db, "admin")  # before the credentials are cached
    workspace = Workspace(county_db, settings)
    workspace.warm_up()
    app = create_app(settings, workspace=workspace)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    for _ in range(200):
        if uv.started:
            break
        time.sleep(0.05)
    try:
        yield Server(port, key, workspace, app)
    finally:
        uv.should_exit = True
        thread.join(10)


@dataclass
class Upload:
    """What a raw upload saw: the answer, and how much of the body was sent by then."""

    status: int
    headers: dict[str, str]
    body: bytes
    sent_when_answered: int
    size: int


def upload(server: Server, method: str, path: str, content_type: str, body: bytes) -> Upload:
    """Send ``body`` from one thread while reading the answer in this one."""
    conn = socket.create_connection(("127.0.0.1", server.port), timeout=60)
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {server.key}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    sent = 0

    def send() -> None:
        nonlocal sent
        conn.sendall(head)
        view = memoryview(body)
        try:
            while sent < len(body):
                sent += conn.send(view[sent : sent + 65536])
        except OSError:
            pass  # the server answered and closed: the rest is never read

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    data = b""
    while b"\r\n\r\n" not in data:
        data += conn.recv(65536)
    sent_when_answered = sent
    head_text, _, rest = data.partition(b"\r\n\r\n")
    lines = head_text.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers["content-length"])
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        rest += chunk
    sender.join(30)
    conn.close()
    return Upload(int(lines[0].split()[1]), headers, rest, sent_when_answered, len(body))


def csv_rows(n: int) -> bytes:
    return b"id,lon,lat\n" + b"".join(
        b"%d,%.5f,%.5f\n" % (i, X0 + 0.001 + (i % 79) * 0.001, Y0 + 0.001) for i in range(n)
    )


def json_rows(n: int) -> bytes:
    rows = [
        {"id": str(i), "lon": X0 + 0.001 + (i % 79) * 0.001, "lat": Y0 + 0.001} for i in range(n)
    ]
    return json.dumps({"rows": rows}).encode()


@pytest.mark.parametrize(
    ("kind", "body"),
    [("text/csv", csv_rows(1_000_000)), ("application/json", json_rows(500_000))],
    ids=["csv", "json"],
)
def test_a_batch_over_the_limit_is_refused_before_it_is_read(
    server: Server, kind: str, body: bytes
) -> None:
    assert len(body) > 20_000_000  # far more than loopback socket buffers hold
    answer = upload(server, "POST", "/locate/batch", kind, body)
    assert answer.status == 413
    assert json.loads(answer.body) == {
        "code": "too_large",
        "message": f"the batch has more than {LIMIT:,} rows; the limit is {LIMIT:,}",
        "details": {"limit": LIMIT},
    }
    assert answer.headers["connection"] == "close"
    # answered while most of the body was still unsent: the server stopped reading it
    assert answer.sent_when_answered < answer.size // 2


@pytest.mark.parametrize(
    ("kind", "make"), [("text/csv", csv_rows), ("application/json", json_rows)], ids=["csv", "json"]
)
def test_a_whole_batch_over_the_limit_names_its_rows(
    server: Server, kind: str, make: Callable[[int], bytes]
) -> None:
    client = TestClient(server.app, headers=bearer(server.key))
    response = client.post("/locate/batch", content=make(LIMIT + 1), headers={"content-type": kind})
    assert response.status_code == 413
    assert response.json()["details"] == {"rows": LIMIT + 1, "limit": LIMIT}
    fits = client.post("/locate/batch", content=make(LIMIT), headers={"content-type": kind})
    assert fits.status_code == 200
    results = fits.json()["results"]
    assert [r["row"] for r in results] == list(range(1, LIMIT + 1))
    assert [r["id"] for r in results] == [str(i) for i in range(LIMIT)]
    assert all(r["ok"] for r in results)
    # slices of rows are written as one answer: the same as one model written at once
    assert fits.json()["summary"] == {"status:ok": LIMIT}


def test_batch_rows_have_the_caps_of_get(server: Server) -> None:
    client = TestClient(server.app, headers=bearer(server.key))
    address = "平阳县鳌江镇乙村工业路4号"
    long_address = address + "号" * (201 - len(address))
    assert len(long_address) == 201
    assert client.get("/locate", params={"address": long_address}).status_code == 422
    rows = [
        {"id": "ok", "address": address},
        {"id": "long", "address": long_address},
        {"id": "huge", "address": "x" * 10_000_000},
        {"id": "i" * 201, "lon": X0 + 0.01, "lat": Y0 + 0.01},
        {"id": "crs", "lon": X0 + 0.01, "lat": Y0 + 0.01, "crs": "E" * 201},
    ]
    response = client.post("/locate/batch", json={"rows": rows})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["ok"] for r in results] == [True, False, False, False, False]
    assert results[0]["answer"]["address"]["code"] == "C-001-002-A2"
    assert results[1]["error"] == "the address has 201 characters; the limit is 200"
    assert results[2]["error"] == "the address has 10,000,000 characters; the limit is 200"
    assert results[3]["error"] == "the id has 201 characters; the limit is 200"
    assert results[3]["id"] is None  # not echoed back
    assert results[4]["error"] == "the crs has 201 characters; the limit is 200"
    csv = f"id,address\n1,{address}\n2,{long_address}\n".encode()
    from_csv = client.post("/locate/batch", content=csv, headers={"content-type": "text/csv"})
    assert [r["error"] for r in from_csv.json()["results"]] == [
        None,
        "the address has 201 characters; the limit is 200",
    ]


def test_an_edit_over_the_vertex_limit_is_refused_before_it_is_read(server: Server) -> None:
    angle = np.linspace(0, 2 * np.pi, 500_000, endpoint=False)
    ring = np.column_stack([X0 + 0.05 + 0.005 * np.cos(angle), Y0 + 0.02 + 0.005 * np.sin(angle)])
    feature = {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [[*ring.tolist(), ring[0].tolist()]]},
        "properties": {"code": "C-I03", "name": "大", "level": "industry", "parent_code": "C"},
    }
    body = json.dumps(feature).encode()
    assert len(body) > 15_000_000
    answer = upload(server, "POST", "/collections/grids/items", "application/geo+json", body)
    assert answer.status == 422
    assert json.loads(answer.body) == {
        "code": "too_many_vertices",
        "message": "the geometry has more than 500 vertices; the limit is 500",
        "details": {"limit": 500},
    }
    assert answer.sent_when_answered < answer.size // 2


def test_health_answers_while_a_big_batch_is_worked_on(server: Server) -> None:
    """A batch the server parses, locates and writes for seconds: /health, asked
    meanwhile on another connection, answers before the batch does, again and again."""
    server.workspace.settings.max_batch_rows = 200_000
    rows = b"id,lon,lat\n" + b"".join(b"%d,%d,\n" % (i, i) for i in range(200_000))  # no lat
    events: list[str] = []
    answered_at: list[float] = []
    batch_done = threading.Event()
    order = threading.Lock()  # "batch" and a "health" answer are recorded in the order they came

    def batch() -> None:
        answer = upload(server, "POST", "/locate/batch", "text/csv", rows)
        body = json.loads(answer.body)
        assert answer.status == 200
        assert body["summary"] == {"failed": 200_000}
        with order:
            events.append("batch")
            batch_done.set()

    worker = threading.Thread(target=batch)
    started = time.perf_counter()
    worker.start()
    health = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    while not batch_done.is_set():
        health.request("GET", "/health", headers=bearer(server.key))
        response = health.getresponse()
        assert response.status == 200
        assert json.loads(response.read())["status"] == "ok"
        with order:
            if not batch_done.is_set():
                events.append("health")
                answered_at.append(time.perf_counter())
    ended = time.perf_counter()
    worker.join(60)
    assert events[-1] == "batch"
    # the loop answered /health throughout: answers in every quarter of the batch's time
    # (a loop blocked by the batch answers only before and after it), however fast the
    # machine is
    assert events.count("health") >= 10
    quarters = {int(4 * (t - started) / (ended - started)) for t in answered_at}
    assert quarters >= {0, 1, 2, 3}
