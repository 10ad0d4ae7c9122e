"""Fixtures for the map tests: a synthetic county, and one headless Chromium per session."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from geogrid.maps.testing import synthetic_county


@pytest.fixture(scope="session")
def county() -> dict[str, Any]:
    """Two towns of four villages each, micro-grids, checkpoints, sites, entries, routes."""
    return synthetic_county()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """A headless Chromium that cannot resolve any host but localhost."""
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        pytest.skip("needs Debian's chromium and chromium-driver")
    from geogrid.maps.browser import start_browser

    driver = start_browser(offline=True)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="session")
def printer(browser: Any) -> Iterator[Any]:
    """A printer sharing the session's browser."""
    from geogrid.maps.printing import Printer

    with Printer(driver=browser) as shared:
        yield shared
