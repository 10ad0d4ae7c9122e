"""Guarded entries: an active checkpoint within a walking distance of the crossing.

Rules
-----
- Checkpoints are placed on their nearest road (at most ``snap_m`` away, default 50 m;
  farther ones guard nothing and are reported as off the network). Only checkpoints
  whose ``status`` is ``active`` count; closed ones are ignored.
- An entry is *guarded* when an active checkpoint lies within ``tolerance_m`` (default
  50 m) of its crossing point **along the network, in either direction**: a gate 30 m
  inside the grid and a gate 30 m outside it both seal the crossing, and staff stand on
  the road whatever its one-way flag says. Distances are walking distances (lengths,
  one-way ignored); the distance from the checkpoint to the road is not added.
- Each entry reports the nearest active checkpoint within the search radius and its
  distance, guarded or not.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import numpy.typing as npt

from geogrid.spatial.coverage._inputs import points_to_lonlat, require_columns
from geogrid.spatial.coverage._walk import NearestSite, nearest_site
from geogrid.spatial.coverage.entries import Entries
from geogrid.spatial.roads.network import RoadNetwork, Snapped

__all__ = [
    "DEFAULT_CHECKPOINT_SNAP_M",
    "DEFAULT_TOLERANCE_M",
    "CheckpointDistance",
    "Checkpoints",
    "Guard",
    "checkpoint_distance",
    "checkpoints_from_geodataframe",
    "guard_entries",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

DEFAULT_TOLERANCE_M = 50.0
"""Walking distance within which a checkpoint guards a crossing."""

DEFAULT_CHECKPOINT_SNAP_M = 50.0
"""Checkpoints farther than this from every road are off the network."""


@dataclass(frozen=True, eq=False)
class Checkpoints:
    """Checkpoints placed on the road network.

    Attributes
    ----------
    code
        Checkpoint codes.
    active
        Whether each checkpoint is active (closed ones guard nothing).
    snapped
        Where each one sits on the network (``edge == -1`` when off the network).
    """

    code: npt.NDArray[np.object_]
    active: BoolArray
    snapped: Snapped

    def __len__(self) -> int:
        return len(self.code)

    @property
    def usable(self) -> BoolArray:
        """Active and on the network: the checkpoints that guard."""
        return self.active & (self.snapped.edge >= 0)


def checkpoints_from_geodataframe(
    frame: gpd.GeoDataFrame, network: RoadNetwork, snap_m: float = DEFAULT_CHECKPOINT_SNAP_M
) -> Checkpoints:
    """Place checkpoints (EPSG:4326 points with ``code`` and ``status``) on the network.

    Raises
    ------
    UnknownCRSError
        The frame is not in EPSG:4326.
    InvalidRequestError
        ``code`` or ``status`` is missing.
    InvalidGeometryError
        A geometry is not a point.
    """
    require_columns(frame, ("code", "status"), "checkpoints")
    lon, lat = points_to_lonlat(frame.geometry.to_numpy(), "checkpoints")
    status = frame["status"].astype(str).str.strip().str.lower().to_numpy()
    return Checkpoints(
        code=frame["code"].to_numpy(dtype=object),
        active=status == "active",
        snapped=network.snap(lon, lat, snap_m),
    )


@dataclass(frozen=True, eq=False)
class CheckpointDistance:
    """Walking distance to the nearest usable checkpoint, within ``limit_m``."""

    nearest: NearestSite
    position: IntArray  # checkpoint position of each site searched from

    @property
    def limit_m(self) -> float:
        """Search radius in metres."""
        return self.nearest.limit_m

    def to(self, places: Snapped) -> tuple[FloatArray, IntArray]:
        """Return each place's distance to its nearest checkpoint, and that checkpoint.

        The checkpoint is a position among the checkpoints given (``-1`` none within
        ``limit_m``; the distance is then ``inf``).
        """
        dist, site = self.nearest.to(places)
        if len(self.position) == 0:
            return dist, np.full(len(site), -1, np.int64)
        return dist, np.where(site >= 0, self.position[np.maximum(site, 0)], -1)


def checkpoint_distance(
    network: RoadNetwork, checkpoints: Checkpoints, limit_m: float
) -> CheckpointDistance:
    """Search from every usable checkpoint at once, up to ``limit_m`` metres."""
    position = np.flatnonzero(checkpoints.usable)
    return CheckpointDistance(
        nearest_site(network, checkpoints.snapped[position], limit_m), position
    )


@dataclass(frozen=True, eq=False)
class Guard:
    """Whether each entry is guarded, and by which checkpoint.

    Attributes
    ----------
    guarded
        An active checkpoint within the tolerance.
    checkpoint
        Position of the nearest active checkpoint (-1 none within the search radius).
    distance_m
        Walking distance to it (inf when none).
    """

    guarded: BoolArray
    checkpoint: IntArray
    distance_m: FloatArray


def guard_entries(
    network: RoadNetwork,
    entries: Entries,
    distance: CheckpointDistance,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
) -> Guard:
    """Return which entries have an active checkpoint within ``tolerance_m``.

    Parameters
    ----------
    network
        The network the entries were found on (their edges are its edges).
    entries
        Crossings from :func:`~geogrid.spatial.coverage.entries.find_entries`.
    distance
        From :func:`checkpoint_distance`, with ``limit_m >= tolerance_m``.
    tolerance_m
        Walking distance, in metres, within which a checkpoint guards a crossing.
    """
    if not 0 <= tolerance_m <= distance.limit_m:
        raise ValueError(f"tolerance_m must be between 0 and the search radius {distance.limit_m}")
    if len(entries) == 0:
        return Guard(np.empty(0, bool), np.empty(0, np.int64), np.empty(0))
    places = network.snapped_from_fractions(entries.edge, entries.fraction)
    dist, checkpoint = distance.to(places)
    return Guard(dist <= tolerance_m, checkpoint, dist)
