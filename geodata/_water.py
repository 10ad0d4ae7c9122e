"""The river 鳌江: a meandering band that widens towards its mouth on the coast."""

from __future__ import annotations

import numpy as np
import shapely
from shapely import LineString

__all__ = ["chaikin", "river_centreline", "river_polygon"]


def chaikin(xy: np.ndarray, rounds: int = 3) -> np.ndarray:
    """Smooth an open polyline by corner cutting, keeping its two ends.

    Examples
    --------
    >>> chaikin(np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0]]), rounds=1).shape
    (6, 2)
    """
    for _ in range(rounds):
        a, b = xy[:-1], xy[1:]
        cut = np.empty((2 * len(a), 2))
        cut[0::2] = 0.75 * a + 0.25 * b
        cut[1::2] = 0.25 * a + 0.75 * b
        xy = np.vstack([xy[:1], cut, xy[-1:]])
    return xy


def river_centreline(
    lo: np.ndarray, hi: np.ndarray, mouth_town: np.ndarray, rng: np.random.Generator
) -> LineString:
    """Draw the river's centreline from the western hills to the sea.

    Parameters
    ----------
    lo, hi
        Corners of the county box in metres.
    mouth_town
        Centre of Aojiang town; the river passes about 700 m south of it.
    rng
        Source of randomness for the meanders.

    Returns
    -------
    shapely.LineString
        A smooth line from west of the county to east of it, vertices every ~40 m.
    """
    size = hi - lo
    anchors = np.array(
        [
            lo + size * (-0.05, 0.50),
            lo + size * (0.22, 0.40),
            lo + size * (0.45, 0.36),
            mouth_town + np.array([-3000.0, -900.0]),
            mouth_town + np.array([0.0, -700.0]),
            mouth_town + np.array([3500.0, -1100.0]),
            lo + size * (1.08, 0.30),
        ]
    )
    anchors = anchors[np.argsort(anchors[:, 0], kind="stable")]
    line = LineString(chaikin(anchors, rounds=4))
    line = shapely.segmentize(line, 40.0)
    xy = shapely.get_coordinates(line)
    s = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))])
    tangent = np.gradient(xy, axis=0)
    normal = np.column_stack([-tangent[:, 1], tangent[:, 0]])
    normal /= np.hypot(normal[:, 0], normal[:, 1])[:, None]
    meander = np.zeros_like(s)
    for wavelength in (2600.0, 1100.0):
        meander += wavelength / 14 * np.sin(2 * np.pi * s / wavelength + rng.uniform(0, 2 * np.pi))
    return LineString(xy + normal * meander[:, None])


def river_polygon(centreline: LineString, clip: shapely.Geometry) -> shapely.Geometry:
    """Buffer the centreline from 90 m wide upstream to 520 m at the mouth, then clip.

    Parameters
    ----------
    centreline
        From :func:`river_centreline`.
    clip
        Area to keep (the county).

    Returns
    -------
    shapely.MultiPolygon
        The water surface.
    """
    xy = shapely.get_coordinates(centreline)
    share = np.linspace(0.0, 1.0, len(xy) - 1)
    width = 90.0 + 430.0 * share**3
    segments = shapely.linestrings(np.stack([xy[:-1], xy[1:]], axis=1))
    water = shapely.union_all(shapely.buffer(segments, width / 2, quad_segs=4))
    water = shapely.intersection(water, clip)
    return shapely.multipolygons(shapely.get_parts(water))
