"""The bundled demo data: a synthetic county modelled on Pingyang (see geodata/README.md)."""

from __future__ import annotations

from pathlib import Path

from geogrid.errors import IngestError
from geogrid.ingest.load import LoadRequest

__all__ = ["DEMO_LAYERS", "demo_path", "demo_requests"]

DEMO_FILE = "pingyang-demo.gpkg.zip"
# parents before children, referenced layers before the layers that reference them
DEMO_LAYERS = (
    "grids",
    "grid_workers",
    "water",
    "roads",
    "checkpoints",
    "isolation_sites",
    "addresses",
    "transfer_requests",
    "vehicles",
)


def demo_path(override: Path | None = None) -> Path:
    """Return the demo GeoPackage: ``override``, else ``geodata/`` of this checkout."""
    path = override or Path(__file__).resolve().parents[2] / "geodata" / DEMO_FILE
    if not path.exists():
        raise IngestError(
            "the demo data is missing; regenerate it with `python geodata/generate.py`",
            path=str(path),
        )
    return path


def demo_requests(path: Path | None = None) -> list[LoadRequest]:
    """Return one load request per demo layer, in dependency order."""
    source = demo_path(path)
    return [LoadRequest(source, kind, layer=kind) for kind in DEMO_LAYERS]
