"""Print map pages to PNG and PDF with headless Chromium.

Two ways, measured by ``benchmarks/print.py``:

:class:`Printer` (the default)
    One long-lived Chromium under chromedriver; each page is opened, waited for
    (``window.geogridReady``: the map has drawn and its tiles have loaded), and printed
    through the DevTools protocol. A batch of sheets pays the browser start once.
:func:`print_html_process`
    One ``chromium --headless --print-to-pdf/--screenshot`` process per page, waiting a
    fixed virtual-time budget instead of the map's flag. Needs no selenium.

Pages are opened with ``#print`` in the URL, which geogrid's sheets read to hide the
interactive controls (zoom, layers, fullscreen, measure); a PDF is printed with the
page's own ``@page`` size when it has one, else the paper asked for.
"""

from __future__ import annotations

import base64
import subprocess
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from geogrid.errors import BrowserError, MapError
from geogrid.maps.browser import _page_file, chromium_flags, find_chromium, load_page, start_browser

__all__ = [
    "PAPER_SIZES_MM",
    "Printer",
    "paper_size_mm",
    "paper_size_px",
    "print_html",
    "print_html_process",
]

PAPER_SIZES_MM: dict[str, tuple[float, float]] = {"A4": (210.0, 297.0), "A3": (297.0, 420.0)}
"""Paper sizes, portrait, in millimetres."""

Format = Literal["png", "pdf"]
Orientation = Literal["portrait", "landscape"]
_CSS_PX_PER_MM = 96 / 25.4


def paper_size_mm(paper: str = "A4", orientation: str = "portrait") -> tuple[float, float]:
    """Return (width, height) of a paper in millimetres.

    Examples
    --------
    >>> paper_size_mm("A3", "landscape")
    (420.0, 297.0)
    """
    size = PAPER_SIZES_MM.get(str(paper).upper())
    if size is None:
        raise MapError(f"paper must be one of {', '.join(PAPER_SIZES_MM)}, not {paper!r}")
    if orientation not in ("portrait", "landscape"):
        raise MapError(f"orientation must be portrait or landscape, not {orientation!r}")
    return size if orientation == "portrait" else (size[1], size[0])


def paper_size_px(paper: str = "A4", orientation: str = "portrait") -> tuple[int, int]:
    """Return (width, height) of a paper in CSS pixels (96 per inch).

    Examples
    --------
    >>> paper_size_px("A4")
    (794, 1123)
    """
    width, height = paper_size_mm(paper, orientation)
    return round(width * _CSS_PX_PER_MM), round(height * _CSS_PX_PER_MM)


def _format_of(out_path: Path, format: str | None) -> Format:
    chosen = (format or out_path.suffix.lstrip(".")).lower()
    if chosen not in ("png", "pdf"):
        raise MapError(f"format must be png or pdf, not {chosen!r}")
    return chosen  # type: ignore[return-value]


class Printer:
    """A headless Chromium kept open to print many pages.

    Parameters
    ----------
    offline
        Make every host name except localhost unresolvable (see
        :func:`geogrid.maps.browser.chromium_flags`).
    timeout_s
        Longest wait for one page to draw.
    driver
        An existing selenium driver to use (not quit by :meth:`close`).

    Examples
    --------
    >>> with Printer() as printer:  # doctest: +SKIP
    ...     for i, page in enumerate(pages):
    ...         printer.print(page, f"sheet-{i}.pdf", paper="A4")
    """

    def __init__(self, *, offline: bool = True, timeout_s: float = 30.0, driver: Any = None):
        self._own = driver is None
        self.driver = driver if driver is not None else start_browser(offline=offline)
        self.timeout_s = timeout_s
        self._viewport: tuple[int, int, float] | None = None

    def __enter__(self) -> Printer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Quit the browser if this printer started it."""
        if self._own and self.driver is not None:
            self.driver.quit()
        self.driver = None

    def _set_viewport(self, width: int, height: int, scale: float) -> None:
        if self._viewport != (width, height, scale):
            self.driver.execute_cdp_cmd(
                "Emulation.setDeviceMetricsOverride",
                {"width": width, "height": height, "deviceScaleFactor": scale, "mobile": False},
            )
            self._viewport = (width, height, scale)

    def render(
        self,
        page: str | Path,
        *,
        format: Format = "pdf",
        paper: str = "A4",
        orientation: Orientation = "portrait",
        scale: float = 1.5,
    ) -> bytes:
        """Open a page and return it printed, as PNG or PDF bytes.

        Parameters
        ----------
        page
            HTML text or the path of an HTML file.
        format
            ``"png"`` (a screenshot of one paper-sized viewport) or ``"pdf"``.
        paper, orientation
            Paper size; the page's own ``@page`` size wins for PDF.
        scale
            PNG pixels per CSS pixel (1.5 gives 144 dpi).

        Returns
        -------
        bytes
        """
        if self.driver is None:
            raise BrowserError("this printer is closed")
        width_px, height_px = paper_size_px(paper, orientation)
        self._set_viewport(width_px, height_px, scale if format == "png" else 1.0)
        with _page_file(page) as path:
            load_page(self.driver, path, timeout_s=self.timeout_s, fragment="#print")
        if format == "png":
            shot = self.driver.execute_cdp_cmd(
                "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": False}
            )
            return base64.b64decode(shot["data"])
        width_mm, height_mm = paper_size_mm(paper, orientation)
        pdf = self.driver.execute_cdp_cmd(
            "Page.printToPDF",
            {
                "printBackground": True,
                "preferCSSPageSize": True,
                "paperWidth": width_mm / 25.4,
                "paperHeight": height_mm / 25.4,
                "marginTop": 0,
                "marginBottom": 0,
                "marginLeft": 0,
                "marginRight": 0,
                "displayHeaderFooter": False,
            },
        )
        return base64.b64decode(pdf["data"])

    def print(
        self,
        page: str | Path,
        out_path: str | Path,
        *,
        format: Format | None = None,
        paper: str = "A4",
        orientation: Orientation = "portrait",
        scale: float = 1.5,
    ) -> Path:
        """Print a page to a PNG or PDF file; the format defaults to the file's suffix."""
        out = Path(out_path)
        data = self.render(
            page,
            format=_format_of(out, format),
            paper=paper,
            orientation=orientation,
            scale=scale,
        )
        out.write_bytes(data)
        return out

    def print_many(
        self,
        pages: Iterable[str | Path],
        out_path: str | Path,
        *,
        paper: str = "A4",
        orientation: Orientation = "portrait",
        progress: Any = None,
    ) -> Path:
        """Print many pages into one PDF, one page per input page (a sheet is one page).

        Parameters
        ----------
        pages
            HTML texts or paths.
        out_path
            The PDF to write.
        paper, orientation
            Paper size (the pages' own ``@page`` size wins).
        progress
            Called with the number of pages done after each one, if given.

        Returns
        -------
        pathlib.Path
        """
        from io import BytesIO

        from pypdf import PdfWriter

        writer = PdfWriter()
        for done, page in enumerate(pages, start=1):
            data = self.render(page, format="pdf", paper=paper, orientation=orientation)
            writer.append(BytesIO(data))
            if progress is not None:
                progress(done)
        out = Path(out_path)
        with out.open("wb") as handle:
            writer.write(handle)
        return out


def print_html(
    page: str | Path,
    out_path: str | Path,
    *,
    format: Format | None = None,
    paper: str = "A4",
    orientation: Orientation = "portrait",
    scale: float = 1.5,
    printer: Printer | None = None,
    offline: bool = True,
) -> Path:
    """Print a map page or sheet to PNG or PDF through headless Chromium.

    Parameters
    ----------
    page
        HTML text or the path of an HTML file.
    out_path
        The file to write.
    format
        ``"png"`` or ``"pdf"``; defaults to ``out_path``'s suffix.
    paper, orientation
        ``"A4"`` or ``"A3"``, ``"portrait"`` or ``"landscape"``.
    scale
        PNG pixels per CSS pixel.
    printer
        A :class:`Printer` to reuse (for batches); a new browser is started and quit when
        None.
    offline
        For a new browser: resolve no host but localhost. Pass False to print a page with
        an online base map (OSM, Tianditu, Amap) on a machine that has the network.

    Returns
    -------
    pathlib.Path
        ``out_path``.

    Raises
    ------
    BrowserError
        If Chromium is missing or the page does not draw in time.
    """
    if printer is not None:
        return printer.print(
            page, out_path, format=format, paper=paper, orientation=orientation, scale=scale
        )
    with Printer(offline=offline) as own:
        return own.print(
            page, out_path, format=format, paper=paper, orientation=orientation, scale=scale
        )


def print_html_process(
    page: str | Path,
    out_path: str | Path,
    *,
    format: Format | None = None,
    paper: str = "A4",
    orientation: Orientation = "portrait",
    scale: float = 1.5,
    budget_ms: int = 3000,
    timeout_s: float = 60.0,
    offline: bool = True,
) -> Path:
    """Print a page with one ``chromium --headless`` process, no selenium.

    The map's ready flag cannot be read this way: Chromium waits ``budget_ms`` of virtual
    time instead, enough for a page with inlined assets and no tiles.

    Parameters
    ----------
    page, out_path, format, paper, orientation, scale
        As for :func:`print_html`.
    budget_ms
        Chromium's ``--virtual-time-budget``.
    timeout_s
        Wall-clock limit for the process.
    offline
        Resolve no host but localhost (see :func:`print_html`).

    Returns
    -------
    pathlib.Path
    """
    out = Path(out_path).resolve()
    chosen = _format_of(out, format)
    browser, _ = find_chromium()
    width_px, height_px = paper_size_px(paper, orientation)
    with (
        tempfile.TemporaryDirectory(prefix="geogrid-chromium-") as profile,
        _page_file(page) as path,
    ):
        flags = chromium_flags(profile, offline=offline)
        command = [browser, *flags, f"--virtual-time-budget={budget_ms}"]
        if chosen == "pdf":
            command += [f"--print-to-pdf={out}", "--no-pdf-header-footer"]
        else:
            command += [
                f"--screenshot={out}",
                f"--window-size={width_px},{height_px}",
                f"--force-device-scale-factor={scale}",
            ]
        command.append(path.as_uri() + "#print")
        started = time.monotonic()
        try:
            result = subprocess.run(
                command, capture_output=True, text=True, timeout=timeout_s, check=False
            )
        except subprocess.TimeoutExpired:
            raise BrowserError(f"chromium did not print {path.name} within {timeout_s} s") from None
        if result.returncode != 0 or not out.exists():
            tail = (result.stderr or "").strip().splitlines()[-3:]
            raise BrowserError(
                f"chromium failed to print {path.name} after {time.monotonic() - started:.1f} s",
                details={"returncode": result.returncode, "stderr": tail},
            )
    return out
