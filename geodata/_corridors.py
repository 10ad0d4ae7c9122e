"""National, provincial and main town roads, and the bridges over the river.

A corridor is a smooth polyline through a few anchors, sampled into junctions at a
fixed spacing; other junctions are kept clear of it so that the triangulation joins
its consecutive junctions, which makes it one continuous road.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely
from shapely import LineString

from geodata._spec import AOJIANG
from geodata._water import chaikin

__all__ = ["CORRIDORS", "Corridor", "CorridorSpec", "corridors_from_specs"]

# An anchor is (town code or "box", dx, dy): a town centre plus an offset in metres,
# or a fraction of the county box.
Anchor = tuple[str, float, float]


@dataclass(frozen=True)
class CorridorSpec:
    """A road drawn through anchors; ``river_x`` makes it a bridge at that offset."""

    name: str
    road_class: str
    anchors: tuple[Anchor, ...]
    spacing_m: float
    river_x: float | None = None


CORRIDORS: tuple[CorridorSpec, ...] = (
    CorridorSpec(
        "104国道",
        "trunk",
        (
            ("box", 0.66, 1.06),
            ("330326-100", 800, 200),
            (AOJIANG, -1300, 1500),
            (AOJIANG, -900, -2600),
            ("330326-106", 1500, 600),
            ("box", 0.52, -0.06),
        ),
        150.0,
    ),
    CorridorSpec(
        "228国道",
        "trunk",
        (
            ("box", 0.95, 1.05),
            ("330326-104", 600, 300),
            (AOJIANG, 2300, 1300),
            (AOJIANG, 2900, -2200),
            ("330326-105", -300, 800),
            ("box", 0.90, -0.06),
        ),
        150.0,
    ),
    CorridorSpec(
        "省道S232",
        "primary",
        (
            (AOJIANG, 1000, 150),
            (AOJIANG, -2500, 250),
            ("330326-103", 0, 250),
            ("330326-102", 0, -150),
            ("330326-109", 500, -1500),
            ("box", -0.06, 0.55),
        ),
        150.0,
    ),
    CorridorSpec(
        "省道S233",
        "primary",
        (
            ("330326-100", -500, 100),
            ("330326-107", 0, 0),
            ("330326-108", 0, 0),
            ("box", 0.10, 1.06),
        ),
        150.0,
    ),
    CorridorSpec(
        "鳌江大道",
        "secondary",
        ((AOJIANG, 300, 350), (AOJIANG, 100, 2500), ("330326-100", -200, -700)),
        120.0,
    ),
    CorridorSpec(
        "昆万大道", "secondary", (("330326-100", 400, -300), ("330326-104", -300, 0)), 130.0
    ),
    CorridorSpec(
        "萧江大道",
        "secondary",
        (("330326-103", 300, 600), ("330326-107", 400, -900), ("330326-100", -1200, -400)),
        130.0,
    ),
    CorridorSpec(
        "萧麻公路",
        "secondary",
        (("330326-103", -200, -100), ("330326-106", 0, 0), ("330326-200", 0, 0)),
        130.0,
    ),
    CorridorSpec(
        "南雁公路", "secondary", (("330326-102", -300, -300), ("330326-110", 0, 0)), 130.0
    ),
    CorridorSpec("鳌江大桥", "tertiary", (), 80.0, river_x=600.0),
    CorridorSpec("江南大桥", "tertiary", (), 80.0, river_x=-4200.0),
)


@dataclass
class Corridor:
    """A placed corridor: its line and its junctions in order along it."""

    spec: CorridorSpec
    line: LineString
    points: np.ndarray


def _place(spec: CorridorSpec, anchor_at: Callable[[Anchor], np.ndarray], river: LineString):
    """Return the corridor's smooth line."""
    if spec.river_x is None:
        xy = np.array([anchor_at(a) for a in spec.anchors])
        return LineString(chaikin(xy, rounds=3))
    x = anchor_at((AOJIANG, spec.river_x, 0))[0]
    _, ymin, _, ymax = river.bounds
    cut = shapely.intersection(river, LineString([(x, ymin - 1), (x, ymax + 1)]))
    y = shapely.get_coordinates(cut)[:, 1].mean()
    return LineString([(x - 60, y - 480), (x, y), (x + 60, y + 480)])


def corridors_from_specs(
    specs: tuple[CorridorSpec, ...], anchor_at: Callable[[Anchor], np.ndarray], river: LineString
) -> list[Corridor]:
    """Place corridors and their junctions, with a shared junction where two cross.

    Parameters
    ----------
    specs
        What to draw.
    anchor_at
        Position of an anchor in metres.
    river
        The river's centreline (bridges are placed across it).

    Returns
    -------
    list of Corridor
        Junctions of each corridor sorted along it; crossing points appear in both.
    """
    lines = [_place(spec, anchor_at, river) for spec in specs]
    crossings: list[list[np.ndarray]] = [[] for _ in lines]
    for i in range(len(lines)):
        for j in range(i + 1, len(lines)):
            hit = shapely.get_coordinates(shapely.intersection(lines[i], lines[j]))
            for p in hit:
                crossings[i].append(p)
                crossings[j].append(p)
    placed = []
    for spec, line, own in zip(specs, lines, crossings, strict=True):
        n = max(2, round(line.length / spec.spacing_m) + 1)
        along = np.linspace(0, line.length, n)
        pts = shapely.get_coordinates(shapely.line_interpolate_point(line, along))
        keep = np.ones(len(pts), dtype=bool)
        for p in own:  # junction replaces the samples around it
            keep &= np.hypot(*(pts - p).T) > 0.6 * spec.spacing_m
        junctions = np.array(own).reshape(-1, 2)
        pts = np.concatenate([pts[keep], junctions])
        order = np.argsort(shapely.line_locate_point(line, shapely.points(pts)), kind="stable")
        placed.append(Corridor(spec, line, pts[order]))
    return placed
