"""Benchmark operators' address corrections: how long a correction takes to be answered.

Stores ``--count`` corrections one after another (alternately to a micro-grid and to a
standard address of the demo data), each timed from the call until it returns — by then
this process's locators answer with it — then locates each corrected text and an
ordinary address ``--repeat`` times, and removes the corrections again (timed too).
Prints medians and p99 in milliseconds, and the load average. Everything it stores it
removes; the audit entries stay, as for any correction.

Usage::

    GEOGRID_HOME=... .venv/bin/python benchmarks/address_corrections.py [--count 10] [--repeat 200]

Needs a database with the demo data (``geogrid load demo``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from geogrid.workspace import Workspace
from geogrid.workspace.corrections import add_correction, remove_correction
from geogrid.workspace.edits import Editor

EDITOR = Editor("benchmarks/address_corrections.py", "admin")


def ms(values: list[float]) -> str:
    """Median and p99 of seconds, as milliseconds."""
    return (
        f"median {statistics.median(values) * 1000:7.1f} ms   "
        f"p99 {float(np.percentile(values, 99)) * 1000:7.1f} ms   (n={len(values)})"
    )


def main() -> None:
    """Store, use and remove corrections; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    workspace = Workspace.open()
    grids = workspace.grids()
    micro = sorted(grids.loc[grids["level"] == "micro", "code"])
    gazetteer = workspace.addresses()
    ordinary = str(gazetteer["full_text"].iloc[len(gazetteer) // 2])
    codes = list(gazetteer["code"].iloc[:: max(1, len(gazetteer) // args.count)])
    workspace.locator()  # warm: the first build is not what is measured
    stored, added, removed, answered, plain = [], [], [], [], []
    try:
        for i in range(args.count):
            target = (
                {"grid_code": micro[i * 7 % len(micro)]}
                if i % 2 == 0
                else {"address_code": str(codes[i % len(codes)])}
            )
            started = time.perf_counter()
            correction = add_correction(
                workspace, f"基准测试{i}号老酒厂对面", editor=EDITOR, **target
            )
            added.append(time.perf_counter() - started)
            stored.append(correction)
            answer = workspace.locate_address(f"基准测试{i}号老酒厂")  # 对面: filler
            assert answer.address is not None
            assert answer.address.method == "correction"
        for _ in range(args.repeat):
            for correction in stored[:3]:
                started = time.perf_counter()
                workspace.locate_address(correction.text)
                answered.append(time.perf_counter() - started)
            started = time.perf_counter()
            workspace.locate_address(ordinary)
            plain.append(time.perf_counter() - started)
    finally:
        for correction in stored:
            started = time.perf_counter()
            remove_correction(workspace, correction.id, editor=EDITOR)
            removed.append(time.perf_counter() - started)
    print(f"store a correction until it answers   {ms(added)}")
    print(f"remove a correction until it is gone  {ms(removed)}")
    print(f"locate a corrected text               {ms(answered)}")
    print(f"locate an ordinary address            {ms(plain)}")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
