"""``geogrid maps sheet`` (and its older name ``geogrid print``): printable grid sheets
(HTML, PNG, PDF) through headless Chromium.

``--children`` prints every child of a grid (a town's villages) through one browser:
one file per child, named by its code, in ``--out``; with ``--format pdf`` the children
are also bound into one multi-page PDF, ``<grid>-children.pdf``, one page per child in
code order (the file to send to the print shop).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import Progress

from geogrid.cli._app import app, console, errors_as_messages

if TYPE_CHECKING:
    from geogrid.maps.printing import Orientation

maps_app = typer.Typer(help="Maps and printed sheets.", no_args_is_help=True)
app.add_typer(maps_app, name="maps")

_BASEMAPS = ("offline", "tianditu", "amap")


def _run(
    grid: str,
    format: str,
    paper: str,
    orientation: str,
    out: Path,
    children: bool,
    basemap: str = "offline",
) -> None:
    from geogrid.workspace import Workspace
    from geogrid.workspace.sheets import child_codes, child_sheets, grid_sheet

    kind = format.lower()
    if kind not in ("html", "png", "pdf"):
        raise typer.BadParameter("--format must be html, png or pdf")
    if orientation not in ("portrait", "landscape"):
        raise typer.BadParameter("--orientation must be portrait or landscape")
    if basemap not in _BASEMAPS:
        raise typer.BadParameter(f"--basemap must be one of {', '.join(_BASEMAPS)}")
    page_orientation: Orientation = "portrait" if orientation == "portrait" else "landscape"
    workspace = Workspace.open()
    options = {
        "paper": paper.upper(),
        "orientation": page_orientation,
        "basemap": "plain" if basemap == "offline" else basemap,
    }
    if not children:
        pages = iter([(grid, grid_sheet(workspace, grid, **options))])
        total = 1
    else:
        codes = child_codes(workspace, grid)
        if not codes:
            raise typer.BadParameter(f"grid {grid} has no children", param_hint="--grid")
        pages = child_sheets(workspace, grid, children=codes, **options)
        total = len(codes)
    out.mkdir(parents=True, exist_ok=True)
    written = _write(pages, total, out, kind, paper.upper(), page_orientation, online=basemap)
    if children and kind == "pdf":
        bound = _bind(written, out / f"{grid}-children.pdf")
        console.print(f"{len(written)} sheet(s) in {out}/, all of them in {bound}")
    else:
        console.print(f"{len(written)} sheet(s) in {out}/")


@maps_app.command("sheet")
@errors_as_messages
def sheet(
    grid: Annotated[str, typer.Argument(help="Code of the grid to print.")],
    format: Annotated[str, typer.Option(help="html, png or pdf.")] = "pdf",
    paper: Annotated[str, typer.Option(help="A4 or A3.")] = "A4",
    orientation: Annotated[str, typer.Option(help="portrait or landscape.")] = "portrait",
    out: Annotated[Path, typer.Option(help="Folder to write the sheets to.")] = Path("sheets"),
    children: Annotated[
        bool,
        typer.Option(
            help="One sheet per child grid instead of the grid itself (PDF: also one "
            "multi-page <grid>-children.pdf)."
        ),
    ] = False,
    basemap: Annotated[
        str,
        typer.Option(
            help="offline (streets drawn from PostGIS), tianditu (needs "
            "GEOGRID_TIANDITU_KEY) or amap; the online ones need the network."
        ),
    ] = "offline",
) -> None:
    """Print the sheet of a grid, or of each of its children, for the wall and the field."""
    _run(grid, format, paper, orientation, out, children, basemap)


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
    """Print the sheet of a grid, or of each of its children (same as ``maps sheet``)."""
    _run(grid, format, paper, orientation, out, children)


def _write(
    pages: Iterable[tuple[str, str]],
    total: int,
    out: Path,
    kind: str,
    paper: str,
    orientation: Orientation,
    *,
    online: str = "offline",
) -> list[Path]:
    from geogrid.maps.printing import Printer

    written: list[Path] = []
    printer = Printer(offline=online == "offline") if kind != "html" else None
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


def _bind(pdfs: list[Path], out: Path) -> Path:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for pdf in pdfs:
        writer.append(str(pdf))
    with out.open("wb") as handle:
        writer.write(handle)
    return out
