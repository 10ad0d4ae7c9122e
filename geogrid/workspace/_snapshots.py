"""Locator snapshots: a built locator pickled to a folder, keyed by what it was built from.

An API worker that starts on data another worker (or an earlier run) has already indexed
loads the locator from the snapshot instead of rebuilding it: for 4 generated counties
3.5 s instead of 28 s, and 40 % less memory (``benchmarks/province_serve.py``). The key
is a digest of the database's identity (system identifier and name: a replica shares its
primary's), the data versions of every layer the locator is built from, whether phones
are revealed, and geogrid's own source code (a snapshot never outlives the code that
pickled it). Snapshots are pickles: the folder must be writable by geogrid alone.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import shapely

if TYPE_CHECKING:
    import pandas as pd

    from geogrid.workspace.locate import Locator

__all__ = [
    "KEEP",
    "CountySnapshots",
    "LocatorSnapshots",
    "grids_digest",
    "read_pickle",
    "write_pickle",
]

log = logging.getLogger("geogrid.workspace")
KEEP = 2  # newest snapshots kept per kind (the one in use and the one before)


@cache
def _code_digest() -> str:
    """A digest of geogrid's Python source (read once per process)."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.blake2b(digest_size=16)
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


class LocatorSnapshots:
    """Pickled locators in ``folder``, one file per key."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def key(self, identity: str, versions: dict[str, int], reveal_personal: bool) -> str:
        """Return the file name for a locator built from these data."""
        digest = hashlib.blake2b(digest_size=16)
        digest.update(_code_digest().encode())
        digest.update(identity.encode())
        digest.update(repr(sorted(versions.items())).encode())
        return f"locator-{'personal' if reveal_personal else 'masked'}-{digest.hexdigest()}.pickle"

    def load(self, key: str) -> Locator | None:
        """Return the snapshot ``key``, or None when there is none (or it is unreadable)."""
        return read_pickle(self.folder / key, "locator snapshot")  # type: ignore[no-any-return]

    def save(self, key: str, locator: Locator) -> None:
        """Write the snapshot atomically; keep the newest :data:`KEEP` of its kind."""
        kind = key.rsplit("-", 1)[0]
        write_pickle(self.folder / key, locator, f"{kind}-*.pickle", "locator snapshot")


class CountySnapshots:
    """Per-county pickles in a folder (none when ``folder`` is None), one file per key and
    kind: ``<prefix>-<county digest>-<data digest>.<kind>.pickle``; the newest
    :data:`KEEP` of a county and kind are kept."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder

    def has(self, key: str, kind: str) -> bool:
        """Return True when the snapshot ``key`` of ``kind`` exists."""
        return self.folder is not None and (self.folder / f"{key}.{kind}.pickle").exists()

    def load(self, key: str, kind: str) -> Any | None:
        """Return the snapshot ``key`` of ``kind``, or None (none, or unreadable)."""
        if self.folder is None:
            return None
        return read_pickle(self.folder / f"{key}.{kind}.pickle", "county snapshot")

    def save(self, key: str, kind: str, value: object) -> None:
        """Write the snapshot ``key`` of ``kind`` (nothing without a folder)."""
        if self.folder is None:
            return
        county = key.rsplit("-", 1)[0]
        path = self.folder / f"{key}.{kind}.pickle"
        write_pickle(path, value, f"{county}-*.{kind}.pickle", "county snapshot")


def grids_digest(grids: pd.DataFrame) -> str:
    """A digest of grid rows: code, name, level, parent code and geometry (WKB)."""
    digest = hashlib.blake2b(digest_size=16)
    for column in ("code", "name", "level", "parent_code"):
        digest.update(repr(grids[column].tolist()).encode())
    for wkb in shapely.to_wkb(grids.geometry.to_numpy()):
        digest.update(wkb)
    return digest.hexdigest()


def read_pickle(path: Path, what: str) -> Any | None:
    """Return the object pickled at ``path``; None when there is none, or when it is
    unreadable (a torn or foreign file: logged as ``what``; the caller builds it again)."""
    try:
        with path.open("rb") as source:
            return pickle.load(source)
    except FileNotFoundError:
        return None
    except Exception:
        log.warning("%s %s unreadable; rebuilding", what, path.name)
        return None


def write_pickle(path: Path, value: object, kind: str, what: str) -> None:
    """Pickle ``value`` to ``path`` atomically, then keep only the newest :data:`KEEP`
    files of its folder matching the glob ``kind``. A failure (a full disk, say) is
    logged as ``what``: serving goes on without the snapshot."""
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            dir=folder, prefix=".tmp-", suffix=".pickle", delete=False
        ) as out:
            pickle.dump(value, out, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(out.name, path)
        older = sorted(folder.glob(kind), key=lambda p: p.stat().st_mtime, reverse=True)
        for stale in older[KEEP:]:
            stale.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("%s not written: %s", what, exc)
