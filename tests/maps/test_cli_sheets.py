"""``geogrid maps sheet --children``: one PDF per child and all of them bound in one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import Engine
from typer.testing import CliRunner

from geogrid.cli import app as cli_app

pytestmark = pytest.mark.browser


def test_children_print_one_pdf_each_and_one_bound_pdf(
    county_db: Engine, cli_database: Callable[[str], None], tmp_path: Path
) -> None:
    out = tmp_path / "sheets"
    cli_database(county_db.url.render_as_string(False))
    result = CliRunner().invoke(
        cli_app, ["maps", "sheet", "C-001", "--children", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "C-001-001.pdf",
        "C-001-002.pdf",
        "C-001-children.pdf",
    ]
    bound = PdfReader(out / "C-001-children.pdf")
    assert len(bound.pages) == 2
    for page, code in zip(bound.pages, ["C-001-001", "C-001-002"], strict=True):
        text = page.extract_text()
        assert code in text
        assert "Unguarded entries" in text
    assert "C-001-002" in PdfReader(out / "C-001-002.pdf").pages[0].extract_text()


def test_a_grid_without_children_is_a_clear_error(
    county_db: Engine, cli_database: Callable[[str], None], tmp_path: Path
) -> None:
    cli_database(county_db.url.render_as_string(False))
    result = CliRunner().invoke(
        cli_app, ["maps", "sheet", "C-001-001-01", "--children", "--out", str(tmp_path)]
    )
    assert result.exit_code != 0
    assert "C-001-001-01 has no children" in result.output
    unknown = CliRunner().invoke(cli_app, ["maps", "sheet", "NOPE", "--out", str(tmp_path)])
    assert unknown.exit_code != 0
    assert "NOPE" in unknown.output
    assert "Traceback" not in unknown.output
