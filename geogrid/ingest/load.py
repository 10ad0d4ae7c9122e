"""Load files into PostGIS: read → validate → derive → upsert, one transaction.

A load either stores every row of every file it was given or nothing at all: the first
bad row aborts the transaction and the error names the file, the row and the reason.
A dry run does the same work in a transaction that is rolled back, after checking the
deferred constraints a commit would check: its counts are the real load's, and nothing
is written.

``replace`` deletes the stored rows a file lacks, within the bounds its layer's spec
sets (:attr:`~geogrid.ingest.specs.LayerSpec.replace_within`): for grids, the children
of the parents the file holds, level by level, with everything under them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from geogrid.db.errors import database_errors
from geogrid.db.queries.layers import bump_version, check_deferred_constraints, upsert_rows
from geogrid.db.queries.roads import read_roads, write_topology
from geogrid.errors import DatabaseUnavailableError, IngestError, QueryTimeoutError
from geogrid.ingest.readers import read_layer
from geogrid.ingest.specs import LayerSpec, spec_for
from geogrid.ingest.validate import REPORTED_CODES, LoadReport, prepare_layer
from geogrid.road_classes import DEFAULT_SPEED_KMH
from geogrid.settings import get_settings
from geogrid.spatial.addresses import normalize_address
from geogrid.spatial.roads.routable import car_costs, profile_flags
from geogrid.spatial.roads.topology import geodesic_length_m, road_topology

__all__ = ["LoadRequest", "load_file", "load_files"]

Progress = Callable[[str], None]


@dataclass(frozen=True)
class LoadRequest:
    """One file (and layer of it) to load as one kind of layer."""

    path: Path
    kind: str
    layer: str | None = None
    crs: str | None = None


def load_file(
    engine: Engine,
    path: str | Path,
    kind: str,
    *,
    layer: str | None = None,
    crs: str | None = None,
    replace: bool = False,
    repair: bool = True,
    max_vertices: int | None = None,
    dry_run: bool = False,
) -> LoadReport:
    """Load one layer of one file; see :func:`load_files`."""
    request = LoadRequest(Path(path), kind, layer, crs)
    reports = load_files(
        engine,
        [request],
        replace=replace,
        repair=repair,
        max_vertices=max_vertices,
        dry_run=dry_run,
    )
    return reports[0]


def load_files(
    engine: Engine,
    requests: Sequence[LoadRequest],
    *,
    replace: bool = False,
    repair: bool = True,
    progress: Progress | None = None,
    max_vertices: int | None = None,
    dry_run: bool = False,
) -> list[LoadReport]:
    """Load several files in ONE transaction, in the order given.

    Every file is read and validated before the database is touched; then all rows are
    upserted by code. With ``replace`` the rows of a layer that are not in its file are
    deleted, within the bounds of the layer's spec (for grids: the subtrees the file
    holds). With ``dry_run`` the transaction is rolled back: the reports say what the
    load would do and nothing is written. Roads get their routing topology recomputed
    over the whole table. A geometry with more than ``max_vertices`` vertices is refused
    (None: the setting ``GEOGRID_MAX_VERTICES``, the bound edits have too).
    """
    if max_vertices is None:
        max_vertices = get_settings().max_vertices
    prepared: list[tuple[LayerSpec, gpd.GeoDataFrame, LoadReport]] = []
    for request in requests:
        if progress:
            progress(f"reading {request.path} ({request.kind})")
        started = time.perf_counter()
        spec = spec_for(request.kind)
        raw = read_layer(request.path, spec, layer=request.layer)
        frame, report = prepare_layer(
            raw,
            spec,
            path=str(request.path),
            crs=request.crs,
            repair=repair,
            max_vertices=max_vertices,
        )
        frame = _derive(frame, spec)
        report.seconds = time.perf_counter() - started
        prepared.append((spec, frame, report))
    try:
        # database_errors: the upserts also use the driver's own cursor (COPY)
        with database_errors(), engine.connect() as conn, conn.begin() as transaction:
            for spec, frame, report in prepared:
                if progress:
                    progress(f"{'comparing' if dry_run else 'storing'} {len(frame):,} {spec.name}")
                started = time.perf_counter()
                counts = upsert_rows(
                    conn,
                    spec.name,
                    frame,
                    replace=replace,
                    within=spec.replace_within,
                    parent=spec.tree_parent,
                )
                changed = counts.changed
                if spec.name == "roads":
                    changed = _refresh_topology(conn) > 0 or changed
                if changed:
                    bump_version(conn, spec.name)
                report.inserted, report.updated = counts.inserted, counts.updated
                report.unchanged, report.deleted = counts.unchanged, counts.deleted
                report.deleted_codes = list(counts.deleted_codes[:REPORTED_CODES])
                report.dry_run = dry_run
                report.seconds += time.perf_counter() - started
            if dry_run:
                check_deferred_constraints(conn)  # what the commit would refuse
                transaction.rollback()
    except IntegrityError as exc:
        raise _integrity_error(exc, prepared) from exc
    except DatabaseUnavailableError as exc:
        raise DatabaseUnavailableError(
            f"the database went away during the load; nothing was stored ({exc.__cause__})"
        ) from exc
    except QueryTimeoutError as exc:
        raise QueryTimeoutError(
            f"the load took longer than the statement timeout; nothing was stored "
            f"(GEOGRID_STATEMENT_TIMEOUT_MS={exc.details.get('timeout_ms')})",
            details=exc.details,
        ) from exc
    except DBAPIError as exc:
        paths = ", ".join(report.path for _, _, report in prepared)
        raise IngestError(
            f"the database refused the load; nothing was stored: {exc.orig}", path=paths
        ) from exc
    return [report for _, _, report in prepared]


def _derive(frame: gpd.GeoDataFrame, spec: LayerSpec) -> gpd.GeoDataFrame:
    """Add the columns geogrid computes itself (normalised text, lengths, speeds)."""
    if spec.name == "addresses":
        frame["normalized"] = [normalize_address(text) for text in frame["full_text"]]
    elif spec.name == "roads":
        speeds = frame["road_class"].map(DEFAULT_SPEED_KMH)
        frame["speed_kmh"] = pd.to_numeric(frame["speed_kmh"]).fillna(speeds).astype(float)
        frame["car"], frame["foot"] = profile_flags(frame)
        frame["length_m"] = geodesic_length_m(frame.geometry.to_numpy())
    return frame


def _refresh_topology(conn: Connection) -> int:
    """Recompute source/target/cost (the car profile) of every road edge; return how many
    rows changed."""
    roads = read_roads(conn)
    if roads.empty:
        return 0
    topology = road_topology(roads.geometry.to_numpy())
    cost, reverse_cost = car_costs(
        roads["length_m"].to_numpy(float),
        roads["speed_kmh"].to_numpy(float),
        roads["oneway"].to_numpy(bool),
        roads["car"].to_numpy(bool),
    )
    table = pd.DataFrame(
        {
            "id": roads["id"].to_numpy(),
            "source": topology.source,
            "target": topology.target,
            "cost": cost,
            "reverse_cost": reverse_cost,
        }
    )
    return write_topology(conn, table)


def _integrity_error(
    exc: IntegrityError, prepared: list[tuple[LayerSpec, gpd.GeoDataFrame, LoadReport]]
) -> IngestError:
    """Turn a constraint violation into an error that names the file and row."""
    diag = getattr(exc.orig, "diag", None)
    detail = getattr(diag, "message_detail", None) or str(exc.orig)
    table = getattr(diag, "table_name", None)
    for spec, frame, report in prepared:
        if spec.name != table:
            continue
        for column in frame.columns:
            if column == frame.active_geometry_name:
                continue
            needle = f"({column})=("
            if needle in detail:
                value = detail.split(needle, 1)[1].split(")", 1)[0]
                hits = frame.index[frame[column].astype(str) == value]
                row = int(hits[0]) if len(hits) else None
                return IngestError(
                    f"{detail} Nothing was stored.", path=report.path, row=row, column=column
                )
        return IngestError(f"{detail} Nothing was stored.", path=report.path)
    if "still referenced" in detail:  # --replace would delete a row others refer to
        detail += " --replace would delete it; keep it in the file or remove those first."
    paths = ", ".join(report.path for _, _, report in prepared)
    return IngestError(f"{detail} Nothing was stored.", path=paths or None)
