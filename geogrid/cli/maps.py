"""``geogrid print``: printable grid sheets (HTML, PNG, PDF) through headless Chromium."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.progress import Progress

from geogrid.cli._app import app, console, errors_as_messages

if TYPE_CHECKING:
    from geogrid.maps.printing import Orientation

Format = Literal["html", "png", "pdf"]


@app.command("print")
@errors_as_messages
def print_sheets(
    grid: Annotated[str, typer.Option(help="Code of the grid to print.")],
    format: Annotated[str, typer.Option(help="html, png or pdf.")] = "pdf",
    paper: Annotated[str, typer.Option(help="A4 or A3.")] = "A4",
    orientation: Annotated[str, typer.Option(help="portrait or landscape.")] = "portrait",
    out: Annotated[Path, typer.Option(help="Folder to write the sheets to.")] = Path("sheets"),
    children: Annotated[
        bool, typer.Option(help="One sheet per child grid instead of the grid itself.")
    ] = False,
) -> None:
    """Print the sheet of a grid, or of each of its children, for the wall and the field."""
    from geogrid.workspace import Workspace
    from geogrid.workspace.sheets import child_sheets, grid_sheet

    kind = format.lower()
    if kind not in ("html", "png", "pdf"):
        raise typer.BadParameter("--format must be html, png or pdf")
    if orientation not in ("portrait", "landscape"):
        raise typer.BadParameter("--orientation must be portrait or landscape")
    page_orientation: Orientation = "portrait" if orientation == "portrait" else "landscape"
    workspace = Workspace.open()
    out.mkdir(parents=True, exist_ok=True)
    options = {"paper": paper.upper(), "orientation": page_orientation}
    if not children:
        pages = iter([(grid, grid_sheet(workspace, grid, **options))])
        total = 1
    else:
        pages = child_sheets(workspace, grid, **options)
        total = int((workspace.grids()["parent_code"] == grid).sum())
    written = _write(pages, total, out, kind, paper.upper(), page_orientation)
    console.print(f"{len(written)} sheet(s) in {out}/")


def _write(
    pages: Iterable[tuple[str, str]],
    total: int,
    out: Path,
    kind: str,
    paper: str,
    orientation: Orientation,
) -> list[Path]:
    from geogrid.maps.printing import Printer

    written: list[Path] = []
    printer = Printer() if kind != "html" else None
    try:
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("printing", total=total)
            for code, html in pages:
                path = out / f"{code}.{kind}"
                if printer is None:
                    path.write_text(html, encoding="utf-8")
                else:
                    printer.print(html, path, paper=paper, orientation=orientation)
                written.append(path)
                progress.advance(task)
    finally:
        if printer is not None:
            printer.close()
    return written
