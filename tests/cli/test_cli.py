"""The ``geogrid`` command line, run in-process against the test database."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from geogrid.cli import app
from geogrid.db import engine as engine_module
from geogrid.settings import get_settings

runner = CliRunner()


@pytest.fixture
def cli_env(empty_db: Engine, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """Point the CLI at the test's empty database."""
    monkeypatch.setenv("GEOGRID_DATABASE_URL", empty_db.url.render_as_string(False))
    get_settings.cache_clear()
    engine_module._engine_for.cache_clear()
    yield empty_db
    get_settings.cache_clear()
    engine_module._engine_for.cache_clear()


def _csv(path: Path, kinds: list[str]) -> Path:
    pd.DataFrame(
        {
            "code": [f"K{i}" for i in range(len(kinds))],
            "name": [f"卡口{i}" for i in range(len(kinds))],
            "kind": kinds,
            "lon": [120.5 + i / 100 for i in range(len(kinds))],
            "lat": [27.6] * len(kinds),
        }
    ).to_csv(path, index=False)
    return path


def test_load_csv_and_report(cli_env: Engine, tmp_path: Path) -> None:
    path = _csv(tmp_path / "gates.csv", ["village_gate", "traffic_station"])
    result = runner.invoke(app, ["load", str(path), "--kind", "checkpoints"])
    assert result.exit_code == 0, result.output
    assert "checkpoints" in result.output
    with cli_env.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM checkpoints")).scalar_one() == 2


def test_load_error_names_file_and_row(cli_env: Engine, tmp_path: Path) -> None:
    path = _csv(tmp_path / "bad.csv", ["village_gate", "village_gate", "castle"])
    result = runner.invoke(app, ["load", str(path), "--kind", "checkpoints"])
    assert result.exit_code == 1
    assert "bad.csv" in result.output
    assert "row 3" in result.output
    with cli_env.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM checkpoints")).scalar_one() == 0


def test_db_url_uses_the_configured_database(cli_env: Engine) -> None:
    result = runner.invoke(app, ["db", "url"])
    assert result.exit_code == 0
    assert cli_env.url.database in result.output
