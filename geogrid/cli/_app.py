"""The Typer application and the one place CLI errors are printed."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from geogrid.errors import GeoGridError

__all__ = ["app", "console", "db_app", "errors_as_messages", "stderr"]

app = typer.Typer(
    name="geogrid",
    help="Spatial grid service: which grid owns an address, checkpoint gaps, transfers.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Run and inspect geogrid's database.", no_args_is_help=True)
app.add_typer(db_app, name="db")

console = Console()
stderr = Console(stderr=True)
for _output in (console, stderr):
    if not _output.is_terminal:  # piped or captured: do not cut tables at 80 columns
        _output.width = 160

P = ParamSpec("P")
R = TypeVar("R")


def errors_as_messages(func: Callable[P, R]) -> Callable[P, R]:
    """Print geogrid's own errors as one clear line and exit with status 1."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except GeoGridError as exc:
            stderr.print(
                f"[bold red]error:[/] {escape(exc.message)}", highlight=False, soft_wrap=True
            )
            raise typer.Exit(1) from exc

    return wrapper
