"""Locator snapshots (``GEOGRID_SNAPSHOT_DIR``): a second workspace on the same data loads
the pickled locator instead of building it, answers alike, and a new data version makes a
new snapshot."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from geogrid.db.queries.layers import bump_version
from geogrid.settings import Settings
from geogrid.spatial.addresses import AddressMatcher
from geogrid.workspace import Workspace

TEXTS = ["平阳县鳌江镇甲村工业路2号", "昆阳镇丙村工业路4号", "不存在的地方"]
LON, LAT = [120.555, 120.515, 121.5], [27.515, 27.525, 28.5]


def test_a_second_worker_loads_the_snapshot(
    county_db: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(snapshot_dir=tmp_path, cache_check_interval_s=0)
    first = Workspace(county_db, settings)
    answers = first.locate_addresses(TEXTS) + first.locate_points(LON, LAT)
    written = sorted(p.name for p in tmp_path.glob("*.pickle"))
    assert len(written) == 1
    assert written[0].startswith("locator-masked-")

    def no_build(*args: object, **kwargs: object) -> None:
        raise AssertionError("the matcher was built again")

    monkeypatch.setattr(AddressMatcher, "from_grids", no_build)
    second = Workspace(county_db, settings)
    assert second.locate_addresses(TEXTS) + second.locate_points(LON, LAT) == answers
    assert answers[0].code("village") == "C-001-001"

    # new data: the old snapshot no longer fits, a new one is built and saved
    monkeypatch.undo()
    with county_db.begin() as conn:
        conn.execute(text("UPDATE grids SET name = '甲新村' WHERE code = 'C-001-001'"))
        bump_version(conn, "grids")
    third = Workspace(county_db, settings)
    renamed = third.locate_addresses(TEXTS[:1])[0]
    assert [g.name for g in renamed.chain if g.level == "village"] == ["甲新村"]
    assert len(list(tmp_path.glob("*.pickle"))) == 2
    second.locate_points([120.51], [27.52])  # in 甲村: the old locator answers, a new one builds
    assert second.wait_for_refresh(60)
    assert second.locate_points([120.51], [27.52])[0].chain[2].name == "甲新村"
