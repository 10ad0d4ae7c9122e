"""``geogrid users add | list | revoke``: the API keys callers send as
``Authorization: Bearer <key>``.

A key is printed once, when it is made; geogrid keeps only a hash of its secret. The key
goes alone to standard output (``KEY=$(geogrid users add ...)`` works), the notes to
standard error.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from geogrid.access import Role
from geogrid.cli._app import app, console, errors_as_messages, stderr

users_app = typer.Typer(help="Manage the API keys (who may do what).", no_args_is_help=True)
app.add_typer(users_app, name="users")

ROLES = ", ".join(role.value for role in Role)


@users_app.command("add")
@errors_as_messages
def add(
    name: Annotated[str, typer.Argument(help="Who holds the key (a person or a system).")],
    role: Annotated[str, typer.Option(help=f"One of: {ROLES}.")],
    grid: Annotated[
        str | None, typer.Option(help="A grid_worker's grid code: their jurisdiction.")
    ] = None,
) -> None:
    """Create an API key and print it (once: it cannot be shown again)."""
    from geogrid.workspace import Workspace
    from geogrid.workspace.credentials import issue_key

    issued = issue_key(Workspace.open(), name, role, grid)
    row = issued.credential
    where = f" for grid {row.grid_code}" if row.grid_code else ""
    stderr.print(
        f"created key {row.key_id} for {escape(row.name)}: role {row.role}{where}",
        highlight=False,
    )
    print(issued.key, flush=True)
    stderr.print(
        "This is the only time the key is shown: store it now. Send it as "
        "'Authorization: Bearer <key>'.",
        highlight=False,
    )


@users_app.command("list")
@errors_as_messages
def list_() -> None:
    """List the API keys (never their secrets), revoked ones included."""
    from geogrid.workspace import Workspace
    from geogrid.workspace.credentials import list_keys

    rows = list_keys(Workspace.open())
    if not rows:
        console.print("no API keys yet: geogrid users add NAME --role ROLE")
        return
    table = Table()
    for column in ("key id", "name", "role", "grid", "created", "revoked"):
        table.add_column(column, no_wrap=True)
    for row in rows:
        table.add_row(
            row.key_id,
            escape(row.name),
            row.role,
            row.grid_code or "",
            f"{row.created_at:%Y-%m-%d %H:%M}",
            f"{row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "",
        )
    console.print(table)


@users_app.command("revoke")
@errors_as_messages
def revoke(
    key: Annotated[str, typer.Argument(help="The key id, or the name of an active key.")],
) -> None:
    """Revoke an API key; the API refuses it within GEOGRID_CACHE_CHECK_INTERVAL_S."""
    from geogrid.workspace import Workspace
    from geogrid.workspace.credentials import revoke_key

    row = revoke_key(Workspace.open(), key)
    console.print(f"revoked key {row.key_id} ({escape(row.name)}, {row.role})", highlight=False)
