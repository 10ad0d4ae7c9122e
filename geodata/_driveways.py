"""Short dead-end service roads: driveways into compounds, yards and farms.

A driveway leaves a junction through the widest gap between its streets and ends
40-90 m away; it is kept only if it touches nothing but its own junction and ends at
least 15 m from every other road, on land.
"""

from __future__ import annotations

import numpy as np
import shapely

__all__ = ["driveways"]

SHARE_URBAN = 0.15
SHARE_RURAL = 0.06
CLEARANCE_M = 15.0


def _widest_gap(points: np.ndarray, edges: np.ndarray, origins: np.ndarray) -> np.ndarray:
    """Direction (radians) of the middle of the widest angle between a junction's streets."""
    touching: dict[int, list[int]] = {}
    for a, b in edges:
        touching.setdefault(int(a), []).append(int(b))
        touching.setdefault(int(b), []).append(int(a))
    out = np.empty(len(origins))
    for k, node in enumerate(origins):
        away = points[touching[int(node)]] - points[node]
        angle = np.sort(np.arctan2(away[:, 1], away[:, 0]))
        gaps = np.diff(np.append(angle, angle[0] + 2 * np.pi))
        widest = int(np.argmax(gaps))
        out[k] = angle[widest] + gaps[widest] / 2
    return out


def driveways(
    points: np.ndarray,
    edges: np.ndarray,
    urban: np.ndarray,
    land: shapely.Geometry,
    water: shapely.Geometry,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Propose driveways from some junctions.

    Parameters
    ----------
    points
        Junctions ``(n, 2)`` in metres.
    edges
        Streets ``(m, 2)``.
    urban
        Per junction, whether it lies in a town core (more driveways there).
    land, water
        Driveways end inside ``land`` and outside ``water``.
    rng
        Source of randomness.

    Returns
    -------
    tuple of numpy.ndarray
        The junction each kept driveway starts from, and its end point ``(k, 2)``.
    """
    used = np.zeros(len(points), dtype=bool)
    used[edges.ravel()] = True
    share = np.where(urban, SHARE_URBAN, SHARE_RURAL)
    origins = np.flatnonzero(used & (rng.random(len(points)) < share))
    angle = _widest_gap(points, edges, origins)
    length = rng.uniform(40.0, 90.0, len(origins))
    unit = np.column_stack([np.cos(angle), np.sin(angle)])
    ends = points[origins] + unit * length[:, None]
    probe = shapely.linestrings(np.stack([points[origins] + unit, ends], axis=1))
    streets = shapely.STRtree(shapely.linestrings(points[edges]))
    ok = np.ones(len(origins), dtype=bool)
    ok[streets.query(probe, predicate="intersects")[0]] = False
    ok[streets.query(shapely.points(ends), predicate="dwithin", distance=CLEARANCE_M)[0]] = False
    shapely.prepare(land)
    shapely.prepare(water)
    ok &= shapely.contains_xy(land, ends[:, 0], ends[:, 1])
    ok &= ~shapely.intersects(water, probe)
    ok &= _apart(probe, ok)
    return origins[ok], ends[ok]


def _apart(segments: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Drop the later of any two kept driveways that come within the clearance."""
    keep = ok.copy()
    left, right = shapely.STRtree(segments).query(segments, "dwithin", distance=CLEARANCE_M)
    for a, b in zip(left, right, strict=True):
        if a < b and keep[a] and keep[b]:
            keep[b] = False
    return keep
