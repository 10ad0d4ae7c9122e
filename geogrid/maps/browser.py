"""Headless Chromium for geogrid's maps: start it offline, and check a page in it.

:func:`start_browser` starts Debian's ``chromium`` through ``chromedriver`` (selenium), as
root too, with a fresh profile and the flags that keep it off the network: every host name
resolves to nothing (``--host-resolver-rules``), so a page that tries to fetch from the
Internet fails visibly instead of waiting. :func:`check_map_html` opens a page, waits for
the map to finish drawing, and reports JavaScript errors, the layer control's names and
every request the page made.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from geogrid.errors import BrowserError

__all__ = [
    "MapCheck",
    "browser_session",
    "check_map_html",
    "chromium_flags",
    "find_chromium",
    "load_page",
    "start_browser",
]

_LOADS = itertools.count(1)

OFFLINE_RESOLVER = "MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"
"""Chromium host rule: every name but localhost (and 127.0.0.1) fails to resolve."""

_ERROR_HOOK = """
window.__geogridErrors = [];
window.addEventListener("error", function (e) {
  var t = e.target || {};
  window.__geogridErrors.push(e.message ? e.message + " @" + (e.filename || "") + ":" + e.lineno
                                        : "failed to load " + (t.src || t.href || t.tagName));
}, true);
window.addEventListener("unhandledrejection", function (e) {
  window.__geogridErrors.push("unhandled rejection: " + String(e.reason));
});
(function () {
  var original = console.error;
  console.error = function () {
    window.__geogridErrors.push(Array.prototype.join.call(arguments, " "));
    return original.apply(console, arguments);
  };
})();
"""

_LAYER_NAMES = """
function names(selector) {
  return Array.prototype.map.call(document.querySelectorAll(selector), function (el) {
    return el.textContent.trim();
  });
}
return {
  overlays: names(".leaflet-control-layers-overlays label"),
  base: names(".leaflet-control-layers-base label"),
  errors: window.__geogridErrors || [],
  ready: window.geogridReady === true,
  reason: window.geogridReadyReason || null
};
"""


def find_chromium() -> tuple[str, str]:
    """Return the paths of ``chromium`` and ``chromedriver``.

    Raises
    ------
    BrowserError
        If either is missing, with the Debian packages to install.
    """
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not browser or not driver:
        raise BrowserError(
            "printing maps needs headless Chromium: apt-get install chromium chromium-driver",
            details={"chromium": browser, "chromedriver": driver},
        )
    return browser, driver


def chromium_flags(profile: str | Path, *, offline: bool = True) -> list[str]:
    """Return the command-line flags geogrid runs Chromium with.

    Parameters
    ----------
    profile
        A fresh, empty folder for the profile (``--user-data-dir``).
    offline
        Make every host name except localhost unresolvable.

    Returns
    -------
    list of str
    """
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        "--allow-file-access-from-files",
        f"--user-data-dir={profile}",
    ]
    if offline:
        flags.append(f"--host-resolver-rules={OFFLINE_RESOLVER}")
    return flags


def start_browser(*, offline: bool = True, width: int = 1200, height: int = 900) -> Any:
    """Start headless Chromium under chromedriver and return the selenium driver.

    The profile folder is removed when the driver quits. Call ``driver.quit()`` (or use
    :func:`browser_session`).

    Parameters
    ----------
    offline
        See :func:`chromium_flags`.
    width, height
        Window size in CSS pixels.

    Returns
    -------
    selenium.webdriver.Chrome

    Raises
    ------
    BrowserError
        If Chromium, chromedriver or selenium is missing or fails to start.
    """
    try:
        from selenium import webdriver
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.chrome.service import Service
    except ImportError:  # pragma: no cover - an optional dependency
        raise BrowserError("printing maps needs selenium: pip install 'geogrid[print]'") from None
    browser, driver_path = find_chromium()
    profile = tempfile.mkdtemp(prefix="geogrid-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in chromium_flags(profile, offline=offline):
        options.add_argument(flag)
    options.add_argument(f"--window-size={width},{height}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    try:
        driver = webdriver.Chrome(options=options, service=Service(driver_path))
    except WebDriverException as error:
        shutil.rmtree(profile, ignore_errors=True)
        raise BrowserError(f"headless Chromium did not start: {error.msg}") from None
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": _ERROR_HOOK})
    original_quit = driver.quit

    def quit_and_clean() -> None:
        try:
            original_quit()
        finally:
            shutil.rmtree(profile, ignore_errors=True)

    driver.quit = quit_and_clean  # type: ignore[method-assign]
    return driver


@contextmanager
def browser_session(driver: Any = None, **kwargs: Any) -> Iterator[Any]:
    """Yield ``driver``, or a new browser that is quit on exit when ``driver`` is None."""
    if driver is not None:
        yield driver
        return
    own = start_browser(**kwargs)
    try:
        yield own
    finally:
        own.quit()


@contextmanager
def _page_file(page: str | Path) -> Iterator[Path]:
    if isinstance(page, Path) or (len(str(page)) < 4096 and "<" not in str(page)):
        yield Path(page).resolve()
        return
    handle, name = tempfile.mkstemp(prefix="geogrid-page-", suffix=".html")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(str(page))
    try:
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)


def load_page(driver: Any, path: Path, *, timeout_s: float = 20.0, fragment: str = "") -> str:
    """Open a page file and wait for ``window.geogridReady`` (or for load, on other pages).

    Parameters
    ----------
    driver
        A browser from :func:`start_browser`.
    path
        The page file.
    timeout_s
        Longest wait.
    fragment
        Appended to the URL, such as ``"#print"``.

    Returns
    -------
    str
        Why the wait ended: ``"drawn"``, ``"timeout"`` (tiles still loading when the page's
        own budget ran out), or ``"loaded"`` for a page without geogrid's flag.

    Raises
    ------
    BrowserError
        If the page does not get ready within ``timeout_s``.
    """
    # a query that changes on every load makes each load a fresh navigation
    driver.get(f"{path.as_uri()}?load={next(_LOADS)}{fragment}")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        state = driver.execute_script(
            "return [window.geogridReady, window.geogridReadyReason || null,"
            " typeof geogrid !== 'undefined', document.readyState];"
        )
        ready, reason, has_flag, document_state = state
        if ready:
            return str(reason or "drawn")
        if document_state == "complete" and not has_flag:
            return "loaded"
        time.sleep(0.02)
    raise BrowserError(f"the page did not finish drawing within {timeout_s} s: {path.name}")


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("file", "data", "about", "blob", "chrome", "devtools", ""):
        return True
    return parts.hostname in ("localhost", "127.0.0.1", "::1")


@dataclass
class MapCheck:
    """What a page did in headless Chromium.

    Parameters
    ----------
    overlays
        Names of the overlay layers in the layer control, in order.
    base_layers
        Names of the base layers in the layer control.
    errors
        JavaScript errors, console errors and failed loads.
    requests
        Every URL the page requested (the page itself included).
    ready
        How the wait ended (see :func:`load_page`).
    """

    overlays: list[str] = field(default_factory=list)
    base_layers: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    ready: str = ""

    @property
    def external_requests(self) -> list[str]:
        """The requests that would leave this machine."""
        return [url for url in self.requests if not _is_local(url)]

    @property
    def ok(self) -> bool:
        """No errors and no request off this machine."""
        return not self.errors and not self.external_requests


def _requests_from_log(driver: Any) -> list[str]:
    import json

    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def check_map_html(
    page: str | Path, *, driver: Any = None, timeout_s: float = 20.0, offline: bool = True
) -> MapCheck:
    """Open a map page in headless Chromium and report errors, layers and requests.

    Parameters
    ----------
    page
        The HTML itself, or the path of an HTML file.
    driver
        A browser from :func:`start_browser` to reuse; a new one is started (and quit)
        when None.
    timeout_s
        Longest wait for the map to draw.
    offline
        For a new browser: make every host name unresolvable.

    Returns
    -------
    MapCheck
    """
    with browser_session(driver, offline=offline) as browser, _page_file(page) as path:
        browser.get_log("performance")  # drop what earlier pages left
        browser.get_log("browser")
        ready = load_page(browser, path, timeout_s=timeout_s)
        state = browser.execute_script(_LAYER_NAMES)
        console = [
            entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"
        ]
        errors = list(dict.fromkeys([*state["errors"], *console]))
        return MapCheck(
            overlays=list(state["overlays"]),
            base_layers=list(state["base"]),
            errors=errors,
            requests=_requests_from_log(browser),
            ready=ready,
        )
