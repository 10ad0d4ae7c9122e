"""``geogrid locate --batch`` on a real Dask LocalCluster (2 worker processes) equals the
single-process answer, row for row, bad rows included; no row is lost."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from geogrid.cli import app
from geogrid.settings import Settings
from geogrid.workspace import Workspace
from geogrid.workspace.batch import ANSWER_COLUMNS, locate_table

runner = CliRunner()

MIXED = (
    "id,address,lon,lat,crs\n"
    "1,平阳县鳌江镇甲村工业路2号,,,\n"
    "2,,120.555,27.515,\n"
    "3,,abc,27.5,\n"  # not a number
    "4,你好我住鳌江甲村工业路2号门口,,,\n"
    "5,,,,\n"  # nothing to locate
    "6,,27.515,120.555,\n"  # latitude first
    "7,,120.555,27.515,mars\n"  # unknown CRS
    "8,,120.5598,27.5122,gcj02\n"
    "9,,121.5,28.5,\n"  # outside every grid
    f"10,{'长' * 201},,,\n"  # too long
    "11,平阳县昆阳镇丙村工业路4号,,,\n"
    "12,,120.555,,\n"  # half a point
    "13,不存在的地方,,,\n"
)
SPREADSHEET = (  # address cells with line breaks and quotes, as a spreadsheet exports them
    "id,address,lon,lat\r\n"
    '1,"平阳县鳌江镇甲村\r\n工业路2号",,\r\n'
    '2,"平阳县昆阳镇丙村""工业路""4号",,\r\n'
    "3,,120.555,27.515\r\n"
    '4,"鳌江镇\n\n乙村工业路6号",,\r\n'
    '5,"他说, 到了",,\r\n'
)


@pytest.fixture
def files(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "arrivals-1.csv").write_text(MIXED, encoding="utf-8")
    (folder / "arrivals-3.csv").write_bytes(SPREADSHEET.encode("utf-8"))
    rng = np.random.default_rng(4)
    points = pd.DataFrame(
        {
            "id": [f"p{i}" for i in range(60)],
            "lon": rng.uniform(120.49, 120.59, 60).round(6).astype(str),
            "lat": rng.uniform(27.49, 27.55, 60).round(6).astype(str),
        }
    )
    points.loc[7, "lon"] = "east"
    points.to_csv(folder / "arrivals-2.csv", index=False)
    pd.DataFrame(
        {
            "id": ["q1", "q2", "q3", "q4"],
            "address": ["平阳县鳌江镇乙村工业路6号", None, None, "鳌江镇丁村"],
            "lon": [None, 120.535, np.nan, None],
            "lat": [None, 27.525, 27.5, None],
        }
    ).to_parquet(folder / "arrivals.parquet")
    return folder


def _text(series: pd.Series) -> list[str]:
    return ["" if pd.isna(v) else str(v) for v in series]


def test_dask_batch_equals_single_process(
    county_db: Engine, cli_database: Callable[[str], None], files: Path, tmp_path: Path
) -> None:
    cli_database(county_db.url.render_as_string(False))
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            *("locate", "--batch", str(files / "arrivals-*.csv")),
            *("--batch", str(files / "arrivals.parquet"), "--out", str(out)),
            *("--workers", "2", "--blocksize", "32"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "82 rows in, 82 rows out" in result.output
    assert "2 workers" in result.output
    answers = pd.read_parquet(out)
    assert len(answers) == 13 + 60 + 5 + 4
    by_file = {name: part.sort_values("row") for name, part in answers.groupby("source")}
    assert {Path(name).name for name in by_file} == {
        "arrivals-1.csv",
        "arrivals-2.csv",
        "arrivals-3.csv",
        "arrivals.parquet",
    }
    for name, part in by_file.items():  # every input row, once, numbered in its file
        assert list(part["row"]) == list(range(1, len(part) + 1)), name

    # the single-process answer: geogrid locate --csv (pandas, one process)
    for csv_name in ("arrivals-1.csv", "arrivals-2.csv", "arrivals-3.csv"):
        single_out = tmp_path / f"{csv_name}.single.csv"
        single = runner.invoke(
            app, ["locate", "--csv", str(files / csv_name), "--out", str(single_out)]
        )
        assert single.exit_code == 0, single.output
        expected = pd.read_csv(single_out, dtype=str, keep_default_na=False)
        got = by_file[str(files / csv_name)]
        assert _text(got["id"]) == list(expected["id"])
        for column, dtype in ANSWER_COLUMNS.items():
            if dtype == "float64":
                want = pd.to_numeric(expected[column].replace("", np.nan)).to_numpy(float)
                np.testing.assert_array_equal(got[column].to_numpy(float), want, column)
            else:
                assert _text(got[column]) == list(expected[column]), column

    # the Parquet file against the in-process function on the same rows
    parquet = str(files / "arrivals.parquet")
    workspace = Workspace(county_db, Settings(cache_check_interval_s=60))
    expected = locate_table(workspace.locator(), pd.read_parquet(parquet), source=parquet)
    pd.testing.assert_frame_equal(
        by_file[parquet].reset_index(drop=True), expected, check_exact=True
    )

    # what the answers say, checked against the small county's known layout
    mixed = by_file[str(files / "arrivals-1.csv")].set_index("id")
    assert mixed.loc["1", "village_code"] == "C-001-001"
    assert mixed.loc["1", "match_level"] == "house"
    assert mixed.loc["2", "micro_code"] == "C-002-001-01"
    assert mixed.loc["11", "village_code"] == "C-002-001"  # 丙村
    assert mixed.loc["9", "status"] == "outside"
    failed = mixed[mixed["status"] == "failed"]
    assert set(failed.index) == {"3", "5", "6", "7", "10", "12"}
    assert failed["error"].notna().all()
    assert "longitude first" in mixed.loc["6", "error"]
    assert "201 characters" in mixed.loc["10", "error"]
    assert mixed.loc["13", "status"] == "unmatched"
    assert mixed.loc["2", "worker_phone"].count("*") == 4  # personal data stays masked
    points = by_file[str(files / "arrivals-2.csv")]
    assert points.iloc[7]["status"] == "failed"
    assert (points.drop(index=points.index[7])["status"] != "failed").all()


def test_batch_names_a_file_it_cannot_use(
    county_db: Engine, cli_database: Callable[[str], None], tmp_path: Path
) -> None:
    cli_database(county_db.url.render_as_string(False))
    (tmp_path / "people.csv").write_text("name,phone\n张三,13800000000\n", encoding="utf-8")
    result = runner.invoke(
        app,
        ["locate", "--batch", str(tmp_path / "people.csv"), "--out", str(tmp_path / "o")],
    )
    assert result.exit_code == 1
    assert "people.csv" in result.output
    assert "'address'" in result.output
    assert not (tmp_path / "o").exists()
    result = runner.invoke(
        app, ["locate", "--batch", str(tmp_path / "none-*.csv"), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 1
    assert "no file matches" in result.output
    (tmp_path / "people.json").write_text("{}", encoding="utf-8")
    result = runner.invoke(
        app, ["locate", "--batch", str(tmp_path / "people.json"), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 1
    assert "people.json: is neither .csv nor .parquet" in result.output
