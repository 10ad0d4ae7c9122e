"""Configuration, read once from ``GEOGRID_*`` environment variables.

Settings are grouped by concern. :func:`get_settings` is cached, so the API can provide it
as a dependency and tests can override it.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = ["Settings", "default_home", "get_settings"]


def default_home() -> Path:
    """Return the default folder for geogrid's own files (the embedded cluster lives there).

    An ordinary user gets ``~/.local/share/geogrid`` (XDG). Root gets ``/var/lib/geogrid``:
    the embedded PostgreSQL must run as the unprivileged ``postgres`` user, which cannot
    enter root's home.
    """
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return Path("/var/lib/geogrid")
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "geogrid"


class Settings(BaseSettings):
    """All of geogrid's settings; each field is ``GEOGRID_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="GEOGRID_", extra="ignore")

    home: Path = Field(default_factory=default_home, description="geogrid's own data folder.")
    database_url: str | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL of an existing PostGIS database. When unset, geogrid runs its own "
            "private cluster under `home`."
        ),
    )
    database_read_url: str | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL of a streaming replica of the database: the in-memory indexes "
            "and their data versions are read there, writes and a process's reads of its own "
            "writes go to the primary (`database_url`)."
        ),
    )
    listen: bool = Field(
        default=True,
        description=(
            "API servers LISTEN on the primary for new data versions and rebuild their "
            "indexes at once (else only at their next version check)."
        ),
    )
    snapshot_dir: Path | None = Field(
        default=None,
        description=(
            "Folder for pickled locator snapshots keyed by database, data versions and code: "
            "a worker starting on indexed data loads one instead of rebuilding. Only geogrid "
            "may write there. Unset: no snapshots."
        ),
    )
    address_counties: bool = Field(
        default=False,
        description=(
            "Match addresses county by county (a province's gazetteer): every county's "
            "town, village and road names are held, a county's doors are loaded when an "
            "address leads there, from its snapshot in `snapshot_dir` when there is one."
        ),
    )
    address_cache_mb: float = Field(
        default=512,
        ge=1,
        description="Memory for counties' doors per process with `address_counties` "
        "(least recently used counties are dropped; ~450 bytes per address).",
    )
    grid_counties: bool = Field(
        default=False,
        description=(
            "Locate points county by county (a province's grids): a point finds its county "
            "among the county polygons, then that county's own grid index answers; county "
            "indexes are held in an LRU and kept as snapshots in `snapshot_dir`."
        ),
    )
    grid_cache_mb: float = Field(
        default=512,
        ge=1,
        description="Memory for counties' grid indexes per process with `grid_counties` "
        "(least recently used counties are dropped).",
    )
    pg_bin: Path | None = Field(
        default=None,
        description="Folder holding initdb and pg_ctl; found automatically when unset.",
    )
    pg_port: int = Field(default=54329, description="Port of the embedded cluster's socket.")
    database_name: str = Field(default="geogrid")
    pool_size: int = Field(default=5, ge=1, le=100)
    statement_timeout_ms: int = Field(default=30_000, ge=100)

    cache_check_interval_s: float = Field(
        default=1.0,
        ge=0,
        description="How often in-memory indexes check the database for newer data.",
    )
    features_in_memory: bool = Field(
        default=True,
        description="Answer WGS 84 feature pages without property filters from a copy of "
        "the layer held by each process (its features written once per data version), "
        "not one query per page; an edit shows within `cache_check_interval_s`.",
    )
    tile_cache_mb: float = Field(
        default=64,
        ge=0,
        description="Vector tiles kept in memory per layer and process, until the layer "
        "changes (0: none).",
    )

    warm_up: bool = Field(
        default=True, description="Build the in-memory indexes when the API starts."
    )
    helper_process: bool = Field(
        default=True,
        description="API servers make edits and the grid index's updates in a helper "
        "process (one per server process, holding a copy of the index): the server then "
        "only loads what changed, and its requests are not slowed by the edits.",
    )

    tianditu_key: SecretStr | None = Field(
        default=None, description="Key for Tianditu base maps (online only)."
    )
    events_webhook_url: str | None = Field(
        default=None, description="Where `geogrid events send` delivers event notifications."
    )
    events_webhook_secret: SecretStr | None = Field(
        default=None, description="The HMAC-SHA256 key that signs every event notification."
    )
    events_scan_chunk: int = Field(
        default=500,
        ge=1,
        le=100_000,
        description="Events the deadline scan changes per transaction (a chunk).",
    )
    events_scan: bool = Field(
        default=True,
        description="API servers run the deadline scan on a timer (one process of the "
        "cluster at a time, by a PostgreSQL advisory lock).",
    )
    events_scan_interval_s: float = Field(
        default=60.0, gt=0, description="Seconds between two deadline scans of the servers."
    )
    tianditu_url: str | None = Field(
        default=None,
        description="Tile URL template for Tianditu ({layer} is vec or cva, {key} the key; "
        "{z}, {x}, {y}, optional {s}); default: Tianditu's own WMTS (vec_w, cva_w).",
    )
    amap_url: str | None = Field(
        default=None,
        description="Tile URL template for Amap/Gaode (GCJ-02 tiles; {z}, {x}, {y}, optional "
        "{s}); default: Amap's webrd road map.",
    )

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    max_batch_rows: int = Field(default=100_000, ge=1)
    max_body_bytes: int = Field(default=50 * 1024 * 1024, ge=1024)

    features_default_limit: int = Field(
        default=100, ge=1, description="Features per page of /collections/{id}/items."
    )
    features_max_limit: int = Field(
        default=10_000, ge=1, description="Largest page; a bigger `limit` is capped to it."
    )
    max_vertices: int = Field(
        default=100_000,
        ge=4,
        description="Most vertices the geometry of an edited feature or of a loaded row may have.",
    )
    grid_overlap_tolerance_m2: float = Field(
        default=1.0, ge=0, description="Overlap between sibling grids an edit may leave (m²)."
    )

    open_reads: bool = Field(
        default=True,
        description=(
            "Let requests without an API key read /health and the public layers; off, "
            "every request for data needs a key (the API description stays readable)."
        ),
    )

    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description=(
            "Web origins whose browser apps may call the API (CORS), comma-separated, e.g. "
            "`https://map.example.gov.cn`; `*` allows any. Empty (the default): none."
        ),
    )

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [origin.strip().rstrip("/") for origin in value.split(",") if origin.strip()]
        return value

    @property
    def cluster_dir(self) -> Path:
        """Folder of the embedded PostgreSQL cluster (data, socket, log)."""
        return self.home / "postgres"


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings, read from the environment once."""
    return Settings()
