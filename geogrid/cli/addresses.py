"""``geogrid addresses correct | list | remove``: operators' corrections of address texts.

A correction says that an address text means a grid (``--grid``: a town, village or
micro-grid) or a standard address (``--address``); ``geogrid locate --address`` and the
API's ``/locate?address=`` answer the text (in any spelling that normalises the same)
with that place at once in this process, in running servers within
``GEOGRID_CACHE_CHECK_INTERVAL_S``. Every correction and removal is audited under the
name ``cli:<user>``.
"""

from __future__ import annotations

import getpass
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from geogrid.cli._app import app, console, errors_as_messages

addresses_app = typer.Typer(
    help="Operators' corrections of address texts (aliases the matcher answers first).",
    no_args_is_help=True,
)
app.add_typer(addresses_app, name="addresses")


def _editor_name() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name for this uid (a container)
        return "cli"


@addresses_app.command("correct")
@errors_as_messages
def correct(
    text: Annotated[str, typer.Argument(help="The address text as people type it.")],
    grid: Annotated[
        str | None, typer.Option(help="The grid it means: a town, village or micro-grid code.")
    ] = None,
    address: Annotated[
        str | None, typer.Option(help="The standard address it means (its code).")
    ] = None,
) -> None:
    """Store that TEXT means a grid or a standard address (audited)."""
    from geogrid.workspace import Workspace
    from geogrid.workspace.corrections import add_correction
    from geogrid.workspace.edits import Editor

    stored = add_correction(
        Workspace.open(),
        text,
        grid_code=grid,
        address_code=address,
        editor=Editor(_editor_name(), None),
    )
    target = f"grid {stored.grid_code}" if stored.grid_code else f"address {stored.address_code}"
    console.print(
        f"correction #{stored.id}: {escape(stored.normalized)} → {target}", highlight=False
    )


@addresses_app.command("list")
@errors_as_messages
def list_() -> None:
    """List the corrections, oldest first."""
    from geogrid.workspace import Workspace
    from geogrid.workspace.corrections import list_corrections

    rows = list_corrections(Workspace.open())
    if not rows:
        console.print("no corrections yet: geogrid addresses correct TEXT --grid CODE")
        return
    table = Table()
    for column in ("id", "text", "grid", "address", "by", "created"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row.id),
            escape(row.text),
            row.grid_code or "",
            row.address_code or "",
            escape(row.created_by),
            f"{row.created_at:%Y-%m-%d %H:%M}",
        )
    console.print(table)


@addresses_app.command("remove")
@errors_as_messages
def remove(
    correction_id: Annotated[int, typer.Argument(help="The correction's id (see list).")],
) -> None:
    """Remove a correction (audited); the text is matched by the gazetteer again."""
    from geogrid.workspace import Workspace
    from geogrid.workspace.corrections import remove_correction
    from geogrid.workspace.edits import Editor

    removed = remove_correction(
        Workspace.open(), correction_id, editor=Editor(_editor_name(), None)
    )
    console.print(f"removed correction #{removed.id}", highlight=False)
