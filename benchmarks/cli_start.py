"""How long the ``geogrid`` command takes to start, against ``python -c pass``.

Every command runs in a new interpreter (as the ``geogrid`` script runs it, on this
checkout), ``--repeats`` times, in rounds that take each command in turn so a change of
machine load hits all of them alike. Prints the first run, the median and the ratio of
each median to the baseline's, the median CPU time (user + system: a busy machine
inflates it less than wall time), and the targets of issue 11 (``--help`` < 0.5 s,
``db status`` < 1 s). Usage::

    .venv/bin/python benchmarks/cli_start.py [--repeats 15] [--compare OTHER_CHECKOUT]
    .venv/bin/python benchmarks/cli_start.py --locate   # + a real locate, configured database
    .venv/bin/python benchmarks/cli_start.py --demo     # + locate on a throw-away demo cluster

``--demo`` starts its own PostGIS, loads the demo county (a minute or two), and times
``geogrid locate`` for a point and for an address there. ``--compare`` runs every geogrid
command of another checkout too, in the same rounds (e.g. ``git archive`` of an older
commit unpacked in /tmp): before and after under the same load.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from geogrid.db.cluster import EmbeddedCluster

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = "import sys; from geogrid.cli import app; sys.argv[0] = 'geogrid'; sys.exit(app())"
TARGETS = {"geogrid --help": 0.5, "geogrid db status": 1.0}
POINT = ("--lon", "120.63", "--lat", "27.59")  # in the demo county
ADDRESS = "平阳县鳌江镇"


def geogrid(*args: str) -> list[str]:
    """Return the command line that runs ``geogrid ARGS`` on this checkout."""
    return [sys.executable, "-c", SCRIPT, *args]


def child_cpu_s() -> float:
    """Return the CPU seconds (user + system) of the finished child processes so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(
    command: list[str], env: dict[str, str]
) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    result = subprocess.run(  # in the checkout's folder: `python -c` imports from there first
        command, capture_output=True, text=True, env=env, cwd=env["PYTHONPATH"], check=False
    )
    return time.perf_counter() - start, result


def measure(
    commands: dict[str, tuple[list[str], dict[str, str]]], repeats: int
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Run each command ``repeats`` times, round by round; return the wall times and the
    CPU times (user + system, which a loaded machine inflates less than wall time)."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeats):
        for name, (command, env) in commands.items():
            before = child_cpu_s()
            seconds, result = timed(command, env)
            if result.returncode != 0:
                raise SystemExit(f"{name} failed ({result.returncode}):\n{result.stderr}")
            times[name].append(seconds)
            cpu[name].append(child_cpu_s() - before)
    return times, cpu


def report(times: dict[str, list[float]], cpu: dict[str, list[float]], baseline: str) -> None:
    base = statistics.median(times[baseline])
    print(
        f"{'command':<54} {'first s':>8} {'median s':>9} {'× pass':>7} {'cpu s':>7} {'target':>10}"
    )
    for name, runs in times.items():
        median = statistics.median(runs)
        target = TARGETS.get(name)
        verdict = "" if target is None else f"< {target:g} {'ok' if median < target else 'MISS'}"
        print(
            f"{name:<54} {runs[0]:>8.3f} {median:>9.3f} {median / base:>7.1f} "
            f"{statistics.median(cpu[name]):>7.3f} {verdict:>10}"
        )


def demo_environment(home: Path) -> tuple[dict[str, str], EmbeddedCluster]:
    """Start a throw-away cluster with the demo data; return the CLI's environment."""
    cluster = EmbeddedCluster(home / "postgres", port=55435, fast=True)
    cluster.start()
    env = {**os.environ, "GEOGRID_HOME": str(home), "GEOGRID_PG_PORT": "55435"}
    env.pop("GEOGRID_DATABASE_URL", None)
    env["PYTHONPATH"] = str(ROOT)
    print("loading the demo data into a throw-away cluster…", flush=True)
    for args in (("db", "up"), ("load", "demo")):
        seconds, result = timed(geogrid(*args), env)
        if result.returncode != 0:
            cluster.stop()
            raise SystemExit(f"geogrid {' '.join(args)} failed:\n{result.stderr}")
        print(f"  geogrid {' '.join(args)}: {seconds:.1f} s", flush=True)
    return env, cluster


def main() -> None:
    """Print start-up times of the geogrid command."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument(
        "--locate", action="store_true", help="also time a real locate (configured database)"
    )
    parser.add_argument(
        "--demo", action="store_true", help="also time locate on a throw-away demo cluster"
    )
    parser.add_argument(
        "--compare", type=Path, help="another geogrid checkout to time in the same rounds"
    )
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="geogrid-cli-bench-"))
    home.chmod(0o755)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if not args.locate:  # the status and URL of a cluster folder of our own
        env = {**env, "GEOGRID_HOME": str(home)}
        env.pop("GEOGRID_DATABASE_URL", None)
    cluster: EmbeddedCluster | None = None
    try:
        if args.demo:
            env, cluster = demo_environment(home)
        programs = {
            "python -c 'import geogrid.cli'": [sys.executable, "-c", "import geogrid.cli"],
            "geogrid --help": geogrid("--help"),
            "geogrid db status": geogrid("db", "status"),
            "geogrid db url": geogrid("db", "url"),
            "geogrid db url --libpq": geogrid("db", "url", "--libpq"),
            "geogrid locate --help": geogrid("locate", "--help"),
        }
        if args.locate or args.demo:
            programs["geogrid locate --lon 120.63 --lat 27.59"] = geogrid("locate", *POINT)
            programs[f"geogrid locate {ADDRESS}"] = geogrid("locate", ADDRESS)
        commands = {"python -c pass": ([sys.executable, "-c", "pass"], env)}
        for name, command in programs.items():
            commands[name] = (command, env)
            if args.compare is not None and "--libpq" not in command:
                other = {**env, "PYTHONPATH": str(args.compare.resolve())}
                commands[f"{name} [compare]"] = (command, other)
        load = os.getloadavg()
        print(
            f"{args.repeats} runs each, {os.cpu_count()} CPUs, load average before "
            f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; Python {sys.version.split()[0]}",
            flush=True,
        )
        times, cpu = measure(commands, args.repeats)
        report(times, cpu, "python -c pass")
        load = os.getloadavg()
        print(f"load average after {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
