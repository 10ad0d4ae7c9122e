"""``geogrid events list | report | scan | send`` on a small county."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, text
from typer.testing import CliRunner

from geogrid.access import Caller, Role
from geogrid.cli import app
from geogrid.settings import Settings
from geogrid.workspace import Workspace
from geogrid.workspace.clock import ManualClock
from geogrid.workspace.events import EventIn, create_event

runner = CliRunner()


def test_events_scan_list_report(county_db: Engine, cli_database: Callable[[str], None]) -> None:
    cli_database(county_db.url.render_as_string(False))
    workspace = Workspace(county_db, Settings())
    five_hours_ago = datetime.now(UTC) - timedelta(hours=5)
    workspace.clock = ManualClock(five_hours_ago)
    dispatcher = Caller("cli test", Role.DISPATCHER)
    late, _ = create_event(workspace, EventIn("hotline", grid_code="C-002-002-02"), dispatcher)
    create_event(
        workspace,
        EventIn("hotline", address_string="无处可寻", phone="17012345678"),
        dispatcher,
    )
    scanned = runner.invoke(app, ["events", "scan"])
    assert scanned.exit_code == 0, scanned.output
    assert "2 escalated" in scanned.output  # the placed one and the queued one
    with county_db.connect() as conn:
        agency = conn.execute(
            text("SELECT agency_code FROM events WHERE id = :id"), {"id": late["id"]}
        ).scalar_one()
    assert agency == "C-002"  # village C-002-002 → its town
    listed = runner.invoke(app, ["events", "list"])
    assert listed.exit_code == 0, listed.output
    assert "C-002-002-02" in listed.output
    assert "unplaced" in listed.output
    assert "17012345678" not in listed.output
    queue = runner.invoke(app, ["events", "list", "--unplaced"])
    assert "C-002-002-02" not in queue.output
    day = five_hours_ago.astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()
    report = runner.invoke(app, ["events", "report", day])
    assert report.exit_code == 0, report.output
    assert "C-002-002" in report.output
    by_worker = runner.invoke(app, ["events", "report", day, "--by", "worker"])
    assert by_worker.exit_code == 0, by_worker.output
    with county_db.connect() as conn:
        worker, name = conn.execute(
            text(
                "SELECT w.code, w.name FROM events e JOIN grid_workers w "
                "ON w.code = e.worker_code WHERE e.id = :id"
            ),
            {"id": late["id"]},
        ).one()
    assert worker in by_worker.output
    assert name not in by_worker.output  # masked
    assert runner.invoke(app, ["events", "report", day, "--by", "town"]).exit_code == 1
    bad = runner.invoke(app, ["events", "report", "2020-02-30"])
    assert bad.exit_code == 1
    assert "is not a day" in bad.output


def test_events_send_needs_its_secret(
    county_db: Engine, cli_database: Callable[[str], None], monkeypatch
) -> None:
    cli_database(county_db.url.render_as_string(False))
    monkeypatch.delenv("GEOGRID_EVENTS_WEBHOOK_SECRET", raising=False)
    refused = runner.invoke(app, ["events", "send", "--url", "http://127.0.0.1:9/x", "--once"])
    assert refused.exit_code == 1
    assert "GEOGRID_EVENTS_WEBHOOK_SECRET" in refused.output
