"""Nothing lost, no twin processed: the outbox delivered by real sender processes to a real
local HTTP receiver that checks signatures and records delivery ids.

- a sender killed after the receiver took a post but before it marked it: the next sender
  posts it again with the same delivery id (the receiver drops the twin), and the rest;
- a sender killed between the event's commit and any send: the next sender delivers it
  exactly once;
- a failed post is retried after its backoff; a sender waits on NOTIFY, not on its poll.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import Engine, text

from geogrid.access import Caller, Role
from geogrid.settings import Settings
from geogrid.workspace import Workspace
from geogrid.workspace.events import EventIn, create_event
from geogrid.workspace.outbox_sender import WebhookTarget, deliver_due, run_sender, sign
from tests.conftest import DEMO, DEMO_WORKER_GRID, database_copy

if TYPE_CHECKING:
    from tests.conftest import TestServer

ROOT = Path(__file__).resolve().parents[2]
SECRET = "s3cret-for-tests"
DISPATCHER = Caller("test dispatcher", Role.DISPATCHER)


@dataclass
class Receiver:
    """A webhook receiver: records every post, processes each delivery id once."""

    url: str = ""
    posts: list[dict[str, Any]] = field(default_factory=list)
    processed: dict[str, dict[str, Any]] = field(default_factory=dict)
    hold_first: bool = False
    fail_next: int = 0
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            stamp = self.headers["X-Geogrid-Timestamp"]
            ok = self.headers["X-Geogrid-Signature"] == sign(SECRET.encode(), stamp, body)
            delivery = self.headers["X-Geogrid-Delivery"]
            with state.lock:
                state.posts.append({"id": delivery, "signed": ok})
                first = len(state.posts) == 1
                failing = state.fail_next > 0
                state.fail_next -= 1 if failing else 0
                if ok and not failing and delivery not in state.processed:
                    state.processed[delivery] = json.loads(body)  # dedupe on the id
            state.arrived.set()
            if first and state.hold_first:
                state.release.wait(60)
            self.send_response(503 if failing else (200 if ok else 401))
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    state.release.set()
    server.shutdown()


@pytest.fixture
def outbox_db(pg_server: TestServer, demo_db: Engine) -> Iterator[Engine]:
    demo_db.dispose()
    with database_copy(pg_server, DEMO) as engine:
        yield engine


def report(workspace: Workspace, n: int = 1) -> list[int]:
    made = []
    for _ in range(n):
        event, _ = create_event(
            workspace, EventIn("hotline", grid_code=DEMO_WORKER_GRID), DISPATCHER
        )
        made.append(int(event["id"]))
    return made


def outbox(engine: Engine) -> dict[str, bool]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT delivery_id, delivered_at FROM event_outbox"))
        return {str(r[0]): r[1] is not None for r in rows}


def sender(engine: Engine, receiver: Receiver, *extra: str) -> subprocess.Popen[bytes]:
    """Start ``geogrid events send`` in its own process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GEOGRID_")}
    env |= {
        "PYTHONPATH": str(ROOT),
        "GEOGRID_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "GEOGRID_EVENTS_WEBHOOK_SECRET": SECRET,
    }
    code = "from geogrid.cli import app; import sys; app(sys.argv[1:], prog_name='geogrid')"
    command = [sys.executable, "-c", code, "events", "send", "--url", receiver.url, "--poll", "1"]
    return subprocess.Popen(
        [*command, *extra], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def finish(process: subprocess.Popen[bytes]) -> None:
    _out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err.decode()


def test_a_sender_killed_before_it_marked_a_post_loses_nothing_and_twins_are_dropped(
    outbox_db: Engine, receiver: Receiver
) -> None:
    workspace = Workspace(outbox_db, Settings())
    receiver.hold_first = True
    first = sender(outbox_db, receiver)
    try:
        report(workspace, 3)  # committed: three outbox rows, announced by NOTIFY
        assert receiver.arrived.wait(60), "the sender never posted"
        os.kill(first.pid, signal.SIGKILL)  # after the receiver took it, before the mark
        first.wait(30)
    finally:
        receiver.release.set()
    assert sum(outbox(outbox_db).values()) == 0  # nothing marked delivered
    finish(sender(outbox_db, receiver, "--once"))
    stored = outbox(outbox_db)
    assert all(stored.values())  # nothing lost
    assert len(receiver.posts) == 4  # the held post went out twice ...
    assert receiver.posts[0]["id"] == receiver.posts[1]["id"]  # ... with the same id
    assert set(receiver.processed) == set(stored)  # each processed once
    assert all(p["signed"] for p in receiver.posts)


def test_a_sender_killed_between_commit_and_send_sends_no_twin(
    outbox_db: Engine, receiver: Receiver
) -> None:
    workspace = Workspace(outbox_db, Settings())
    first = sender(outbox_db, receiver)
    time.sleep(3)  # started, listening
    os.kill(first.pid, signal.SIGSTOP)  # it cannot send any more
    [event_id] = report(workspace)  # the change commits
    os.kill(first.pid, signal.SIGKILL)
    first.wait(30)
    assert receiver.posts == []
    finish(sender(outbox_db, receiver, "--once"))
    assert len(receiver.posts) == 1  # exactly once
    [delivered] = receiver.processed.values()
    assert delivered["event"]["event_id"] == event_id
    assert delivered["topic"] == "created"
    assert "phone" not in json.dumps(delivered)  # codes and times only


def test_a_failed_post_is_retried_after_its_backoff(outbox_db: Engine, receiver: Receiver) -> None:
    workspace = Workspace(outbox_db, Settings())
    target = WebhookTarget(receiver.url, SECRET.encode(), base_s=0.5)
    report(workspace)
    receiver.fail_next = 1
    assert deliver_due(workspace, target).failed == 1
    with outbox_db.connect() as conn:
        attempts, error, wait = conn.execute(
            text(
                "SELECT attempts, last_error, extract(epoch FROM next_attempt_at - now()) "
                "FROM event_outbox"
            )
        ).one()
    assert (attempts, error) == (1, "HTTP 503")
    assert 0 < wait <= 0.5
    assert deliver_due(workspace, target).tried == 0  # not due yet
    time.sleep(0.6)
    assert deliver_due(workspace, target).delivered == 1
    assert all(outbox(outbox_db).values())


def test_a_waiting_sender_wakes_on_notify_not_on_its_poll(
    outbox_db: Engine, receiver: Receiver
) -> None:
    workspace = Workspace(outbox_db, Settings())
    target = WebhookTarget(receiver.url, SECRET.encode())
    stop = threading.Event()
    thread = threading.Thread(
        target=run_sender, args=(workspace, target), kwargs={"poll_s": 60, "stop": stop}
    )
    thread.start()
    try:
        time.sleep(1.0)  # waiting on NOTIFY now
        started = time.monotonic()
        report(workspace)
        assert receiver.arrived.wait(20)
        assert time.monotonic() - started < 20  # far below the 60 s poll
    finally:
        stop.set()
        with outbox_db.begin() as conn:  # wake it to see the stop
            conn.execute(text("NOTIFY geogrid_outbox"))
        thread.join(30)
    assert not thread.is_alive()
    assert len(receiver.processed) == 1
