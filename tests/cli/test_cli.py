"""The ``geogrid`` command line, run in-process against the test database."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from geogrid.cli import app

runner = CliRunner()


@pytest.fixture
def cli_env(empty_db: Engine, cli_database: Callable[[str], None]) -> Engine:
    """Point the CLI at the test's empty database."""
    cli_database(empty_db.url.render_as_string(False))
    return empty_db


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


def test_locate_csv_writes_answers_and_summary(
    county_db: Engine, cli_database: Callable[[str], None], tmp_path: Path
) -> None:
    cli_database(county_db.url.render_as_string(False))
    arrivals = tmp_path / "arrivals.csv"
    arrivals.write_text(
        "id,address,lon,lat\n1,平阳县鳌江镇甲村工业路2号,,\n2,,120.555,27.515\n3,,abc,27.5\n"
        "4,你好我住鳌江甲村工业路2号门口,,\n",
        encoding="utf-8",
    )
    out = tmp_path / "assigned.csv"
    result = runner.invoke(app, ["locate", "--csv", str(arrivals), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assigned = pd.read_csv(out, dtype=str)
    assert list(assigned["id"]) == ["1", "2", "3", "4"]
    assert assigned.loc[0, "village_code"] == "C-001-001"
    assert assigned.loc[1, "micro_code"] == "C-002-001-01"
    assert assigned.loc[2, "status"] == "failed"
    assert assigned.loc[3, "village_code"] == "C-001-001"
    assert "town abbreviated (鳌江 for 鳌江镇)" in assigned.loc[3, "reasons"]
    assert "level:house" in result.output
    assert "failed" in result.output


def test_load_dry_run_and_replace_print_what_they_would_delete(
    cli_env: Engine, tmp_path: Path
) -> None:
    path = _csv(tmp_path / "gates.csv", ["village_gate"] * 15)
    assert runner.invoke(app, ["load", str(path), "--kind", "checkpoints"]).exit_code == 0
    _csv(tmp_path / "gates.csv", ["village_gate"] * 2)
    args = ["load", str(path), "--kind", "checkpoints", "--replace"]
    result = runner.invoke(app, [*args, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "dry run: nothing was written" in result.output
    # 13 deleted: the first 10 codes are named, then how many more
    assert (
        "checkpoints: 13 rows would be deleted: K10, K11, K12, K13, K14, K2, K3, K4, K5, K6 "
        "and 3 more" in result.output
    )
    with cli_env.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM checkpoints")).scalar_one() == 15
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "dry run" not in result.output
    assert "checkpoints: 13 rows deleted: K10" in result.output
    with cli_env.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM checkpoints")).scalar_one() == 2


def test_addresses_correct_list_remove(
    county_db: Engine, cli_database: Callable[[str], None]
) -> None:
    cli_database(county_db.url.render_as_string(False))
    before = runner.invoke(app, ["locate", "鳌江镇老酒厂对面"])
    assert before.exit_code == 0, before.output
    assert "C-002-002-02" not in before.output

    stored = runner.invoke(
        app, ["addresses", "correct", "鳌江镇老酒厂对面", "--grid", "C-002-002-02"]
    )
    assert stored.exit_code == 0, stored.output
    assert "correction #1" in stored.output
    after = runner.invoke(app, ["locate", "鰲江鎮老酒廠"])  # another spelling, same text
    assert after.exit_code == 0, after.output
    assert "C-002-002-02" in after.output
    assert "operator correction #1" in after.output

    listed = runner.invoke(app, ["addresses", "list"])
    assert listed.exit_code == 0, listed.output
    assert "C-002-002-02" in listed.output

    refused = runner.invoke(app, ["addresses", "correct", "甲村", "--grid", "C-I01"])
    assert refused.exit_code == 1
    assert "town, village or micro-grid" in refused.output
    missing = runner.invoke(app, ["addresses", "remove", "7"])
    assert missing.exit_code == 1
    assert "no address correction 7" in missing.output

    removed = runner.invoke(app, ["addresses", "remove", "1"])
    assert removed.exit_code == 0, removed.output
    again = runner.invoke(app, ["locate", "鳌江镇老酒厂对面"])
    assert "C-002-002-02" not in again.output
    with county_db.connect() as conn:
        actions = conn.execute(
            text(
                "SELECT action, actor FROM audit_log WHERE layer = 'address_corrections' "
                "ORDER BY id"
            )
        ).all()
    assert [a for a, _ in actions] == ["create", "delete"]
    assert all(actor.startswith("cli") for _, actor in actions)
