"""The examples in the coverage package's docstrings run and say what they show."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import geogrid.spatial.coverage as coverage

MODULES = [coverage.__name__] + [
    f"{coverage.__name__}.{m.name}" for m in pkgutil.iter_modules(coverage.__path__)
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
