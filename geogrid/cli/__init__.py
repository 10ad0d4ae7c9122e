"""The ``geogrid`` command line: database, loading, serving and the three answers."""

from __future__ import annotations

from geogrid.cli import addresses as _addresses  # noqa: F401 - registers commands
from geogrid.cli import coverage as _coverage  # noqa: F401
from geogrid.cli import db as _db  # noqa: F401
from geogrid.cli import events as _events  # noqa: F401
from geogrid.cli import grids as _grids  # noqa: F401
from geogrid.cli import load as _load  # noqa: F401
from geogrid.cli import locate as _locate  # noqa: F401
from geogrid.cli import maps as _maps  # noqa: F401
from geogrid.cli import serve as _serve  # noqa: F401
from geogrid.cli import transport as _transport  # noqa: F401
from geogrid.cli import users as _users  # noqa: F401
from geogrid.cli._app import app

__all__ = ["app"]
