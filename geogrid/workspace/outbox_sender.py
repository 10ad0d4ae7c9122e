"""Deliver the outbox: event notifications as signed webhooks, retried with backoff.

The argument for "nothing lost, no twin processed" (exactly-once *processing*; exactly-once
*delivery* over HTTP does not exist):

1. **Nothing lost.** An event change and its outbox row commit in one transaction
   (:mod:`geogrid.db.queries.outbox`); a row stays undelivered until a receiver answered
   2xx *and* the sender committed ``delivered_at``. A sender killed at any moment leaves
   its row undelivered and its row lock released (PostgreSQL ends the dead session's
   transaction), so the next sender takes it.
2. **No twin processed.** Each row is claimed ``FOR UPDATE SKIP LOCKED`` in its own
   transaction, posted, and marked in that transaction: two live senders never post the
   same row. The one window left is a sender dying after the receiver accepted the post
   and before the mark committed: the row is posted again, with the **same**
   ``X-Geogrid-Delivery`` id (the row's ``delivery_id``). A receiver that records the ids
   it processed (a unique key) drops the twin; that is the receiver's half of the bargain.
3. **Trust.** Every post carries ``X-Geogrid-Timestamp`` and ``X-Geogrid-Signature:
   sha256=<hex>``, the HMAC-SHA256 of ``"<timestamp>.<body>"`` with the shared secret.

A failed post (no answer, or not 2xx) is retried after ``base_s * 2**attempts`` seconds
(capped at ``max_backoff_s``). Senders wake on ``NOTIFY geogrid_outbox`` (sent when an
outbox row commits) and poll every ``poll_s`` besides. Delivery times are the machine's
clock, not the events' (which a test may have set in 2020). Payloads hold codes and times
only: no personal data travels, and nothing of the body is logged.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from geogrid.db.errors import database_errors
from geogrid.db.queries import outbox as q

if TYPE_CHECKING:
    from geogrid.workspace import Workspace

__all__ = [
    "DeliveryCounts",
    "WebhookTarget",
    "backoff_s",
    "deliver_due",
    "post_json",
    "run_sender",
    "sign",
]

log = logging.getLogger("geogrid.events")

Poster = Callable[[str, bytes, dict[str, str], float], int]


@dataclass(frozen=True)
class WebhookTarget:
    """Where and how notifications go."""

    url: str
    secret: bytes
    timeout_s: float = 5.0
    base_s: float = 2.0
    max_backoff_s: float = 3600.0


@dataclass
class DeliveryCounts:
    """What a pass of the sender did."""

    delivered: int = 0
    failed: int = 0

    @property
    def tried(self) -> int:
        """Rows posted (delivered or not)."""
        return self.delivered + self.failed


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """Return the signature header value of a body sent at ``timestamp``.

    >>> sign(b"k", "1700000000", b"{}")[:15]
    'sha256=c6ef4734'
    """
    mac = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def backoff_s(attempts: int, base_s: float = 2.0, cap_s: float = 3600.0) -> float:
    """Return how long to wait after the ``attempts``-th failure (1, 2, ...).

    >>> [backoff_s(n) for n in (1, 2, 3)]
    [2.0, 4.0, 8.0]
    """
    return float(min(cap_s, base_s * 2 ** max(0, attempts - 1)))


def post_json(url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> int:
    """POST a body; return the HTTP status (raise OSError when there is no answer)."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def deliver_due(
    workspace: Workspace,
    target: WebhookTarget,
    *,
    limit: int = 1000,
    post: Poster = post_json,
) -> DeliveryCounts:
    """Post up to ``limit`` due notifications, one transaction each (claim, post, mark)."""
    counts = DeliveryCounts()
    while counts.tried < limit:
        with database_errors(), workspace.engine.begin() as conn:
            now = datetime.now(UTC)
            rows = q.claim_due(conn, now, 1)
            if not rows:
                break
            row = rows[0]
            body = json.dumps(
                {
                    "delivery_id": str(row["delivery_id"]),
                    "topic": row["topic"],
                    "event": row["payload"],
                },
                ensure_ascii=False,
                sort_keys=True,
            ).encode()
            stamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/json",
                "X-Geogrid-Delivery": str(row["delivery_id"]),
                "X-Geogrid-Topic": str(row["topic"]),
                "X-Geogrid-Timestamp": stamp,
                "X-Geogrid-Signature": sign(target.secret, stamp, body),
            }
            try:
                status = post(target.url, body, headers, target.timeout_s)
                error = None if 200 <= status < 300 else f"HTTP {status}"
            except OSError as exc:
                error = f"{type(exc).__name__}: {exc}"[:200]
            if error is None:
                q.mark_delivered(conn, int(row["id"]), datetime.now(UTC))
                counts.delivered += 1
            else:
                wait = backoff_s(int(row["attempts"]) + 1, target.base_s, target.max_backoff_s)
                q.mark_failed(conn, int(row["id"]), now + timedelta(seconds=wait), error)
                counts.failed += 1
                log.warning("delivery %s failed (%s); retry in %.0f s", row["id"], error, wait)
    return counts


def run_sender(
    workspace: Workspace,
    target: WebhookTarget,
    *,
    poll_s: float = 5.0,
    stop: threading.Event | None = None,
    once: bool = False,
    on_pass: Callable[[DeliveryCounts], Any] | None = None,
) -> DeliveryCounts:
    """Deliver until ``stop`` is set (``once``: until nothing is due); wake on NOTIFY."""
    stop = stop or threading.Event()
    total = DeliveryCounts()
    with database_errors():
        listener = q.listen(workspace.engine)
    try:
        while not stop.is_set():
            done = deliver_due(workspace, target)
            total.delivered += done.delivered
            total.failed += done.failed
            if on_pass is not None and done.tried:
                on_pass(done)
            if once and done.tried == 0:
                break
            if done.tried == 0 or done.failed:
                q.wait_for_notify(listener, poll_s)
    finally:
        listener.close()
    return total
