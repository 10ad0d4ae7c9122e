"""Who may do what: every route of the API × every role, anonymous callers with reads open
and closed, jurisdiction, masking, and the credentials themselves.

The matrix runs on a copy of the demo database (it saves transport plans). Each row names
the status every caller gets; a route of the application without a row fails
:func:`test_every_route_has_a_row`, so a new route cannot go unguarded by accident.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pytest
import shapely
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, text
from typer.testing import CliRunner

from geogrid.access import ANONYMOUS, PERMISSION_NAMES, PERMISSIONS, Caller, Role
from geogrid.api.app import create_app
from geogrid.cli import app as cli_app
from geogrid.privacy import find_personal, mask_phone
from geogrid.settings import Settings
from geogrid.workspace import Workspace
from geogrid.workspace.credentials import list_keys, reissue_key
from tests.conftest import DEMO, DEMO_WORKER_GRID, api_key, bearer, database_copy

if TYPE_CHECKING:
    from tests.conftest import TestServer

CALLERS = ("admin", "planner", "dispatcher", "grid_worker", "app", "anonymous", "closed")
"""``anonymous``: no key, reads open (the default); ``closed``: no key, open_reads off."""

OTHER_VILLAGE = "330326-101-032"  # a village outside the grid worker's jurisdiction


# -- the data the matrix asks about ------------------------------------------------------


@pytest.fixture(scope="module")
def access_db(pg_server: TestServer, demo_db: Engine) -> Iterator[Engine]:
    """Return an engine on a private copy of the demo database."""
    demo_db.dispose()
    with database_copy(pg_server, DEMO) as engine:
        yield engine


@dataclass
class Refs:
    """Things of the demo data the requests name, found without geogrid's code."""

    own_point: tuple[float, float]  # inside the grid worker's village
    other_point: tuple[float, float]  # in another village
    own_people: list[str]  # codes of the people inside the worker's village (shapely)
    other_person: str  # a person outside it
    own_worker_phone: str  # the phone of the worker of that village
    checkpoint: str  # a stored checkpoint the writers may change
    admin: TestClient

    @cached_property
    def plan_id(self) -> int:
        """A saved transport plan (made by the admin on first use)."""
        plan = self.admin.post("/transport/plans", json=PLAN_BODY)
        assert plan.status_code == 201, plan.text
        return int(plan.json()["plan_id"])


@pytest.fixture(scope="module")
def keys(access_db: Engine) -> dict[str, str]:
    """Return one key per role on the copy (the grid worker's: :data:`DEMO_WORKER_GRID`)."""
    return {
        role.value: api_key(
            access_db, role.value, DEMO_WORKER_GRID if role == "grid_worker" else None
        )
        for role in Role
    }


@pytest.fixture(scope="module")
def clients(access_db: Engine, keys: dict[str, str]) -> dict[str, TestClient]:
    """Return a client per caller of :data:`CALLERS`."""
    workspace = Workspace(access_db, Settings(cache_check_interval_s=60))
    open_app = create_app(Settings(warm_up=False), workspace=workspace)
    closed_app = create_app(Settings(warm_up=False, open_reads=False), workspace=workspace)
    out = {role: TestClient(open_app, headers=bearer(key)) for role, key in keys.items()}
    out["anonymous"] = TestClient(open_app)
    out["closed"] = TestClient(closed_app)
    return out


@pytest.fixture(scope="module")
def refs(access_db: Engine, clients: dict[str, TestClient]) -> Refs:
    with access_db.connect() as conn:
        grids = gpd.read_postgis(
            text("SELECT code, geom FROM grids WHERE code IN (:a, :b)"),
            conn,
            params={"a": DEMO_WORKER_GRID, "b": OTHER_VILLAGE},
            geom_col="geom",
        ).set_index("code")
        people = gpd.read_postgis(
            text("SELECT code, geom FROM transfer_requests ORDER BY code"), conn, geom_col="geom"
        )
        phone = conn.execute(
            text("SELECT phone FROM grid_workers WHERE grid_code = :g ORDER BY code LIMIT 1"),
            {"g": DEMO_WORKER_GRID},
        ).scalar_one()
        checkpoint = conn.execute(text("SELECT min(code) FROM checkpoints")).scalar_one()
    own = grids.geometry[DEMO_WORKER_GRID]
    inside = shapely.covers(own, people.geometry.to_numpy())
    point = shapely.point_on_surface(own)
    other = shapely.point_on_surface(grids.geometry[OTHER_VILLAGE])
    return Refs(
        own_point=(point.x, point.y),
        other_point=(other.x, other.y),
        own_people=list(people["code"][inside]),
        other_person=str(people["code"][~inside].iloc[0]),
        own_worker_phone=phone,
        checkpoint=checkpoint,
        admin=clients["admin"],
    )


PLAN_BODY = {
    "requests": [
        {"code": "M1", "lon": 120.62, "lat": 27.58, "group_size": 2, "risk_class": "close_contact"}
    ],
    "vehicle_codes": ["V01"],
    "options": {"time_budget_s": 1},
}
REPLAN_BODY = {
    "requests": [
        {"code": "M2", "lon": 120.63, "lat": 27.59, "group_size": 1, "risk_class": "returnee"}
    ],
    "time_budget_s": 1,
}


# -- the matrix ----------------------------------------------------------------------------

Request = Callable[[Refs, str], dict[str, Any]]  # (refs, caller) -> client.request kwargs


def get(url: str | Callable[[Refs], str], **params: Any) -> Request:
    def build(refs: Refs, _caller: str) -> dict[str, Any]:
        where = url(refs) if callable(url) else url
        values = {k: v(refs) if callable(v) else v for k, v in params.items()}
        return {"method": "GET", "url": where, "params": values}

    return build


def post(url: str | Callable[[Refs], str], body: Any) -> Request:
    def build(refs: Refs, _caller: str) -> dict[str, Any]:
        return {"method": "POST", "url": url(refs) if callable(url) else url, "json": body}

    return build


def own_tile(refs: Refs, layer: str, z: int = 14) -> str:
    """Return the URL of the tile of ``layer`` under the grid worker's own point."""
    lon, lat = refs.own_point
    n = 2**z
    rad = math.radians(lat)
    y = int((1 - math.log(math.tan(rad) + 1 / math.cos(rad)) / math.pi) / 2 * n)
    return f"/collections/{layer}/tiles/WebMercatorQuad/{z}/{int((lon + 180) / 360 * n)}/{y}"


CHECKPOINTS = "/collections/checkpoints/items"


def checkpoint(code: str, **properties: Any) -> dict[str, Any]:
    """Return a GeoJSON checkpoint to write."""
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [120.61, 27.61]},
        "properties": {"code": code, "name": "测试卡口", "kind": "temporary", **properties},
    }


def create_checkpoint(refs: Refs, caller: str) -> dict[str, Any]:
    """POST a checkpoint of the caller's own (codes differ, so each allowed create is new)."""
    return {"method": "POST", "url": CHECKPOINTS, "json": checkpoint(f"ACL-{caller}")}


def replace_checkpoint(refs: Refs, caller: str) -> dict[str, Any]:
    return {
        "method": "PUT",
        "url": f"{CHECKPOINTS}/{refs.checkpoint}",
        "json": checkpoint(refs.checkpoint, staff=2),
        "headers": {"If-Match": "*"},
    }


def update_checkpoint(refs: Refs, caller: str) -> dict[str, Any]:
    return {
        "method": "PATCH",
        "url": f"{CHECKPOINTS}/{refs.checkpoint}",
        "json": {"properties": {"staff": 3}},
        "headers": {"If-Match": "*"},
    }


def delete_checkpoint(refs: Refs, caller: str) -> dict[str, Any]:
    """DELETE a checkpoint made (by the admin) for this caller to delete."""
    code = f"ACL-DEL-{caller}"
    made = refs.admin.post(CHECKPOINTS, json=checkpoint(code))
    assert made.status_code == 201, made.text
    return {"method": "DELETE", "url": f"{CHECKPOINTS}/{code}", "headers": {"If-Match": "*"}}


CORRECTIONS = "/addresses/corrections"


def create_correction(refs: Refs, caller: str) -> dict[str, Any]:
    """POST a correction of the caller's own text (each allowed one is new)."""
    body = {"text": f"ACL{caller}老酒厂对面", "grid_code": DEMO_WORKER_GRID}
    return {"method": "POST", "url": CORRECTIONS, "json": body}


def delete_correction(refs: Refs, caller: str) -> dict[str, Any]:
    """DELETE a correction made (by the admin) for this caller to remove."""
    body = {"text": f"ACL-DEL{caller}老酒厂对面", "grid_code": DEMO_WORKER_GRID}
    made = refs.admin.post(CORRECTIONS, json=body)
    assert made.status_code == 201, made.text
    return {"method": "DELETE", "url": f"{CORRECTIONS}/{made.json()['id']}"}


EVENTS = "/open311/v2/requests.json"


def own_event(refs: Refs) -> int:
    """An event (made by the admin) in the grid worker's village."""
    lon, lat = refs.own_point
    made = refs.admin.post(EVENTS, json={"service_code": "hotline", "lat": lat, "long": lon})
    assert made.status_code == 201, made.text
    return int(made.json()[0]["service_request_id"])


def create_event(refs: Refs, caller: str) -> dict[str, Any]:
    lon, lat = refs.own_point
    body = {"service_code": "hotline", "lat": lat, "long": lon}
    return {"method": "POST", "url": EVENTS, "json": body}


def act_on_event(action: str, body: dict[str, Any]) -> Request:
    """POST /events/{id}/<action> on a fresh event of the worker's village per caller."""

    def build(refs: Refs, caller: str) -> dict[str, Any]:
        return {"method": "POST", "url": f"/events/{own_event(refs)}/{action}", "json": body}

    return build


def configure_service(refs: Refs, caller: str) -> dict[str, Any]:
    body = {"name": "测试", "kind": "event", "deadline_minutes": 30}
    return {"method": "PUT", "url": f"/events/services/acl-{caller}", "json": body}


def replace_checkpoints(refs: Refs, caller: str) -> dict[str, Any]:
    """POST .../edits replacing the checkpoint whole (a multi-feature edit of one)."""
    item = {**checkpoint(refs.checkpoint, staff=4), "id": refs.checkpoint, "if_match": "*"}
    return {
        "method": "POST",
        "url": "/collections/checkpoints/edits",
        "json": {"type": "FeatureCollection", "features": [item]},
    }


@dataclass(frozen=True)
class Case:
    """One request, and the status each of :data:`CALLERS` gets for it."""

    expect: tuple[int, int, int, int, int, int, int]  # one status per caller of CALLERS
    method: str  # "*" for a mount
    route: str  # the route's path as the application declares it
    request: Request
    note: str = ""
    browser: bool = False


# fmt: off
MATRIX = [
    #    admin planr disp worker app anon closed
    Case((200, 200, 200, 200, 200, 200, 200), "GET", "/openapi.json", get("/openapi.json")),
    Case((200, 200, 200, 200, 200, 200, 200), "GET", "/docs", get("/docs")),
    Case((200, 200, 200, 200, 200, 200, 200), "GET", "/docs/oauth2-redirect",
         get("/docs/oauth2-redirect")),
    Case((200, 200, 200, 200, 200, 200, 200), "GET", "/redoc", get("/redoc")),
    Case((200, 200, 200, 200, 200, 200, 200), "*", "/static/vendor",
         get("/static/vendor/leaflet.js")),
    Case((200, 200, 200, 200, 200, 200, 401), "GET", "/health", get("/health")),
    Case((200, 200, 200, 200, 200, 401, 401), "GET", "/locate",
         get("/locate", lon=lambda r: r.own_point[0], lat=lambda r: r.own_point[1]), "own grid"),
    Case((200, 200, 200, 403, 200, 401, 401), "GET", "/locate",
         get("/locate", lon=lambda r: r.other_point[0], lat=lambda r: r.other_point[1]),
         "other grid"),
    Case((200, 200, 200, 200, 200, 401, 401), "POST", "/locate/batch",
         post("/locate/batch", {"rows": [{"lon": 120.6, "lat": 27.6}]})),
    Case((200, 200, 403, 200, 403, 401, 401), "GET", "/coverage/gaps",
         get("/coverage/gaps", grid=DEMO_WORKER_GRID), "own grid"),
    Case((200, 200, 403, 404, 403, 401, 401), "GET", "/coverage/gaps",
         get("/coverage/gaps", grid=OTHER_VILLAGE), "other grid"),
    Case((200, 200, 403, 200, 403, 401, 401), "POST", "/coverage/plan",
         post("/coverage/plan", {"grid": DEMO_WORKER_GRID, "budget": 1}), "own grid"),
    Case((200, 200, 403, 404, 403, 401, 401), "POST", "/coverage/plan",
         post("/coverage/plan", {"grid": OTHER_VILLAGE, "budget": 1}), "other grid"),
    Case((200, 403, 200, 200, 403, 401, 401), "GET", "/transport/requests",
         get("/transport/requests")),
    Case((200, 403, 200, 200, 403, 401, 401), "GET", "/transport/requests/{code}",
         get(lambda r: f"/transport/requests/{r.own_people[0]}"), "own person"),
    Case((200, 403, 200, 404, 403, 401, 401), "GET", "/transport/requests/{code}",
         get(lambda r: f"/transport/requests/{r.other_person}"), "other person"),
    Case((201, 403, 201, 403, 403, 401, 401), "POST", "/transport/plans",
         post("/transport/plans", PLAN_BODY)),
    Case((201, 403, 201, 403, 403, 401, 401), "POST", "/transport/plans/{plan_id}/replan",
         post(lambda r: f"/transport/plans/{r.plan_id}/replan", REPLAN_BODY)),
    Case((200, 200, 200, 403, 403, 401, 401), "GET", "/transport/plans/{plan_id}",
         get(lambda r: f"/transport/plans/{r.plan_id}")),
    Case((200, 200, 200, 200, 403, 401, 401), "GET", "/maps/grids/{code}.html",
         get(f"/maps/grids/{DEMO_WORKER_GRID}.html"), "own grid"),
    Case((200, 200, 200, 404, 403, 401, 401), "GET", "/maps/grids/{code}.html",
         get(f"/maps/grids/{OTHER_VILLAGE}.html"), "other grid"),
    Case((200, 200, 200, 200, 403, 401, 401), "GET", "/maps/grids/{code}.pdf",
         get(f"/maps/grids/{DEMO_WORKER_GRID}-01.pdf"), "own grid", browser=True),
    Case((200, 200, 200, 404, 403, 401, 401), "GET", "/maps/grids/{code}.pdf",
         get(f"/maps/grids/{OTHER_VILLAGE}-01.pdf"), "other grid", browser=True),
    Case((200, 200, 403, 200, 403, 401, 401), "GET", "/maps/coverage/{grid}.html",
         get(f"/maps/coverage/{DEMO_WORKER_GRID}.html"), "own grid"),
    Case((200, 200, 403, 404, 403, 401, 401), "GET", "/maps/coverage/{grid}.html",
         get(f"/maps/coverage/{OTHER_VILLAGE}.html"), "other grid"),
    Case((200, 200, 200, 403, 403, 401, 401), "GET", "/maps/transport/{plan_id}.html",
         get(lambda r: f"/maps/transport/{r.plan_id}.html")),
    Case((200, 200, 200, 200, 200, 200, 200), "GET", "/", get("/")),
    Case((200, 200, 200, 200, 200, 200, 200), "GET", "/conformance", get("/conformance")),
    Case((200, 200, 200, 200, 200, 200, 401), "GET", "/collections", get("/collections")),
    Case((200, 200, 200, 200, 200, 200, 401), "GET", "/collections/{collection_id}",
         get("/collections/grids")),
    Case((200, 200, 200, 200, 200, 200, 401), "GET", "/collections/{collection_id}/items",
         get("/collections/checkpoints/items", limit=5)),
    Case((200, 200, 200, 200, 200, 200, 401), "GET",
         "/collections/{collection_id}/items/{feature_id}",
         get(f"/collections/grids/items/{DEMO_WORKER_GRID}-01"), "own grid"),
    Case((200, 200, 200, 404, 200, 200, 401), "GET",
         "/collections/{collection_id}/items/{feature_id}",
         get(f"/collections/grids/items/{OTHER_VILLAGE}"), "other grid"),
    Case((201, 201, 403, 403, 403, 401, 401), "POST", "/collections/{collection_id}/items",
         create_checkpoint),
    Case((200, 200, 403, 403, 403, 401, 401), "PUT",
         "/collections/{collection_id}/items/{feature_id}", replace_checkpoint),
    Case((200, 200, 403, 403, 403, 401, 401), "PATCH",
         "/collections/{collection_id}/items/{feature_id}", update_checkpoint),
    Case((204, 204, 403, 403, 403, 401, 401), "DELETE",
         "/collections/{collection_id}/items/{feature_id}", delete_checkpoint),
    Case((200, 200, 403, 403, 403, 401, 401), "POST",
         "/collections/{collection_id}/edits", replace_checkpoints),
    Case((200, 200, 200, 200, 200, 200, 200), "GET", "/tileMatrixSets", get("/tileMatrixSets")),
    Case((200, 200, 200, 200, 200, 200, 200), "GET", "/tileMatrixSets/WebMercatorQuad",
         get("/tileMatrixSets/WebMercatorQuad")),
    Case((200, 200, 200, 200, 200, 200, 401), "GET", "/collections/{collection_id}/tiles",
         get("/collections/roads/tiles")),
    Case((200, 200, 200, 200, 200, 200, 401), "GET",
         "/collections/{collection_id}/tiles/WebMercatorQuad",
         get("/collections/roads/tiles/WebMercatorQuad")),
    Case((200, 200, 200, 200, 200, 200, 401), "GET",
         "/collections/{collection_id}/tiles/WebMercatorQuad/tilejson.json",
         get("/collections/roads/tiles/WebMercatorQuad/tilejson.json")),
    Case((200, 200, 200, 200, 200, 200, 401), "GET",
         "/collections/{collection_id}/tiles/WebMercatorQuad/{z}/{x}/{y}",
         get(lambda r: own_tile(r, "grids")), "own grid"),
    Case((200, 200, 200, 200, 200, 200, 200), "GET", "/maps/vector", get("/maps/vector")),
    Case((200, 200, 200, 200, 200, 200, 401), "GET", "/maps/vector/style.json",
         get("/maps/vector/style.json")),
    Case((200, 200, 200, 200, 200, 200, 200), "GET", "/static/maplibre/{name}",
         get("/static/maplibre/maplibre-gl.js")),
    Case((200, 403, 403, 403, 403, 401, 401), "GET", "/audit", get("/audit", limit=5)),
    Case((201, 201, 403, 403, 403, 401, 401), "POST", CORRECTIONS, create_correction),
    Case((200, 200, 403, 403, 403, 401, 401), "GET", CORRECTIONS, get(CORRECTIONS)),
    Case((204, 204, 403, 403, 403, 401, 401), "DELETE", CORRECTIONS + "/{correction_id}",
         delete_correction),
    Case((200, 200, 403, 403, 403, 401, 401), "GET", "/grids/validate",
         get("/grids/validate", parent=DEMO_WORKER_GRID)),
    Case((200, 200, 200, 200, 200, 200, 200), "GET", "/open311/v2/discovery.json",
         get("/open311/v2/discovery.json")),
    Case((200, 200, 200, 200, 200, 200, 401), "GET", "/open311/v2/services.json",
         get("/open311/v2/services.json")),
    Case((201, 403, 201, 201, 201, 401, 401), "POST", EVENTS, create_event),
    Case((200, 403, 200, 200, 200, 401, 401), "GET", EVENTS, get(EVENTS)),
    Case((200, 403, 200, 200, 404, 401, 401), "GET", "/open311/v2/requests/{request_id}.json",
         get(lambda r: f"/open311/v2/requests/{own_event(r)}.json"), "another's event"),
    Case((200, 403, 200, 200, 403, 401, 401), "POST", "/events/{event_id}/acknowledge",
         act_on_event("acknowledge", {})),
    Case((200, 403, 200, 200, 403, 401, 401), "POST", "/events/{event_id}/update",
         act_on_event("update", {"note": "在办"})),
    Case((200, 403, 200, 200, 403, 401, 401), "POST", "/events/{event_id}/close",
         act_on_event("close", {})),
    Case((200, 403, 200, 403, 403, 401, 401), "POST", "/events/{event_id}/reassign",
         act_on_event("reassign", {"grid_code": DEMO_WORKER_GRID})),
    Case((200, 403, 200, 403, 403, 401, 401), "POST", "/events/scan", post("/events/scan", None)),
    Case((200, 200, 200, 200, 403, 401, 401), "GET", "/events/report",
         get("/events/report", start="2020-01-31")),
    Case((200, 200, 200, 200, 403, 401, 401), "GET", "/events/report/workers",
         get("/events/report/workers", start="2020-01-31")),
    Case((200, 200, 200, 200, 403, 401, 401), "GET", "/events/map.html",
         get("/events/map.html", grid=DEMO_WORKER_GRID), "own grid"),
    Case((200, 200, 200, 404, 403, 401, 401), "GET", "/events/map.html",
         get("/events/map.html", grid=OTHER_VILLAGE), "other grid"),
    Case((201, 403, 403, 403, 403, 401, 401), "PUT", "/events/services/{service_code}",
         configure_service),
]
# fmt: on


def _route_keys(app: FastAPI) -> set[tuple[str, str]]:
    keys = set()
    for route in iter_route_contexts(app.routes):
        methods = route.methods
        if methods is None:  # a mount (static files)
            keys.add(("*", str(route.path)))
        keys |= {(m, str(route.path)) for m in methods or () if m != "HEAD"}
    return keys


def test_every_route_has_a_row(clients: dict[str, TestClient]) -> None:
    app = clients["admin"].app
    assert isinstance(app, FastAPI)
    declared = _route_keys(app)
    covered = {(case.method, case.route) for case in MATRIX}
    assert declared - covered == set(), "routes without a row in the access matrix"
    assert covered - declared == set(), "rows for routes the application does not have"


def _case_id(case: Case) -> str:
    return f"{case.method} {case.route} {case.note}".strip()


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(case, id=_case_id(case), marks=[pytest.mark.browser] if case.browser else [])
        for case in MATRIX
    ],
)
def test_role_endpoint_matrix(case: Case, clients: dict[str, TestClient], refs: Refs) -> None:
    got = {}
    for caller in CALLERS:
        response = clients[caller].request(**case.request(refs, caller))
        got[caller] = response.status_code
        if response.status_code in (401, 403, 404):
            body = response.json()
            assert set(body) == {"code", "message", "details"}, body
        if response.status_code == 401:
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert got == dict(zip(CALLERS, case.expect, strict=True))


# -- jurisdiction and personal data --------------------------------------------------------


def test_grid_worker_reads_exactly_the_people_of_their_grid_unmasked(
    clients: dict[str, TestClient], refs: Refs, access_db: Engine
) -> None:
    assert len(refs.own_people) >= 2
    body = clients["grid_worker"].get("/transport/requests").json()
    assert [p["code"] for p in body["items"]] == sorted(refs.own_people)
    assert body["number_matched"] == len(refs.own_people)
    with access_db.connect() as conn:
        stored = {
            row.code: row
            for row in conn.execute(text("SELECT code, phone, id_number FROM transfer_requests"))
        }
    for person in body["items"]:
        assert person["phone"] == stored[person["code"]].phone  # unmasked
        assert person["id_number"] == stored[person["code"]].id_number
    everyone = clients["dispatcher"].get("/transport/requests").json()
    assert everyone["number_matched"] == len(stored)


def test_another_grids_person_is_exactly_like_an_absent_one(
    clients: dict[str, TestClient], refs: Refs
) -> None:
    worker = clients["grid_worker"]
    hidden = worker.get(f"/transport/requests/{refs.other_person}")
    absent = worker.get("/transport/requests/NO-SUCH-PERSON")
    assert hidden.status_code == absent.status_code == 404
    assert hidden.json()["code"] == absent.json()["code"]
    assert hidden.json()["message"].replace(refs.other_person, "X") == absent.json()[
        "message"
    ].replace("NO-SUCH-PERSON", "X")
    own = worker.get(f"/transport/requests/{refs.own_people[0]}")
    assert own.status_code == 200
    assert find_personal(own.text)  # their own people's phones and ID numbers, unmasked


def test_locate_masks_the_workers_phone_for_callers_without_personal_data(
    clients: dict[str, TestClient], refs: Refs
) -> None:
    point = {"lon": refs.own_point[0], "lat": refs.own_point[1]}
    phones = {
        role: clients[role].get("/locate", params=point).json()["worker"]["phone"]
        for role in ("admin", "planner", "dispatcher", "grid_worker", "app")
    }
    masked = mask_phone(refs.own_worker_phone)
    assert masked != refs.own_worker_phone
    assert phones == {
        "admin": refs.own_worker_phone,
        "planner": masked,
        "dispatcher": refs.own_worker_phone,
        "grid_worker": refs.own_worker_phone,
        "app": masked,
    }


def test_grid_worker_batch_rows_outside_the_grid_fail_alone(
    clients: dict[str, TestClient], refs: Refs
) -> None:
    rows = [
        {"id": "own", "lon": refs.own_point[0], "lat": refs.own_point[1]},
        {"id": "other", "lon": refs.other_point[0], "lat": refs.other_point[1]},
    ]
    body = clients["grid_worker"].post("/locate/batch", json={"rows": rows}).json()
    own, other = body["results"]
    assert own["ok"]
    assert DEMO_WORKER_GRID in [g["code"] for g in own["answer"]["chain"]]
    assert not other["ok"]
    assert "outside your jurisdiction" in other["error"]
    assert other["answer"] is None
    assert clients["app"].post("/locate/batch", json={"rows": rows}).json()["results"][1]["ok"]


def test_personal_data_and_keys_stay_out_of_the_logs(
    clients: dict[str, TestClient],
    refs: Refs,
    keys: dict[str, str],
    access_db: Engine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    code = refs.own_people[0]
    with caplog.at_level("DEBUG", logger="geogrid"):
        person = clients["dispatcher"].get(f"/transport/requests/{code}").json()
        clients["grid_worker"].get(f"/transport/requests/{refs.other_person}")
        clients["anonymous"].get("/transport/requests", headers=bearer(keys["app"] + "x"))
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "/transport/requests" in logged
    for value in (person["contact_name"], person["phone"], person["id_number"]):
        assert value
        assert value not in logged
    assert not find_personal(logged)
    for key in keys.values():
        secret = key.split("_", 2)[2]  # gg_<key id>_<secret>; the secret may hold "_" itself
        assert len(secret) >= 32
        assert secret not in logged


def test_no_database_round_trip_per_request_for_the_key(
    clients: dict[str, TestClient], refs: Refs, access_db: Engine
) -> None:
    point = {"lon": refs.own_point[0], "lat": refs.own_point[1]}
    for role in ("app", "grid_worker"):
        assert clients[role].get("/locate", params=point).status_code == 200  # warm
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(access_db, "before_cursor_execute", count)
    try:
        for _ in range(50):
            for role in ("app", "grid_worker"):
                assert clients[role].get("/locate", params=point).status_code == 200
    finally:
        event.remove(access_db, "before_cursor_execute", count)
    assert statements == []


# -- credentials ---------------------------------------------------------------------------


@pytest.fixture
def county_app(county_db: Engine) -> Callable[[float], TestClient]:
    """Return a function giving a client on the small county with a check interval."""

    def make(interval_s: float) -> TestClient:
        settings = Settings(warm_up=False, cache_check_interval_s=interval_s)
        return TestClient(create_app(settings, workspace=Workspace(county_db, settings)))

    return make


def test_revoked_wrong_or_malformed_keys_are_401(
    county_db: Engine,
    county_app: Callable[[float], TestClient],
    cli_database: Callable[[str], None],
) -> None:
    interval_s = 0.5
    client = county_app(interval_s)
    key = api_key(county_db, "app")
    point = {"lon": 120.51, "lat": 27.51}
    assert client.get("/locate", params=point, headers=bearer(key)).status_code == 200
    key_id, secret = key.split("_")[1], key.split("_", 2)[2]
    wrong = f"gg_{key_id}_{'A' * len(secret)}"
    for headers in (
        bearer(wrong),
        bearer(f"gg_{'0' * 16}_{secret}"),  # unknown key id
        bearer(key[:-1]),
        {"Authorization": f"Basic {key}"},
        {"Authorization": "Bearer"},
    ):
        response = client.get("/locate", params=point, headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.json()["code"] == "unauthenticated"
    cli_database(county_db.url.render_as_string(False))
    result = CliRunner().invoke(cli_app, ["users", "revoke", key_id])
    assert result.exit_code == 0, result.output
    revoked_at = time.monotonic()
    while client.get("/locate", params=point, headers=bearer(key)).status_code == 200:
        assert time.monotonic() - revoked_at < interval_s + 1.0, "the revoke was not seen"
        time.sleep(0.05)
    assert client.get("/locate", params=point, headers=bearer(key)).status_code == 401


def test_a_reissued_key_replaces_every_older_one_of_its_name(
    county_db: Engine, county_app: Callable[[float], TestClient]
) -> None:
    workspace = Workspace(county_db, Settings(warm_up=False))
    client = county_app(0)
    first = reissue_key(workspace, "demo 演示", "admin").key
    assert client.get("/audit", headers=bearer(first)).status_code == 200
    other = reissue_key(workspace, "someone else", "app").key
    second = reissue_key(workspace, "demo 演示", "admin").key
    assert second != first
    assert client.get("/audit", headers=bearer(first)).status_code == 401
    assert client.get("/audit", headers=bearer(second)).status_code == 200
    assert (
        client.get(
            "/locate", params={"lon": 120.51, "lat": 27.51}, headers=bearer(other)
        ).status_code
        == 200
    )
    active = [row.name for row in list_keys(workspace, active_only=True)]
    assert sorted(active) == ["demo 演示", "someone else"]


def test_cli_users_add_list_revoke_round_trip(
    county_db: Engine,
    county_app: Callable[[float], TestClient],
    cli_database: Callable[[str], None],
) -> None:
    cli_database(county_db.url.render_as_string(False))
    runner = CliRunner()
    added = runner.invoke(
        cli_app, ["users", "add", "村网格员小王", "--role", "grid_worker", "--grid", "C-001-001"]
    )
    assert added.exit_code == 0, added.output
    key = added.stdout.strip()
    assert key.startswith("gg_")
    assert "\n" not in key
    key_id, secret = key.split("_", 2)[1:]
    assert "only time" in added.stderr
    with county_db.connect() as conn:
        row = conn.execute(
            text(
                "SELECT name, role, grid_code, secret_hash FROM api_credentials WHERE key_id = :k"
            ),
            {"k": key_id},
        ).one()
    assert (row.name, row.role, row.grid_code) == ("村网格员小王", "grid_worker", "C-001-001")
    assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in row.secret_hash
    assert key not in row.secret_hash

    listed = runner.invoke(cli_app, ["users", "list"])
    assert listed.exit_code == 0, listed.output
    assert key_id in listed.output
    assert "grid_worker" in listed.output
    assert secret not in listed.output
    assert row.secret_hash not in listed.output

    client = county_app(0)
    inside = client.get("/locate", params={"lon": 120.51, "lat": 27.51}, headers=bearer(key))
    assert inside.status_code == 200
    assert inside.json()["worker"]["phone"] == "17012340000"  # their own grid: unmasked
    outside = client.get("/locate", params={"lon": 120.57, "lat": 27.51}, headers=bearer(key))
    assert outside.status_code == 403

    revoked = runner.invoke(cli_app, ["users", "revoke", "村网格员小王"])
    assert revoked.exit_code == 0, revoked.output
    assert key_id in revoked.output
    assert client.get("/health", headers=bearer(key)).status_code == 401
    again = runner.invoke(cli_app, ["users", "revoke", key_id])
    assert again.exit_code == 1
    assert "revoked already" in again.output
    listed = runner.invoke(cli_app, ["users", "list"])
    assert listed.output.count(key_id) == 1


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["users", "add", "x", "--role", "boss"], "unknown role 'boss'"),
        (["users", "add", "x", "--role", "grid_worker"], "needs the grid"),
        (
            ["users", "add", "x", "--role", "grid_worker", "--grid", "NOPE"],
            "no grid with code 'NOPE'",
        ),
        (["users", "add", "x", "--role", "app", "--grid", "C-001"], "only grid_worker keys"),
        (["users", "revoke", "nobody"], "no active credential"),
    ],
)
def test_cli_users_errors_name_the_problem(
    county_db: Engine, cli_database: Callable[[str], None], args: list[str], problem: str
) -> None:
    cli_database(county_db.url.render_as_string(False))
    result = CliRunner().invoke(cli_app, args)
    assert result.exit_code == 1
    assert problem in result.output
    with county_db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM api_credentials")).scalar_one() == 0


def test_an_active_name_is_unique(county_db: Engine, cli_database: Callable[[str], None]) -> None:
    cli_database(county_db.url.render_as_string(False))
    runner = CliRunner()
    assert (
        runner.invoke(cli_app, ["users", "add", "指挥中心", "--role", "dispatcher"]).exit_code == 0
    )
    twice = runner.invoke(cli_app, ["users", "add", "指挥中心", "--role", "planner"])
    assert twice.exit_code == 1
    assert "already named" in twice.output
    assert runner.invoke(cli_app, ["users", "revoke", "指挥中心"]).exit_code == 0
    assert runner.invoke(cli_app, ["users", "add", "指挥中心", "--role", "planner"]).exit_code == 0


def test_the_database_refuses_a_grid_worker_without_a_grid(county_db: Engine) -> None:
    from sqlalchemy.exc import IntegrityError

    with (
        pytest.raises(IntegrityError, match="ck_api_credentials_grid_code"),
        county_db.begin() as conn,
    ):
        conn.execute(
            text(
                "INSERT INTO api_credentials (key_id, name, role, secret_hash) "
                "VALUES ('0123456789abcdef', 'w', 'grid_worker', 'h')"
            )
        )


# -- the rules themselves (no database) ----------------------------------------------------


def test_the_role_table() -> None:
    assert PERMISSIONS[Role.ADMIN] == PERMISSION_NAMES
    assert PERMISSIONS[Role.APP] == {
        "health",
        "layers:read",
        "locate",
        "events:create",
        "events:read",
    }
    assert PERMISSIONS[Role.PLANNER] & {"events:read", "events:act"} == set()  # aggregates only
    assert "events:dispatch" not in PERMISSIONS[Role.GRID_WORKER]
    assert "layers:write" in PERMISSIONS[Role.PLANNER]
    assert "people:read" not in PERMISSIONS[Role.PLANNER]
    assert {"transport:plan", "people:read"} <= PERMISSIONS[Role.DISPATCHER]
    assert "coverage" not in PERMISSIONS[Role.DISPATCHER]
    assert not {"layers:write", "transport:plan", "transport:read"} & PERMISSIONS[Role.GRID_WORKER]
    seeing = {role for role in Role if Caller("x", role, "G").sees_personal_data}
    assert seeing == {Role.ADMIN, Role.DISPATCHER, Role.GRID_WORKER}
    assert ANONYMOUS.permissions == {"health", "layers:read"}
    assert not ANONYMOUS.sees_personal_data
    assert Caller("x", Role.PLANNER, None).subtree is None
    with pytest.raises(ValueError, match="grid code"):
        Caller("x", Role.GRID_WORKER, None)
    with pytest.raises(ValueError, match="unknown permission"):
        ANONYMOUS.can("layers:delete")
