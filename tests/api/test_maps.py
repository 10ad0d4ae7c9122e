"""Grid sheets through the API and the CLI, opened and printed in headless Chromium."""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import Engine
from typer.testing import CliRunner

from geogrid.api.app import create_app
from geogrid.cli import app as cli_app
from geogrid.maps import check_map_html, find_personal
from geogrid.settings import Settings
from geogrid.workspace import Workspace
from geogrid.workspace.sheets import grid_sheet
from tests.conftest import api_key, bearer

A4_POINTS = (595, 842)


@pytest.fixture
def workspace(county_db: Engine) -> Workspace:
    return Workspace(county_db, Settings(cache_check_interval_s=0))


@pytest.fixture
def client(workspace: Workspace) -> TestClient:
    app = create_app(Settings(warm_up=False), workspace=workspace)
    return TestClient(app, headers=bearer(api_key(workspace.engine, "planner")))


def test_sheet_html_links_the_served_leaflet(client: TestClient) -> None:
    response = client.get("/maps/grids/C-001.html")
    assert response.status_code == 200
    assert "/static/vendor/leaflet.js" in response.text
    assert "鳌江镇" in response.text
    assert not find_personal(response.text)
    script = client.get("/static/vendor/leaflet.js")
    assert script.status_code == 200
    assert "Leaflet" in script.text[:2000]


def test_unknown_grid_is_404_naming_it(client: TestClient) -> None:
    response = client.get("/maps/grids/NOPE.html")
    assert response.status_code == 404
    assert "NOPE" in response.json()["message"]


@pytest.mark.browser
def test_sheet_draws_without_errors_offline(workspace: Workspace) -> None:
    check = check_map_html(grid_sheet(workspace, "C-001"))
    assert check.errors == []
    assert check.overlays == [
        "Streets 街道",
        "Neighbours 相邻网格",
        "Sub-grids 下级网格",
        "This grid 本网格",
    ]
    assert all(url.startswith(("file:", "data:", "about:")) for url in check.requests), (
        check.requests
    )


@pytest.mark.browser
def test_sheet_pdf_is_one_a4_page(client: TestClient) -> None:
    response = client.get("/maps/grids/C-001-001.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    pdf = PdfReader(BytesIO(response.content))
    assert len(pdf.pages) == 1
    box = pdf.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == pytest.approx(A4_POINTS, abs=2)
    assert not find_personal(pdf.pages[0].extract_text())


@pytest.mark.browser
def test_cli_prints_one_sheet_per_child(
    county_db: Engine, cli_database: Callable[[str], None], tmp_path: Path
) -> None:
    out = tmp_path / "sheets"
    cli_database(county_db.url.render_as_string(False))
    result = CliRunner().invoke(
        cli_app, ["print", "--grid", "C-001", "--children", "--format", "png", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["C-001-001.png", "C-001-002.png"]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in out.iterdir())
