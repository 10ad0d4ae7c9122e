"""A quick CLI: the help and the database commands load none of the heavy libraries.

Each command runs in a fresh interpreter, as the ``geogrid`` script runs it, and reports
what ``sys.modules`` holds afterwards. No timing is asserted here
(``benchmarks/cli_start.py`` measures the seconds); the modules are what costs them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.core import TyperGroup

from geogrid.cli import app

ROOT = Path(__file__).resolve().parents[2]
HEAVY = (
    "alembic",
    "fastapi",
    "folium",
    "geoalchemy2",
    "geopandas",
    "numpy",
    "pandas",
    "psycopg",
    "pyproj",
    "scipy",
    "shapely",
    "sqlalchemy",
    "uvicorn",
)
MARK = "--- modules ---"
PROBE = f"""
import json, sys
from geogrid.cli import app
try:
    app(sys.argv[1:], prog_name="geogrid")
except SystemExit as exc:
    status = exc.code or 0
else:
    status = 0
print({MARK!r})
print(json.dumps({{"status": status, "modules": sorted(sys.modules)}}))
"""


def run_cli(*args: str, env: dict[str, str] | None = None) -> tuple[str, int, set[str]]:
    """Run ``geogrid ARGS`` in a new interpreter; return its output, status and the
    modules it imported."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GEOGRID_")}
    environment.update(env or {})
    environment["PYTHONPATH"] = str(ROOT)
    environment["COLUMNS"] = "200"
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=ROOT,
        check=False,
        timeout=120,
    )
    output, mark, report = result.stdout.partition(MARK)
    assert mark, result.stdout + result.stderr
    probe = json.loads(report)
    return output + result.stderr, probe["status"], set(probe["modules"])


def heavy_loaded(modules: set[str]) -> list[str]:
    """Return the heavy packages among ``modules``."""
    return sorted({m.split(".")[0] for m in modules} & set(HEAVY))


def test_help_lists_every_command_and_loads_nothing_heavy() -> None:
    root = typer.main.get_command(app)
    assert isinstance(root, TyperGroup)
    output, status, modules = run_cli("--help")
    assert status == 0
    assert not heavy_loaded(modules), heavy_loaded(modules)
    names = root.commands
    assert {"db", "gaps", "load", "locate", "print", "serve", "transport", "users"} <= set(names)
    for name in names:
        assert re.search(rf"\b{re.escape(name)}\b", output), (name, output)


@pytest.mark.parametrize("group", ["addresses", "db", "grids", "users"])
def test_group_help_lists_every_subcommand(group: str) -> None:
    root = typer.main.get_command(app)
    assert isinstance(root, TyperGroup)
    sub = root.commands[group]
    assert isinstance(sub, TyperGroup)
    output, status, modules = run_cli(group, "--help")
    assert status == 0
    assert not heavy_loaded(modules), heavy_loaded(modules)
    for name in sub.commands:
        assert re.search(rf"\b{re.escape(name)}\b", output), (name, output)


@pytest.mark.parametrize(
    "args",
    [
        ("gaps", "--help"),
        ("load", "--help"),
        ("locate", "--help"),
        ("print", "--help"),
        ("serve", "--help"),
        ("transport", "--help"),
        ("grids", "check", "--help"),
        ("db", "url", "--help"),
        ("addresses", "correct", "--help"),
    ],
)
def test_command_help_loads_nothing_heavy(args: tuple[str, ...]) -> None:
    output, status, modules = run_cli(*args)
    assert status == 0, output
    assert "Usage" in output
    assert not heavy_loaded(modules), heavy_loaded(modules)


def test_db_status_and_url_load_nothing_heavy(tmp_path: Path) -> None:
    home = {"GEOGRID_HOME": str(tmp_path)}
    output, status, modules = run_cli("db", "status", env=home)
    assert status == 0, output
    assert f"no cluster yet in {tmp_path / 'postgres'}" in output
    assert not heavy_loaded(modules), heavy_loaded(modules)
    socket_dir = tmp_path / "postgres" / "run"
    for args, scheme in (
        (("db", "url"), "postgresql+psycopg"),
        (("db", "url", "--libpq"), "postgresql"),
    ):
        output, status, modules = run_cli(*args, env=home)
        assert status == 0, output
        assert output.strip() == f"{scheme}://postgres@/geogrid?host={socket_dir}&port=54329"
        assert not heavy_loaded(modules), heavy_loaded(modules)


def test_db_status_of_an_external_database_hides_its_password(tmp_path: Path) -> None:
    env = {"GEOGRID_HOME": str(tmp_path), "GEOGRID_DATABASE_URL": "postgresql://gg:hunter2@db/g"}
    output, status, modules = run_cli("db", "status", env=env)
    assert status == 0, output
    assert output.strip() == "external database: postgresql+psycopg://gg:***@db/g"
    assert not heavy_loaded(modules), heavy_loaded(modules)


def test_a_url_of_another_database_is_one_clear_line(tmp_path: Path) -> None:
    env = {"GEOGRID_HOME": str(tmp_path), "GEOGRID_DATABASE_URL": "mysql://gg:hunter2@db/g"}
    output, status, _ = run_cli("db", "url", "--libpq", env=env)
    assert status == 1
    assert output.strip() == (
        "error: not a PostgreSQL URL: mysql://gg:***@db/g "
        "(expected postgresql://user:password@host/database)"
    )
