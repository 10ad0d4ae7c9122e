"""Operators' address corrections: stored and audited, used at once by /locate, removable.

Every test writes to its own small county (``county_db``). Where a corrected answer is
placed is checked against the grid polygons as PostGIS stores them (shapely), not
against what the matcher computed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from geogrid.api.app import create_app
from geogrid.settings import Settings
from geogrid.workspace import Workspace
from geogrid.workspace.credentials import issue_key

ROLES = ("admin", "planner", "dispatcher", "app", "grid_worker")
WRONG = "鳌江镇老酒厂对面"  # no such place: the matcher says town level at best
MICRO = "C-002-002-02"  # a micro-grid in the other town (丁村第2微网格)


@dataclass
class Service:
    engine: Engine
    workspace: Workspace
    clients: dict[str | None, TestClient]

    def locate(self, address: str) -> dict:
        answer = self.clients["app"].get("/locate", params={"address": address})
        assert answer.status_code == 200, answer.text
        return answer.json()

    def grid(self, code: str) -> shapely.Geometry:
        with self.engine.connect() as conn:
            wkt = conn.execute(
                text("SELECT ST_AsText(geom) FROM grids WHERE code = :c"), {"c": code}
            ).scalar_one()
        return shapely.from_wkt(wkt)

    def audit(self) -> list[dict]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                text("SELECT * FROM audit_log WHERE layer = 'address_corrections' ORDER BY id")
            ).mappings()
            return [dict(r) for r in rows]


@pytest.fixture
def service(county_db: Engine) -> Service:
    workspace = Workspace(county_db, Settings(cache_check_interval_s=60))
    keys = {
        role: issue_key(
            workspace, f"{role} 用户", role, "C-001-001" if role == "grid_worker" else None
        ).key
        for role in ROLES
    }
    app = create_app(Settings(warm_up=False), workspace=workspace)
    clients: dict[str | None, TestClient] = {
        role: TestClient(app, headers={"Authorization": f"Bearer {key}"})
        for role, key in keys.items()
    }
    clients[None] = TestClient(app)
    return Service(county_db, workspace, clients)


def chain(answer: dict) -> list[str]:
    return [g["code"] for g in answer["chain"]]


def test_a_correction_answers_at_once_and_its_removal_restores_the_old_answer(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    before = service.locate(WRONG)
    assert MICRO not in chain(before)

    stored = service.clients["planner"].post(
        "/addresses/corrections", json={"text": WRONG, "grid_code": MICRO}
    )
    assert stored.status_code == 201, stored.text
    body = stored.json()
    assert (body["text"], body["grid_code"], body["address_code"]) == (WRONG, MICRO, None)
    assert body["created_by"] == "planner 用户"

    after = service.locate(WRONG)  # no wait: the edit answered once the locator had it
    assert chain(after) == ["C", "C-002", "C-002-002", MICRO]
    assert service.grid(MICRO).contains(shapely.Point(after["point"]["lon"], after["point"]["lat"]))
    match = after["address"]
    assert match["method"] == "correction"
    assert match["confidence"] == pytest.approx(0.95)
    assert match["reasons"] == [f"operator correction #{body['id']} ({MICRO})"]
    assert (match["town"], match["village"]) == ("昆阳镇", "丁村")

    # the matcher's own normalisation: full-width letters/spaces and traditional characters
    for variant in ("鰲江鎮老酒廠對面", "　鳌江镇 老酒厂对面 ", "鳌江镇老酒厂"):  # 对面: filler
        assert chain(service.locate(variant))[-1] == MICRO, variant
    assert MICRO not in chain(service.locate("昆阳镇老酒厂对面"))  # another text: untouched

    removed = service.clients["admin"].delete(f"/addresses/corrections/{body['id']}")
    assert removed.status_code == 204, removed.text
    restored = service.locate(WRONG)
    assert chain(restored) == chain(before)
    assert restored["address"] == before["address"]
    assert service.clients["admin"].get("/addresses/corrections").json() == {"corrections": []}

    entries = service.audit()
    assert [(e["action"], e["actor"], e["code"]) for e in entries] == [
        ("create", "planner 用户", str(body["id"])),
        ("delete", "admin 用户", str(body["id"])),
    ]
    assert entries[0]["after"]["grid_code"] == MICRO
    assert entries[1]["before"] == entries[0]["after"]
    for entry in entries:  # the text may be personal: not in the audit log, not logged
        assert "老酒厂" not in repr(entry)
    assert not any("老酒厂" in r.getMessage() for r in caplog.records)


def test_a_correction_to_a_standard_address_and_the_listing(service: Service) -> None:
    api = service.clients["admin"]
    village = api.post(
        "/addresses/corrections", json={"text": "甲村那棵大樟树下", "grid_code": "C-001-001"}
    )
    house = api.post(
        "/addresses/corrections",
        json={"text": "乙村小卖部隔壁", "address_code": "C-001-002-A3"},
    )
    assert village.status_code == house.status_code == 201, (village.text, house.text)

    answer = service.locate("乙村小卖部隔壁")
    with service.engine.connect() as conn:
        lon, lat = conn.execute(
            text("SELECT ST_X(geom), ST_Y(geom) FROM addresses WHERE code = 'C-001-002-A3'")
        ).one()
    assert (answer["point"]["lon"], answer["point"]["lat"]) == pytest.approx((lon, lat))
    assert answer["address"]["code"] == "C-001-002-A3"
    assert answer["address"]["full_text"] == "平阳县鳌江镇乙村工业路6号"
    assert chain(answer)[:3] == ["C", "C-001", "C-001-002"]

    at_village = service.locate("甲村那棵大樟树下")
    assert chain(at_village) == ["C", "C-001", "C-001-001"]  # a village stops at the village
    assert at_village["address"]["level"] == "village"

    listed = api.get("/addresses/corrections").json()["corrections"]
    assert [(c["id"], c["grid_code"], c["address_code"]) for c in listed] == [
        (village.json()["id"], "C-001-001", None),
        (house.json()["id"], None, "C-001-002-A3"),
    ]
    assert all(c["audit_id"] is None for c in listed)


def test_who_may_correct(service: Service) -> None:
    body = {"text": WRONG, "grid_code": MICRO}
    for role in ("dispatcher", "app", "grid_worker"):
        client = service.clients[role]
        assert client.post("/addresses/corrections", json=body).status_code == 403, role
        assert client.get("/addresses/corrections").status_code == 403, role
        assert client.delete("/addresses/corrections/1").status_code == 403, role
    assert service.clients[None].post("/addresses/corrections", json=body).status_code == 401
    assert service.audit() == []
    with service.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM address_corrections")).scalar_one() == 0


def test_bad_corrections_are_refused_and_nothing_is_stored(service: Service) -> None:
    api = service.clients["planner"]
    cases = {
        404: [{"text": WRONG, "grid_code": "C-009"}, {"text": WRONG, "address_code": "nope"}],
        422: [
            {"text": WRONG},
            {"text": WRONG, "grid_code": MICRO, "address_code": "C-001-002-A3"},
            {"text": WRONG, "grid_code": "C-I01"},  # an industry park is not a place
            {"text": WRONG, "grid_code": "C"},
            {"text": "   ", "grid_code": MICRO},
            {"text": "x" * 201, "grid_code": MICRO},
            {"text": "甲村\u0000工业路", "grid_code": MICRO},  # PostgreSQL stores no NUL
            {"text": WRONG, "grid_code": MICRO, "extra": 1},
        ],
    }
    for status, bodies in cases.items():
        for body in bodies:
            answer = api.post("/addresses/corrections", json=body)
            assert answer.status_code == status, (body, answer.text)
            assert set(answer.json()) == {"code", "message", "details"}
    assert service.audit() == []

    first = api.post("/addresses/corrections", json={"text": WRONG, "grid_code": MICRO})
    assert first.status_code == 201
    again = api.post(
        "/addresses/corrections", json={"text": "鰲江鎮老酒廠對面", "grid_code": "C-001"}
    )
    assert again.status_code == 409, again.text  # the same text once normalised
    assert api.delete("/addresses/corrections/999999").status_code == 404
    assert len(service.audit()) == 1
    assert chain(service.locate(WRONG))[-1] == MICRO
