"""``geogrid events list | report | scan | send``: the daily loop from the command line.

``list`` shows the events (with personal data masked: a terminal is not a dispatcher's
screen), ``report`` the per-grid day figures, ``scan`` runs the deadline scan once (or
every ``--every`` seconds), ``send`` delivers the outbox as signed webhooks
(``GEOGRID_EVENTS_WEBHOOK_URL``, ``GEOGRID_EVENTS_WEBHOOK_SECRET``; the secret is never
taken on the command line, where ``ps`` would show it).
"""

from __future__ import annotations

import time
from datetime import date
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from geogrid.cli._app import app, console, errors_as_messages, stderr

events_app = typer.Typer(
    help="Events with deadlines: list, report, run the deadline scan, send notifications.",
    no_args_is_help=True,
)
app.add_typer(events_app, name="events")


@events_app.command("list")
@errors_as_messages
def list_events(
    status: Annotated[str | None, typer.Option(help="open, acknowledged or closed")] = None,
    unplaced: Annotated[bool, typer.Option(help="only the operators' queue")] = False,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
) -> None:
    """List events, newest first (personal data masked)."""
    from geogrid.access import Caller, Role
    from geogrid.workspace import Workspace
    from geogrid.workspace.events import find_events

    caller = Caller("cli", Role.PLANNER)  # sees no personal data
    rows = find_events(
        Workspace.open(),
        caller,
        statuses=[status] if status else None,
        placement="unplaced" if unplaced else None,
        limit=limit,
    )
    table = Table("id", "service", "status", "requested", "due", "agency", "grid", "worker")
    for row in rows:
        table.add_row(
            str(row["id"]),
            row["service_code"],
            row["status"] + (" ↑" if row["escalation_level"] else ""),
            row["requested_at"].isoformat(timespec="minutes"),
            row["expected_at"].isoformat(timespec="minutes"),
            escape(row["agency_code"] or "unplaced"),
            escape(row["grid_code"] or "-"),
            escape(row["worker_code"] or "-"),
        )
    console.print(table)


@events_app.command("report")
@errors_as_messages
def report(
    start: Annotated[str, typer.Argument(help="the first local day, YYYY-MM-DD")],
    days: Annotated[int, typer.Option(min=1, max=366)] = 1,
    by: Annotated[str, typer.Option(help="grid (per grid and day) or worker")] = "grid",
) -> None:
    """Print per grid and day: events, on-time %, overdue, median minutes (--by worker:
    per grid worker, names masked)."""
    from geogrid.access import Caller, Role
    from geogrid.errors import InvalidRequestError
    from geogrid.workspace import Workspace
    from geogrid.workspace.event_reports import daily_report

    try:
        first = date.fromisoformat(start)
    except ValueError:
        raise InvalidRequestError(f"START {start!r} is not a day (YYYY-MM-DD)") from None
    if by not in ("grid", "worker"):
        raise InvalidRequestError(f"--by must be grid or worker, not {by!r}")
    if by == "worker":
        _print_worker_report(first, days)
        return
    now, rows = daily_report(Workspace.open(), Caller("cli", Role.PLANNER), first, days)
    table = Table(
        "day",
        "grid",
        "events",
        "closed",
        "on time %",
        "overdue",
        "open",
        "median 1st response min",
        "median close min",
    )
    for r in rows:
        table.add_row(
            r["day"].isoformat(),
            escape(r["grid_code"] or "unplaced"),
            str(r["events"]),
            str(r["closed"]),
            _num(r["on_time_pct"]),
            str(r["overdue"]),
            str(r["open"]),
            _num(r["median_first_response_min"]),
            _num(r["median_close_min"]),
        )
    console.print(table)
    console.print(f"as of {now.isoformat(timespec='seconds')}")


def _print_worker_report(first: date, days: int) -> None:
    from geogrid.access import Caller, Role
    from geogrid.workspace import Workspace
    from geogrid.workspace.event_reports import worker_report

    now, rows = worker_report(Workspace.open(), Caller("cli", Role.PLANNER), first, days)
    table = Table("worker", "name", "grid", "events", "closed", "on time %", "overdue", "open")
    for r in rows:
        table.add_row(
            escape(r["worker_code"]),
            escape(r["worker_name"] or "-"),
            escape(r["grid_code"] or "-"),
            str(r["events"]),
            str(r["closed"]),
            _num(r["on_time_pct"]),
            str(r["overdue"]),
            str(r["open"]),
        )
    console.print(table)
    console.print(f"as of {now.isoformat(timespec='seconds')}")


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


@events_app.command("map")
@errors_as_messages
def event_map(
    out: Annotated[str, typer.Option(help="the page (.html) or the printed sheet (.pdf, .png)")],
    grid: Annotated[str | None, typer.Option(help="a town or village (default: all)")] = None,
) -> None:
    """Draw the open and overdue events by grid (offline HTML, or printed)."""
    from pathlib import Path

    from geogrid.access import Caller, Role
    from geogrid.maps import map_to_html, print_html
    from geogrid.workspace import Workspace
    from geogrid.workspace.event_map import events_map

    html = map_to_html(events_map(Workspace.open(), Caller("cli", Role.PLANNER), grid))
    target = Path(out)
    if target.suffix.lower() in (".pdf", ".png"):
        print_html(html, target)
    else:
        target.write_text(html, encoding="utf-8")
    console.print(f"wrote {escape(str(target))}")


@events_app.command("scan")
@errors_as_messages
def scan(
    every: Annotated[
        float | None, typer.Option(help="scan again every this many seconds (until Ctrl-C)")
    ] = None,
) -> None:
    """Queue reminders and escalate overdue events to the parent grid, now."""
    from geogrid.workspace import Workspace
    from geogrid.workspace.event_actions import scan_deadlines

    workspace = Workspace.open()
    while True:
        started = time.perf_counter()
        done = scan_deadlines(workspace)
        ms = (time.perf_counter() - started) * 1000
        console.print(
            f"{done.now.isoformat(timespec='seconds')}: {done.reminded} reminded, "
            f"{done.escalated} escalated ({ms:.0f} ms)"
        )
        if every is None:
            return
        time.sleep(every)


@events_app.command("send")
@errors_as_messages
def send(
    url: Annotated[
        str | None, typer.Option(help="the receiver (default: GEOGRID_EVENTS_WEBHOOK_URL)")
    ] = None,
    once: Annotated[bool, typer.Option(help="deliver what is due, then stop")] = False,
    poll: Annotated[float, typer.Option(help="seconds between polls besides NOTIFY")] = 5.0,
) -> None:
    """Deliver the outbox as signed webhooks, with retries (until Ctrl-C)."""
    from geogrid.errors import InvalidRequestError
    from geogrid.settings import get_settings
    from geogrid.workspace import Workspace
    from geogrid.workspace.outbox_sender import WebhookTarget, run_sender

    settings = get_settings()
    target_url = url or settings.events_webhook_url
    if not target_url or settings.events_webhook_secret is None:
        raise InvalidRequestError(
            "set GEOGRID_EVENTS_WEBHOOK_SECRET, and GEOGRID_EVENTS_WEBHOOK_URL or --url"
        )
    target = WebhookTarget(target_url, settings.events_webhook_secret.get_secret_value().encode())
    try:
        total = run_sender(
            Workspace.open(),
            target,
            poll_s=poll,
            once=once,
            on_pass=lambda c: stderr.print(f"delivered {c.delivered}, failed {c.failed}"),
        )
    except KeyboardInterrupt:
        return
    console.print(f"delivered {total.delivered}, failed {total.failed}")
