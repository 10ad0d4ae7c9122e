"""``geogrid locate`` for a point reads no addresses and imports neither the address
matcher (with its pinyin and traditional-character tables) nor the road network: they
are read, built and imported only when there is an address to match."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, event
from typer.testing import CliRunner

from geogrid.cli import app
from tests.cli.test_startup import run_cli

runner = CliRunner()


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """Record every SQL statement any engine sends while the test runs."""
    sent: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        sent.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    yield sent
    event.remove(Engine, "before_cursor_execute", record)


def reads_addresses(sent: list[str]) -> bool:
    return any(re.search(r"\bFROM\s+addresses\b", s, re.IGNORECASE) for s in sent)


def test_a_point_is_located_without_reading_the_addresses(
    county_db: Engine, cli_database: Callable[[str], None], statements: list[str]
) -> None:
    cli_database(county_db.url.render_as_string(False))
    result = runner.invoke(app, ["locate", "--lon", "120.555", "--lat", "27.515"])
    assert result.exit_code == 0, result.output
    assert "C-002-001-01" in result.output  # the micro-grid of that point (conftest)
    assert any(re.search(r"\bFROM\s+grids\b", s, re.IGNORECASE) for s in statements)
    assert not reads_addresses(statements)

    statements.clear()
    result = runner.invoke(app, ["locate", "平阳县鳌江镇甲村工业路2号"])
    assert result.exit_code == 0, result.output
    assert "C-001-001" in result.output
    assert reads_addresses(statements)


def test_a_point_is_located_without_the_address_and_road_modules(county_db: Engine) -> None:
    env = {"GEOGRID_DATABASE_URL": county_db.url.render_as_string(False)}
    output, status, modules = run_cli("locate", "--lon", "120.555", "--lat", "27.515", env=env)
    assert status == 0, output
    assert "C-002-001-01" in output
    assert "geogrid.spatial.gridindex" in modules  # it did locate
    unwanted = ("geogrid.spatial.addresses", "geogrid.spatial.roads.network", "pypinyin")
    assert not [m for m in unwanted if m in modules]

    output, status, modules = run_cli("locate", "平阳县鳌江镇甲村工业路2号", env=env)
    assert status == 0, output
    assert "C-001-001" in output
    assert "geogrid.spatial.addresses" in modules
