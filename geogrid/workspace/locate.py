"""Which grid owns a point or an address: the answer the API, the CLI and notebooks share.

A :class:`Locator` joins three in-memory pieces the workspace caches — the
:class:`~geogrid.spatial.gridindex.GridIndex`, the
:class:`~geogrid.spatial.addresses.AddressMatcher` and the grid workers — into
:class:`LocateAnswer` objects.

Rules beyond the index's own (see :mod:`geogrid.spatial.gridindex`):

- **An address answer never claims more than was matched.** A ``house`` match gives the
  whole chain; a ``road`` or ``village`` match stops at the village grid (the road's or
  village's representative point says nothing about the micro-grid); a ``town`` match
  stops at the town; ``none`` gives no chain (status ``unmatched``).
- **The grid worker to notify** is the worker of the village/community grid (the unit a
  grid worker owns); where that grid has none, the worker of the finest grid in the
  chain that has one.
- **Personal data.** The worker's phone is masked unless the locator was made with
  ``reveal_personal=True`` (only for callers allowed to read it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from geogrid.privacy import mask_phone
from geogrid.spatial.gridindex import GridIndex
from geogrid.spatial.gridlocations import TERRITORIAL_LEVELS, PointLocation

if TYPE_CHECKING:  # the matcher comes built: locating points never imports it
    from geogrid.spatial.addresses import AddressMatch, AddressMatcher
    from geogrid.spatial.gridcounties import CountyGridIndex

__all__ = ["GapRef", "GridRef", "LocateAnswer", "Locator", "WorkerRef"]

Status = Literal["ok", "gap", "outside", "unmatched"]
DEPTH_BY_MATCH = {"house": 4, "road": 3, "village": 3, "town": 2, "none": 0}


@dataclass(frozen=True)
class GridRef:
    """A grid named in an answer."""

    code: str
    name: str
    level: str


@dataclass(frozen=True)
class GapRef:
    """At a level where no grid covers the point: the nearest grid and how far it is."""

    level: str
    nearest: GridRef
    distance_m: float


@dataclass(frozen=True)
class WorkerRef:
    """The grid worker to notify (phone masked unless the caller may read it)."""

    code: str
    name: str
    phone: str | None
    grid_code: str


@dataclass(frozen=True)
class LocateAnswer:
    """Which grids own a point (or a matched address), and how sure the answer is.

    ``lon``/``lat`` are the WGS 84 point used (None when an address matched nothing).
    ``confidence`` is 1 for a point given as coordinates and the matcher's confidence for
    an address.
    """

    status: Status
    lon: float | None
    lat: float | None
    chain: tuple[GridRef, ...] = ()
    industry: tuple[GridRef, ...] = ()
    gaps: tuple[GapRef, ...] = ()
    worker: WorkerRef | None = None
    confidence: float = 1.0
    address: AddressMatch | None = field(default=None, repr=False)

    def code(self, level: str) -> str | None:
        """Return the code of the owning grid at ``level``, or None."""
        return next((g.code for g in self.chain if g.level == level), None)


class Locator:
    """Answer locate questions from cached indexes.

    Parameters
    ----------
    grids
        The grid frame the index was built from (``code``, ``name``, ``level``).
    index
        The grid index (whole, or county by county).
    workers
        Grid workers (``code``, ``name``, ``phone``, ``grid_code``).
    matcher
        The address matcher, or None when only points are located.
    reveal_personal
        Show workers' phones unmasked (only for callers allowed to read them).
    previous
        The locator this one follows (after an edit): its grid and worker tables are
        kept when the grids' codes, names and levels and the workers frame are the same
        (a moved border changes neither).
    """

    def __init__(
        self,
        grids: pd.DataFrame,
        index: GridIndex | CountyGridIndex,
        workers: pd.DataFrame,
        matcher: AddressMatcher | None = None,
        *,
        reveal_personal: bool = False,
        previous: Locator | None = None,
    ) -> None:
        self._index = index
        self._matcher = matcher
        # plain str lists: fast to build from, and to compare with the previous ones
        columns = tuple(grids[c].tolist() for c in ("code", "name", "level"))
        workers_key = (id(workers), reveal_personal)
        refs, worker_refs = (
            previous.tables_built_from(columns, workers_key) if previous else (None, None)
        )
        self._refs = refs or {
            code: GridRef(code, name, level) for code, name, level in zip(*columns, strict=True)
        }
        if worker_refs is None:
            first = workers.drop_duplicates("grid_code")
            worker_refs = {
                str(grid): WorkerRef(
                    str(code),
                    str(name),
                    phone if reveal_personal else mask_phone(phone),
                    str(grid),
                )
                for code, name, phone, grid in zip(
                    *(first[c].tolist() for c in ("code", "name", "phone", "grid_code")),
                    strict=True,
                )
            }
        self._workers = worker_refs
        self._grid_columns = columns
        self._workers_frame = workers  # held: its id stays its own while compared
        self._workers_key = workers_key

    def tables_built_from(
        self, columns: tuple[list[Any], ...], workers_key: tuple[int, bool]
    ) -> tuple[dict[str, GridRef] | None, dict[str, WorkerRef] | None]:
        """Return this locator's grid table if it was built from the same grid codes,
        names and levels, and its worker table if from the same workers frame at the
        same privacy level (else None for each): a locator after an edit takes them."""
        same_grids = getattr(self, "_grid_columns", None) == columns  # None: a snapshot
        same_workers = getattr(self, "_workers_key", None) == workers_key
        return (self._refs if same_grids else None, self._workers if same_workers else None)

    def __getstate__(self) -> dict[str, Any]:
        """Pickle (a snapshot) without what only the next locator compares with."""
        state = self.__dict__.copy()
        for name in ("_grid_columns", "_workers_frame", "_workers_key"):
            state.pop(name, None)
        return state

    def with_matcher(self, matcher: AddressMatcher | None) -> Locator:
        """This locator with another address matcher (index and workers shared)."""
        other = object.__new__(Locator)
        other.__dict__.update(self.__dict__)  # not copy.copy: that pickles (__getstate__)
        other._matcher = matcher
        return other

    def points(
        self, lon: Sequence[float] | np.ndarray, lat: Sequence[float] | np.ndarray
    ) -> list[LocateAnswer]:
        """Locate WGS 84 points; one answer per point, in order."""
        if len(lon) == 1 and len(lat) == 1:  # the API's one point: the index's fast path
            return [self._answer(self._index.locate_one(lon[0], lat[0]), depth=4, confidence=1.0)]
        found = self._index.locate(np.asarray(lon, float), np.asarray(lat, float))
        return [self._answer(found.point(i), depth=4, confidence=1.0) for i in range(len(found))]

    def addresses(self, texts: Sequence[str]) -> list[LocateAnswer]:
        """Match address texts and locate them; one answer per text, in order."""
        if self._matcher is None:
            raise RuntimeError("this locator was built without an address matcher")
        matches = self._matcher.match_many(texts)
        placed = [i for i, m in enumerate(matches) if m.point is not None]
        answers = [
            LocateAnswer("unmatched", None, None, confidence=m.confidence, address=m)
            for m in matches
        ]
        if placed:
            lon = np.array([matches[i].point[0] for i in placed])  # type: ignore[index]
            lat = np.array([matches[i].point[1] for i in placed])  # type: ignore[index]
            found = self._index.locate(lon, lat)
            for k, i in enumerate(placed):
                match = matches[i]
                answers[i] = self._answer(
                    found.point(k),
                    depth=DEPTH_BY_MATCH[match.level],
                    confidence=match.confidence,
                    address=match,
                )
        return answers

    def _answer(
        self,
        one: PointLocation,
        *,
        depth: int,
        confidence: float,
        address: AddressMatch | None = None,
    ) -> LocateAnswer:
        levels = TERRITORIAL_LEVELS[:depth]
        chain = tuple(self._refs[c] for level in levels if (c := one.code(level)) is not None)
        gaps = tuple(
            GapRef(g.level, self._refs[g.nearest_code], g.distance_m)
            for g in one.gaps
            if g.level in levels
        )
        status: Status = str(one.status)  # type: ignore[assignment]
        if status == "gap" and not gaps:
            status = "ok"  # the gap lies below the depth this answer claims
        return LocateAnswer(
            status=status,
            lon=one.lon,
            lat=one.lat,
            chain=chain,
            industry=tuple(self._refs[c] for c in one.industry_codes) if depth == 4 else (),
            gaps=gaps,
            worker=self._worker_for(chain),
            confidence=confidence,
            address=address,
        )

    def _worker_for(self, chain: tuple[GridRef, ...]) -> WorkerRef | None:
        village = next((g for g in chain if g.level == "village"), None)
        if village is not None and village.code in self._workers:
            return self._workers[village.code]
        for grid in reversed(chain):
            if grid.code in self._workers:
                return self._workers[grid.code]
        return None
