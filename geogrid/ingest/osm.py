"""Read OpenStreetMap extracts (``.osm.pbf``, ``.osm``): roads and addresses.

Roads
    Every way that the ``car`` or the ``foot`` profile may use becomes road edges, split
    at every node another kept way shares (so the result is noded, as routing needs), with
    ``car`` and ``foot`` flags (the README's "Road profiles" lists the rules). OSM classes
    map onto geogrid's seven: ``motorway``/``trunk`` → ``trunk``, ``primary``,
    ``secondary``, ``tertiary``, ``unclassified``/``residential``/``living_street``/
    ``road`` → ``residential``, ``service``/``track`` → ``service`` (``*_link`` as its
    road), ``footway``/``path``/``pedestrian``/``steps`` (and ``cycleway``/``bridleway``
    that allow walkers) → ``path``. ``oneway=-1`` reverses the geometry; motorways and
    roundabouts are one-way unless tagged otherwise; ``maxspeed`` in km/h (or mph)
    becomes ``speed_kmh``. Codes are ``osm-<way id>-<segment>``, stable across
    re-imports of the same extract.
Addresses
    Nodes and ways with ``addr:housenumber`` become gazetteer entries (a way at the mean of
    its nodes); the text is ``addr:full`` when present, else county (``addr:district``),
    town (``addr:subdistrict``/``addr:town``), village (``addr:village``/``addr:hamlet``),
    street and number, joined as written: no ``号`` is added to a house number (the
    matcher adds what it needs), and a space separates two parts in Latin script
    (``Eerikinkatu 10``), none Chinese ones. Codes are ``osm-n<id>`` / ``osm-w<id>``.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from pathlib import Path
from typing import Any, NamedTuple

import geopandas as gpd
import numpy as np
import osmium
import shapely

from geogrid.errors import IngestError
from geogrid.ingest.specs import LayerSpec

__all__ = ["HIGHWAY_CLASSES", "WALKWAY_CLASSES", "WayUse", "read_osm", "way_use"]

HIGHWAY_CLASSES = {
    "motorway": "trunk",
    "trunk": "trunk",
    "primary": "primary",
    "secondary": "secondary",
    "tertiary": "tertiary",
    "unclassified": "residential",
    "residential": "residential",
    "living_street": "residential",
    "road": "residential",
    "service": "service",
    "track": "service",
}
WALKWAY_CLASSES = {
    "footway": "path",
    "path": "path",
    "pedestrian": "path",
    "steps": "path",
}
"""Ways for walkers only; ``cycleway`` and ``bridleway`` join them when ``foot`` allows."""
SHARED_PATHS = {"cycleway", "bridleway"}
YES = {"yes", "true", "1"}
REVERSE = {"-1", "reverse"}
CLOSED = {"no", "private"}
FOOT_ALLOWED = {"yes", "designated", "permissive"}
CAR_TAGS = ("motorcar", "motor_vehicle", "vehicle", "access")  # most specific first
FOOT_TAGS = ("foot", "access")


class WayUse(NamedTuple):
    """Who may use an OSM way: its geogrid class, the two profiles, and one-way."""

    road_class: str
    car: bool
    foot: bool
    oneway: bool
    reverse: bool  # oneway=-1: the way is driven against its node order


def way_use(tags: dict[str, str]) -> WayUse | None:
    """Return how the profiles may use a way, or None when neither may.

    Examples
    --------
    >>> way_use({"highway": "residential", "oneway": "-1"})
    WayUse(road_class='residential', car=True, foot=True, oneway=True, reverse=True)
    >>> way_use({"highway": "service", "access": "private"}) is None
    True
    >>> way_use({"highway": "service", "motor_vehicle": "no"})
    WayUse(road_class='service', car=False, foot=True, oneway=False, reverse=False)
    >>> way_use({"highway": "cycleway", "foot": "designated"}).road_class
    'path'
    """
    if tags.get("area", "").lower() in YES:
        return None
    highway = tags.get("highway", "")
    base = highway.removesuffix("_link")
    if base in HIGHWAY_CLASSES:
        road_class = HIGHWAY_CLASSES[base]
        car = _allowed(tags, CAR_TAGS)
        foot = _allowed(tags, FOOT_TAGS)  # motorways too: a checkpoint on one guards it
    elif highway in WALKWAY_CLASSES or (
        highway in SHARED_PATHS and tags.get("foot") in FOOT_ALLOWED
    ):
        road_class, car, foot = "path", False, _allowed(tags, FOOT_TAGS)
    else:
        return None
    if not (car or foot):
        return None
    oneway_tag = tags.get("oneway", "").lower()
    reverse = oneway_tag in REVERSE
    implied = base == "motorway" or tags.get("junction") in ("roundabout", "circular")
    oneway = reverse or oneway_tag in YES or (implied and oneway_tag != "no")
    return WayUse(road_class, car, foot, oneway, reverse)


def _allowed(tags: dict[str, str], keys: tuple[str, ...]) -> bool:
    """Return False when the most specific of ``keys`` present says no or private."""
    for key in keys:
        value = tags.get(key)
        if value is not None:
            return value.strip().lower() not in CLOSED
    return True


def read_osm(path: Path, spec: LayerSpec) -> gpd.GeoDataFrame:
    """Return the roads or addresses of an OSM extract as a GeoDataFrame in EPSG:4326."""
    try:
        if spec.name == "roads":
            return _roads(path)
        if spec.name == "addresses":
            return _addresses(path)
    except RuntimeError as exc:  # libosmium reports broken files as RuntimeError
        raise IngestError(f"cannot be read as OpenStreetMap data ({exc})", path=str(path)) from exc
    raise IngestError(
        f"OpenStreetMap files hold roads and addresses, not {spec.name}", path=str(path)
    )


def _speed_kmh(value: str | None) -> float | None:
    """Parse ``maxspeed``.

    Examples
    --------
    >>> _speed_kmh("50"), _speed_kmh("30 mph"), _speed_kmh("signals")
    (50.0, 48.28, None)
    """
    if not value:
        return None
    found = re.match(r"\s*(\d+(?:\.\d+)?)\s*(mph)?", value)
    if not found:
        return None
    speed = float(found.group(1))
    return round(speed * 1.609344, 2) if found.group(2) else speed


def _roads(path: Path) -> gpd.GeoDataFrame:
    ways: list[tuple[int, dict[str, str], WayUse, list[int], list[tuple[float, float]]]] = []
    processor = osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
    for way in processor.with_locations():
        if not isinstance(way, osmium.osm.Way):
            continue
        tags = {tag.k: tag.v for tag in way.tags}
        use = way_use(tags)
        if use is None:
            continue
        refs, coords = [], []
        for node in way.nodes:
            if not node.location.valid():
                continue
            refs.append(node.ref)
            coords.append((node.location.lon, node.location.lat))
        if len(refs) >= 2:
            ways.append((way.id, tags, use, refs, coords))
    usage = Counter(ref for _, _, _, refs, _ in ways for ref in set(refs))
    records: list[dict[str, Any]] = []
    geometries: list[shapely.LineString] = []
    for way_id, tags, use, refs, coords in ways:
        cuts = [0] + [i for i in range(1, len(refs) - 1) if usage[refs[i]] > 1] + [len(refs) - 1]
        for segment, (start, end) in enumerate(itertools.pairwise(cuts)):
            part = coords[start : end + 1]
            if use.reverse:
                part = part[::-1]
            if len(set(part)) < 2:
                continue
            geometries.append(shapely.LineString(part))
            records.append(
                {
                    "code": f"osm-{way_id}-{segment}",
                    "name": tags.get("name:zh") or tags.get("name") or tags.get("ref"),
                    "road_class": use.road_class,
                    "speed_kmh": _speed_kmh(tags.get("maxspeed")),
                    "oneway": use.oneway,
                    "car": use.car,
                    "foot": use.foot,
                    "bridge": tags.get("bridge", "no").lower() not in ("no", ""),
                }
            )
    return gpd.GeoDataFrame(records, geometry=geometries, crs=4326)


def _join(parts: list[str | None]) -> str:
    """Join address parts as written: a space only between two non-Chinese characters.

    Examples
    --------
    >>> _join(["平阳县", None, "工业路", "18"]), _join(["Eerikinkatu", "10"])
    ('平阳县工业路18', 'Eerikinkatu 10')
    """
    text = ""
    for part in (p.strip() for p in parts if p and p.strip()):
        if text and not _is_cjk(text[-1]) and not _is_cjk(part[0]):
            text += " "
        text += part
    return text


def _is_cjk(char: str) -> bool:
    return "\u2e80" <= char <= "\u9fff" or "\uf900" <= char <= "\uffef"


ADDRESS_PARTS = (
    ("county", ("addr:district", "addr:county")),
    ("town", ("addr:subdistrict", "addr:town")),
    ("village", ("addr:village", "addr:hamlet", "addr:neighbourhood")),
    ("road", ("addr:street", "addr:place")),
    ("number", ("addr:housenumber",)),
    ("unit", ("addr:unit",)),
)


def _addresses(path: Path) -> gpd.GeoDataFrame:
    records: list[dict[str, Any]] = []
    points: list[shapely.Point] = []
    processor = osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
    for obj in processor.with_locations():
        tags = {tag.k: tag.v for tag in obj.tags}
        if "addr:housenumber" not in tags:
            continue
        if isinstance(obj, osmium.osm.Node):
            if not obj.location.valid():
                continue
            point = shapely.Point(obj.location.lon, obj.location.lat)
            code = f"osm-n{obj.id}"
        elif isinstance(obj, osmium.osm.Way):
            xy = [(n.location.lon, n.location.lat) for n in obj.nodes if n.location.valid()]
            if not xy:
                continue
            point = shapely.Point(np.mean(np.asarray(xy), axis=0))
            code = f"osm-w{obj.id}"
        else:  # the processor reads nodes and ways only
            continue
        parts = {
            key: next((tags[k] for k in keys if k in tags), None) for key, keys in ADDRESS_PARTS
        }
        full = tags.get("addr:full") or _join(
            [parts[key] for key in ("county", "town", "village", "road", "number")]
        )
        records.append({"code": code, "full_text": full, **parts})
        points.append(point)
    return gpd.GeoDataFrame(records, geometry=points, crs=4326)
