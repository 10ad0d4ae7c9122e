"""Batch locating on Dask: many files, many processes or machines, one answer per row.

``geogrid locate --batch FILES --out DIR`` runs here. The files (CSV or Parquet; local
paths, globs, or any URL fsspec reads, such as ``s3://bucket/arrivals/*.parquet``) are
read by ``dask.dataframe`` into partitions; each partition is located on a worker by
:func:`geogrid.workspace.batch.locate_table` — the same function the single-process
``geogrid locate --csv`` and the API's batches use — and written to Parquet.

- **The locator goes to each worker once.** The driver builds it (grid index, address
  matcher, grid workers) from the database, pickles it, and registers a
  :class:`LocatorPlugin` carrying the bytes; each worker unpickles it once in the
  plugin's ``setup`` (workers that join later get it too). Tasks read the worker's copy;
  no task carries the index, and workers never connect to the database.
- **No row is lost.** A bad row gets ``status`` ``failed`` and an ``error``; every input
  row gives one output row with its ``source`` file and ``row`` number (1-based, data
  rows of that file). A file that cannot be read at all stops the batch with an error
  naming it, before anything is written.
- **Scheduling is Dask's**: a ``LocalCluster`` of ``workers`` processes (one thread
  each) by default, or an existing scheduler by address (``dask-jobqueue``,
  ``dask-kubernetes``, ``dask scheduler`` ...).
"""

from __future__ import annotations

import os
import pickle
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from distributed import WorkerPlugin

from geogrid.errors import IngestError
from geogrid.ingest.csv_blocks import header_columns, read_range, record_ranges
from geogrid.workspace.batch import ANSWER_COLUMNS, INPUT_COLUMNS, locate_table, rows_from_table

if TYPE_CHECKING:
    import dask.dataframe as dd
    import pandas as pd
    from distributed import Client

    from geogrid.workspace.locate import Locator

__all__ = [
    "PLUGIN_NAME",
    "BatchRun",
    "LocatorPlugin",
    "expand_sources",
    "has_addresses",
    "locate_files",
    "output_meta",
    "start_client",
]

PLUGIN_NAME = "geogrid-locator"
DEFAULT_BLOCKSIZE = 16_000_000  # bytes of CSV per partition: ~200,000 rows


class LocatorPlugin(WorkerPlugin):
    """A Dask worker plugin that carries a pickled :class:`Locator` to each worker once.

    ``distributed`` calls :meth:`setup` on every worker (present and future) with the
    worker; the locator is unpickled there and kept on the plugin for the tasks.
    """

    name = PLUGIN_NAME

    def __init__(self, payload: bytes) -> None:
        self.payload = payload
        self.locator: Locator | None = None
        self.load_s = 0.0
        self.load_cpu_s = 0.0

    def setup(self, worker: Any) -> None:  # noqa: ARG002 (distributed's signature)
        """Unpickle the locator on ``worker`` (once)."""
        start, cpu = time.perf_counter(), time.process_time()
        self.locator = pickle.loads(self.payload)
        self.payload = b""  # keep one copy: the object, not the bytes
        self.load_s = time.perf_counter() - start
        self.load_cpu_s = time.process_time() - cpu

    def teardown(self, worker: Any) -> None:  # noqa: ARG002
        """Let the worker's copy go."""
        self.locator = None


def worker_locator() -> Locator:
    """Return the locator the plugin put on this worker."""
    from distributed import get_worker

    plugin = get_worker().plugins[PLUGIN_NAME]
    if not isinstance(plugin, LocatorPlugin) or plugin.locator is None:
        raise RuntimeError("the geogrid locator plugin is not set up on this worker")
    return plugin.locator


@dataclass(frozen=True)
class BatchRun:
    """What a batch did: files read, rows in and out, outcome counts and timings."""

    files: tuple[str, ...]
    rows_in: int
    rows_out: int
    outcomes: dict[str, int]
    out: str
    workers: int
    locator_bytes: int
    ship_s: float
    locate_s: float


def expand_sources(patterns: Sequence[str]) -> list[str]:
    """Return the files the patterns name (globs expanded by fsspec, so URLs work),
    sorted within each pattern; a pattern that names nothing is an :class:`IngestError`."""
    import fsspec

    files: list[str] = []
    for pattern in patterns:
        fs, _, paths = fsspec.get_fs_token_paths(pattern)
        found = sorted(p for p in paths if not fs.isdir(p))
        if not found:
            raise IngestError("no file matches", path=pattern)
        protocol = fs.protocol[0] if isinstance(fs.protocol, tuple) else fs.protocol
        files += [p if protocol in ("file", "local") else fs.unstrip_protocol(p) for p in found]
    for path in files:
        if _kind(path) is None:
            raise IngestError("is neither .csv nor .parquet", path=path)
    return files


def has_addresses(files: Sequence[str]) -> bool:
    """Return True when any file has an address column (only then is the gazetteer
    needed); reads only the files' headers or schemas. A file with neither an address
    nor lon and lat columns is an :class:`IngestError` naming it."""
    import pandas as pd

    aliases = set(INPUT_COLUMNS["address"])
    found = False
    for path in files:
        with _reading([path]):
            columns = _columns(path)
        rows_from_table(pd.DataFrame(columns=columns), "wgs84", source=path)
        found = found or bool(aliases & {c.lower() for c in columns})
    return found


def _kind(path: str) -> str | None:
    lowered = path.lower()
    if lowered.endswith((".csv", ".csv.gz", ".txt")):
        return "csv"
    if lowered.endswith((".parquet", ".pq")):
        return "parquet"
    return None


def output_meta() -> pd.DataFrame:
    """Return the empty frame with the output's columns and dtypes."""
    import pandas as pd

    columns: dict[str, str] = {"source": "string", "row": "int64"}
    columns |= dict.fromkeys(INPUT_COLUMNS, "string")
    columns |= {k: ("float64" if v == "float64" else "string") for k, v in ANSWER_COLUMNS.items()}
    return pd.DataFrame({k: pd.Series(dtype=v) for k, v in columns.items()})


def _read(path: str, blocksize: int) -> dd.DataFrame:
    """Read one file lazily: Parquet by its row groups, CSV by byte ranges of whole
    records (a quoted field may hold a line break: :mod:`geogrid.ingest.csv_blocks`)."""
    import dask.dataframe as dd
    import pandas as pd

    try:
        if _kind(path) == "csv":
            columns = header_columns(path)
            ranges = record_ranges(path, blocksize)
            meta = pd.DataFrame(columns=columns, dtype=object)
            return dd.from_map(read_range, ranges, args=(columns,), meta=meta, label="read-csv")
        return dd.read_parquet(path)
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise IngestError(f"cannot be read ({exc})", path=path) from exc


def _columns(path: str) -> list[str]:
    """Return the column names of one file, reading only its header or schema."""
    if _kind(path) == "csv":
        return header_columns(path)
    return [str(c) for c in _read(path, DEFAULT_BLOCKSIZE).columns]


def _locate_partition(
    part: pd.DataFrame, source: str, offsets: Sequence[int], default_crs: str, partition_info: Any
) -> pd.DataFrame:
    """Locate one partition on a worker, numbering its rows within its file."""
    number = partition_info["number"] if partition_info else 0
    return locate_table(
        worker_locator(),
        part,
        default_crs=default_crs,
        source=source,
        first_row=offsets[number] + 1,
    )


@contextmanager
def start_client(workers: int | None = None, scheduler: str | None = None) -> Iterator[Client]:
    """Connect to ``scheduler``, or start a local cluster of ``workers`` processes (one
    thread each; default: the machine's cores) and stop it afterwards."""
    from distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    with (
        LocalCluster(
            n_workers=workers or os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def locate_files(
    locator: Locator,
    sources: Sequence[str],
    out: str | Path,
    client: Client,
    *,
    default_crs: str = "wgs84",
    blocksize: int = DEFAULT_BLOCKSIZE,
) -> BatchRun:
    """Locate every row of ``sources`` on ``client``'s workers; write Parquet to ``out``.

    Parameters
    ----------
    locator
        Built by the caller (from the database); shipped to each worker once.
    sources
        File paths, globs or fsspec URLs (CSV or Parquet).
    out
        Output folder (or URL) for the Parquet dataset; replaced if it exists.
    client
        A ``distributed`` client (see :func:`start_client`).
    default_crs
        CRS of rows without a ``crs`` column.
    blocksize
        Bytes of CSV per partition.
    """
    import dask.dataframe as dd
    import pandas as pd

    files = expand_sources(sources)
    frames = [_read(path, blocksize) for path in files]
    for path, frame in zip(files, frames, strict=True):  # names the file before any work
        rows_from_table(pd.DataFrame(columns=list(frame.columns)), default_crs, source=path)
    with _reading(files):
        lengths = client.compute([f.map_partitions(len) for f in frames], sync=True)
    payload = pickle.dumps(locator, protocol=pickle.HIGHEST_PROTOCOL)
    start = time.perf_counter()
    client.register_plugin(LocatorPlugin(payload), name=PLUGIN_NAME)
    ship_s = time.perf_counter() - start
    located = []
    meta = output_meta()
    for path, frame, sizes in zip(files, frames, lengths, strict=True):
        offsets = [0]
        for size in sizes:
            offsets.append(offsets[-1] + int(size))
        located.append(
            frame.map_partitions(
                _locate_partition, path, offsets, default_crs, meta=meta, align_dataframes=False
            )
        )
    result = dd.concat(located) if len(located) > 1 else located[0]
    start = time.perf_counter()
    with _reading(files):
        result.to_parquet(str(out), write_index=False, overwrite=True)
    locate_s = time.perf_counter() - start
    written = dd.read_parquet(str(out), columns=["status", "match_level"])
    counts = client.compute(_outcomes(written), sync=True)
    rows_in = sum(int(s) for sizes in lengths for s in sizes)
    return BatchRun(
        files=tuple(files),
        rows_in=rows_in,
        rows_out=int(sum(v for k, v in counts.items() if k.startswith("status:"))),
        outcomes=counts,
        out=str(out),
        workers=len(client.scheduler_info(n_workers=-1)["workers"]),
        locator_bytes=len(payload),
        ship_s=ship_s,
        locate_s=locate_s,
    )


def _outcomes(frame: dd.DataFrame) -> Any:
    """A lazy count of rows by status and by address match level."""
    import dask

    def count(part: pd.DataFrame) -> dict[str, int]:
        found = {f"status:{k}": int(v) for k, v in part["status"].value_counts().items()}
        levels = part["match_level"].dropna().value_counts()
        return found | {f"level:{k}": int(v) for k, v in levels.items()}

    def merge(parts: list[dict[str, int]]) -> dict[str, int]:
        total: dict[str, int] = {}
        for part in parts:
            for key, value in part.items():
                total[key] = total.get(key, 0) + value
        return dict(sorted(total.items()))

    pieces = [dask.delayed(count)(p) for p in frame.to_delayed()]
    return dask.delayed(merge)(pieces)


@contextmanager
def _reading(files: Sequence[str]) -> Iterator[None]:
    """Turn a failure to read or parse an input file into an :class:`IngestError`."""
    import pandas as pd

    try:
        yield
    except IngestError:
        raise
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        where = ", ".join(files) if len(files) <= 3 else f"{len(files)} files"
        raise IngestError(f"cannot be read ({exc})", path=where) from exc
