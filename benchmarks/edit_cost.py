"""What one grid edit costs the API process that takes it: CPU per border edit.

Usage::

    .venv/bin/python benchmarks/edit_cost.py [--edits 30] [--in-process] [--database-url URL]

On the demo county (``GEOGRID_HOME``'s embedded PostGIS unless ``--database-url`` or
``GEOGRID_DATABASE_URL`` names another), a workspace as an API worker holds it (the full
locator built, its helper process started, the garbage collector frozen, as after the
server's warm-up) takes ``--edits`` multi-feature edits that move the border between two
sibling micro-grids and back (the edit of ``benchmarks/api_load.py --scenario edits``,
:func:`geogrid.workspace.edits.replace_features`), each returning once this process
answers from the new indexes. Printed, median over the edits: this process's CPU per
edit (the helper's is not counted: it takes nothing from the requests), split into the
editing thread (the edit itself, or waiting for the helper to make it) and the rest (the
index loaded or updated, the locator and the matcher rebuilt in the background), and the
wall time. Every such millisecond is taken from the requests a worker answers meanwhile
(the GIL): what ``--scenario edits`` measures as latency. ``--in-process`` makes the
edits and the index update in this process, as without ``GEOGRID_HELPER_PROCESS``. The
grids are restored at the end.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.api_load import border_move  # noqa: E402
from geogrid.settings import Settings  # noqa: E402
from geogrid.workspace import Workspace  # noqa: E402
from geogrid.workspace.edits import BatchFeature, Editor, replace_features  # noqa: E402


def main() -> None:
    """Time ``--edits`` border edits; print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=30)
    parser.add_argument("--database-url", default=None)
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="update the grid index in this process (not in a helper, as API servers do)",
    )
    args = parser.parse_args()
    url = args.database_url or os.environ.get("GEOGRID_DATABASE_URL") or None
    workspace = Workspace.open(Settings(database_url=url))
    workspace.warm_up()
    if not args.in_process:
        workspace.start_helper_process()
    gc.freeze()
    grids = workspace.grids()
    code = str(grids.loc[grids["level"] == "micro", "code"].sort_values().iloc[0])
    pair, moved = border_move(grids, code)
    first = tuple(feature["geometry"] for feature in pair)
    editor = Editor("benchmarks/edit_cost.py", "planner")

    def edit(shapes: tuple[dict, ...]) -> None:
        features = [
            BatchFeature(str(f["id"]), "*", shape, f["properties"])
            for f, shape in zip(pair, shapes, strict=True)
        ]
        replace_features(workspace, "grids", features, crs="wgs84", editor=editor)

    process, thread, wall = [], [], []
    try:
        for k in range(args.edits):
            c0, t0, w0 = time.process_time(), time.thread_time(), time.perf_counter()
            edit(moved if k % 2 == 0 else first)
            process.append(time.process_time() - c0)
            thread.append(time.thread_time() - t0)
            wall.append(time.perf_counter() - w0)
    finally:
        edit(first)
        workspace.stop_helper_process()

    def ms(values: list[float]) -> str:
        return f"{statistics.median(values) * 1000:7.1f}"

    rest = [p - t for p, t in zip(process, thread, strict=True)]
    print(
        f"editing {pair[0]['id']} | {pair[1]['id']}, {args.edits} edits; "
        f"load average {', '.join(f'{v:.2f}' for v in os.getloadavg())}"
    )
    print(f"CPU per edit, ms (median): {ms(process)}")
    print(f"  the editing thread:      {ms(thread)}")
    print(f"  the rest (indexes):      {ms(rest)}")
    print(f"wall per edit, ms:         {ms(wall)}")


if __name__ == "__main__":
    main()
