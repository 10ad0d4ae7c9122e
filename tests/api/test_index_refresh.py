"""Index refresh without a latency spike: after an edit, /locate answers from the previous
indexes while the new ones are built in the background, then from the new ones."""

from __future__ import annotations

import threading

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from geogrid.api.app import create_app
from geogrid.settings import Settings
from geogrid.workspace import Workspace
from tests.conftest import X0, Y0, api_key, bearer, county_box


@pytest.mark.db
def test_locate_answers_from_the_old_index_until_the_new_one_is_in(county_db: Engine) -> None:
    settings = Settings(cache_check_interval_s=0, warm_up=False)
    planner = bearer(api_key(county_db, "planner"))
    workspace = Workspace(county_db, settings)
    client = TestClient(create_app(settings, workspace=workspace), headers=planner)
    point = {"lon": X0 + 0.005, "lat": Y0 + 0.005}
    before = client.get("/locate", params=point).json()
    assert before["chain"][-1]["code"] == "C-001-001-01"
    assert before["industry"] == []
    park = {
        "type": "Feature",
        "geometry": county_box(0, 0, 0.01, 0.01).__geo_interface__,
        "properties": {"code": "C-I02", "name": "新市场", "level": "industry", "parent_code": "C"},
    }
    workspace.refresh_gate.clear()  # the rebuild waits until the test lets it go
    edited: list[httpx.Response] = []
    editor = threading.Thread(
        target=lambda: edited.append(client.post("/collections/grids/items", json=park))
    )
    editor.start()
    try:
        # the edit is stored, the rebuild is held: /locate answers at once, from the old index
        for _ in range(3):
            answer: list[dict[str, object]] = []
            asker = threading.Thread(
                target=lambda out=answer: out.append(client.get("/locate", params=point).json())
            )
            asker.start()
            asker.join(30)
            assert not asker.is_alive(), "/locate waited for the rebuild"
            assert answer[0]["industry"] == []
            assert answer[0]["chain"] == before["chain"]
        # the edit answers only once its own process answers from the new index
        assert editor.is_alive()
        assert not edited
    finally:
        workspace.refresh_gate.set()
    editor.join(60)
    assert edited[0].status_code == 201, edited[0].text
    assert workspace.wait_for_refresh(60)
    after = client.get("/locate", params=point).json()
    assert [g["code"] for g in after["industry"]] == ["C-I02"]
    assert after["chain"] == before["chain"]
