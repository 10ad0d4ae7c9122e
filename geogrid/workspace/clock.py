"""One clock gives "now": deadlines, reminders and escalations read it, tests move it.

Every event's times (requested, acknowledged, closed, the deadline scan's "now") come from
the workspace's :attr:`~geogrid.workspace.Workspace.clock`, never from the database's
``now()`` nor ``datetime.now()`` elsewhere, so a test (or a notebook replaying a day)
sets the time and moves it forward.

Examples
--------
>>> from datetime import UTC, datetime, timedelta
>>> clock = ManualClock(datetime(2020, 1, 31, 8, 0, tzinfo=UTC))
>>> clock.advance(timedelta(hours=4)).isoformat()
'2020-01-31T12:00:00+00:00'
>>> clock.now() == datetime(2020, 1, 31, 12, 0, tzinfo=UTC)
True
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "ManualClock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """Anything that tells the time (timezone-aware, UTC)."""

    def now(self) -> datetime:
        """Return the current time."""
        ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> datetime:
        """Return the current time (UTC)."""
        return datetime.now(UTC)


class ManualClock:
    """A clock that stands still until it is set or advanced (tests, replays).

    Parameters
    ----------
    start
        The time it shows first (timezone-aware; a naive time is taken as UTC).
    """

    def __init__(self, start: datetime) -> None:
        self._lock = threading.Lock()
        self._now = _aware(start)

    def now(self) -> datetime:
        """Return the time it was last set to."""
        with self._lock:
            return self._now

    def set(self, when: datetime) -> datetime:
        """Set the time; return it."""
        with self._lock:
            self._now = _aware(when)
            return self._now

    def advance(self, by: timedelta) -> datetime:
        """Move the time forward (or back, with a negative ``by``); return the new time."""
        with self._lock:
            self._now = self._now + by
            return self._now


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)
