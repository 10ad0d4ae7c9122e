"""Every example in geogrid's docstrings runs and shows what it says.

Examples are documentation a reader copies; this keeps them true. Migrations are left
out: importing one outside Alembic does nothing useful.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import geogrid

MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(geogrid.__path__, f"{geogrid.__name__}.")
    if ".migrations" not in m.name
)


def test_examples_are_found() -> None:
    """The walk reaches every corner of the package, and most examples with it."""
    for part in (
        "api",
        "cli",
        "db",
        "maps",
        "spatial.coverage",
        "spatial.roads",
        "spatial.transport",
        "crs",
    ):
        assert any(name.startswith(f"geogrid.{part}") for name in MODULES), part
    finder = doctest.DocTestFinder()
    examples = sum(
        len(test.examples)
        for name in MODULES
        for test in finder.find(importlib.import_module(name))
    )
    assert examples >= 200


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(
        importlib.import_module(name), optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    )
    assert result.failed == 0
