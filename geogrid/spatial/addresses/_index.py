"""In-memory index of a standard-address gazetteer, used by :mod:`geogrid.spatial.addresses.match`.

Private: build it with :meth:`geogrid.spatial.addresses.AddressMatcher.from_gazetteer`.
Every name in the index is in normalised spelling (:func:`normalize_address`); the
spelling of the gazetteer is kept alongside for display.

The index has two tiers. The *names* (towns, villages, roads with their points, the
vocabulary) are small and held whole; the *doors* (one :class:`CountyHouses` per county:
each standard address's code, text, point, sub-numbers, and the exact-text table) are
most of the memory and are read through ``houses``, a mapping from county name that may
load a county only when an address needs it (:mod:`geogrid.workspace.county_addresses`).
A row is named ``(county, row within the county)``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
import shapely

from geogrid.errors import IngestError
from geogrid.spatial.addresses.normalize import normalize_address
from geogrid.spatial.addresses.text import AddressVocabulary

__all__: list[str] = []

TownKey = tuple[str, str]  # (county, town)
VillageKey = tuple[str, str, str]  # (county, town, village)
RoadKey = tuple[str, str, str, str]  # (county, town, village, road)
Point = tuple[float, float]
Row = tuple[str, int]  # (county, row within the county's houses)

REQUIRED = ("code", "full_text", "county", "town", "village", "road", "number")
SUB_COMPONENTS = ("building", "unit", "room")
_STRIP = {"number": "号", "building": "幢", "unit": "单元", "room": "室"}


def component(kind: str, value: object) -> str:
    """Normalise one gazetteer component (``'18号'`` and ``'18'`` both give ``'18'``)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = normalize_address(str(value))
    suffix = _STRIP.get(kind)
    if suffix and text.endswith(suffix) and len(text) > len(suffix):
        text = text[: -len(suffix)]
    return text


def leading_int(number: str) -> int | None:
    """Return the integer a house number starts with (``'18-2'`` gives 18)."""
    digits = ""
    for ch in number:
        if not ch.isdigit():
            break
        digits += ch
    return int(digits) if digits else None


@dataclass(slots=True)
class RoadEntry:
    name: str
    point: Point


_NO_DOORS: dict[str, list[int]] = {}


@dataclass(slots=True)
class CountyHouses:
    """The doors of one county: its standard addresses' rows, by road and by exact text."""

    county: str
    codes: np.ndarray
    full_texts: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    building: np.ndarray
    unit: np.ndarray
    room: np.ndarray
    road_id: np.ndarray  # row -> position in road_keys
    road_keys: list[RoadKey]
    doors: dict[RoadKey, dict[str, list[int]]]  # road -> door number -> rows
    numeric: dict[RoadKey, tuple[np.ndarray, np.ndarray]]  # road -> (door ints, rows)
    exact: dict[str, int]  # the canonical text without the county -> its first row

    def __len__(self) -> int:
        return len(self.codes)


@dataclass(slots=True)
class VillageEntry:
    name: str
    point: Point
    roads: dict[str, RoadKey] = field(default_factory=dict)


@dataclass(slots=True)
class TownEntry:
    name: str
    county: str
    point: Point | None
    villages: dict[str, VillageKey] = field(default_factory=dict)
    roads: dict[str, list[RoadKey]] = field(default_factory=dict)


@dataclass(slots=True)
class AddressIndex:
    """Lookup tables over one gazetteer: the names, and the doors through ``houses``."""

    towns: dict[TownKey, TownEntry]
    villages: dict[VillageKey, VillageEntry]
    roads: dict[RoadKey, RoadEntry]
    town_names: dict[str, list[TownKey]]
    village_names: dict[str, list[VillageKey]]
    road_names: dict[str, list[RoadKey]]
    vocabulary: AddressVocabulary
    county_order: tuple[str, ...]
    """Counties holding addresses, in the gazetteer's order (the first holds row 0)."""
    houses: Mapping[str, CountyHouses]
    """County name -> its doors; may load a county on first use."""

    def doors(self, key: RoadKey) -> dict[str, list[int]]:
        """Door number -> rows of a road (empty for a road without addresses)."""
        if key[0] not in self.county_order:
            return _NO_DOORS
        return self.houses[key[0]].doors.get(key, _NO_DOORS)

    def subs(self, row: Row) -> tuple[str, str, str]:
        """Building, unit and room of a row (``""`` where absent)."""
        h = self.houses[row[0]]
        return (h.building[row[1]], h.unit[row[1]], h.room[row[1]])

    def road_of(self, row: Row) -> RoadKey:
        h = self.houses[row[0]]
        return h.road_keys[h.road_id[row[1]]]

    def point(self, row: Row) -> Point:
        h = self.houses[row[0]]
        return (float(h.lon[row[1]]), float(h.lat[row[1]]))

    def code(self, row: Row) -> str:
        return str(self.houses[row[0]].codes[row[1]])

    def full_text(self, row: Row) -> str:
        return str(self.houses[row[0]].full_texts[row[1]])

    def nearest_house_point(self, key: RoadKey, number: str | None) -> Point:
        """Point of the house on a road whose number is closest to ``number``."""
        road = self.roads[key]
        wanted = leading_int(number) if number else None
        numeric = self.houses[key[0]].numeric.get(key) if key[0] in self.county_order else None
        if wanted is None or numeric is None:
            return road.point
        values, rows = numeric
        at = int(np.argmin(np.abs(values - wanted)))
        return self.point((key[0], int(rows[at])))

    def exact_row(self, text: str, county: str | None) -> Row | None:
        """The first row whose canonical text (without the county) is ``text``: in
        ``county`` when the text named it, else in the first county (gazetteer order) that
        has the text's town, village and road. Only those counties' doors are read."""
        candidates = {county} if county is not None else self._exact_counties(text)
        for name in self.county_order:
            if name in candidates:
                row = self.houses[name].exact.get(text)
                if row is not None:
                    return (name, row)
        return None

    def _exact_counties(self, text: str) -> set[str]:
        """Counties with a road whose town, village and road names start ``text``."""
        found: set[str] = set()
        for length in self.vocabulary.towns.lengths:  # every town name's length, and more
            for town_key in self.town_names.get(text[:length], ()):
                rest = text[length:]
                for village, village_key in self.towns[town_key].villages.items():
                    if rest.startswith(village):
                        after = rest[len(village) :]
                        if any(after.startswith(r) for r in self.villages[village_key].roads):
                            found.add(town_key[0])
        return found

    def names_only(self) -> AddressIndex:
        """This index without its doors (to pickle the names alone)."""
        return replace(self, houses={})


def _medoids(ids: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> list[Point]:
    """For each group id, the member point nearest the group's coordinate-wise median."""
    frame = pd.DataFrame({"g": ids, "x": lon, "y": lat})
    medians = frame.groupby("g")[["x", "y"]].transform("median")
    scale = np.cos(np.radians(np.nan_to_num(lat, nan=0.0)))
    distance = ((frame["x"] - medians["x"]) * scale) ** 2 + (frame["y"] - medians["y"]) ** 2
    best = distance.fillna(0.0).groupby(frame["g"]).idxmin().sort_index()
    return [(float(lon[row]), float(lat[row])) for row in best.to_numpy()]


def _coordinates(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    if "geometry" in frame:
        geometry = frame["geometry"]
        crs = getattr(frame, "crs", None)
        if crs is not None and crs.to_epsg() != 4326:
            geometry = frame.to_crs(4326)["geometry"]  # type: ignore[attr-defined]
        values = np.asarray(geometry.values, dtype=object)
        return shapely.get_x(values), shapely.get_y(values)
    if {"lon", "lat"} <= set(frame.columns):
        return frame["lon"].to_numpy(float), frame["lat"].to_numpy(float)
    raise IngestError("the gazetteer needs a point geometry (or lon and lat)", column="geometry")


def build_index(frame: pd.DataFrame, villages: pd.DataFrame | None) -> AddressIndex:
    """Build the lookup tables from a gazetteer frame and optional village polygons."""
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise IngestError(
            f"the gazetteer lacks the column(s) {', '.join(missing)}", column=missing[0]
        )
    lon, lat = _coordinates(frame)
    n = len(frame)
    columns: dict[str, np.ndarray] = {}
    display: dict[str, dict[str, str]] = {}
    for kind in (*REQUIRED[2:], *SUB_COMPONENTS):
        raw = frame[kind] if kind in frame.columns else pd.Series([None] * n)
        values = raw.astype(object).where(raw.notna(), None)
        names = {v: component(kind, v) for v in values.unique()}
        columns[kind] = values.map(names).to_numpy(dtype=object)
        display[kind] = {}
        for raw_name, name in names.items():
            display[kind].setdefault(name, "" if raw_name is None else str(raw_name))
    keys = pd.DataFrame({k: columns[k] for k in ("county", "town", "village", "road", "number")})
    town_id = keys.groupby(["county", "town"], sort=False).ngroup().to_numpy()
    village_id = keys.groupby(["county", "town", "village"], sort=False).ngroup().to_numpy()
    road_id = keys.groupby(["county", "town", "village", "road"], sort=False).ngroup().to_numpy()
    town_points = _medoids(town_id, lon, lat)
    village_points = _medoids(village_id, lon, lat)
    road_points = _medoids(road_id, lon, lat)

    towns: dict[TownKey, TownEntry] = {}
    villages_: dict[VillageKey, VillageEntry] = {}
    roads: dict[RoadKey, RoadEntry] = {}
    road_keys: list[RoadKey] = []
    for r, row in enumerate(np.unique(road_id, return_index=True)[1]):
        c, t, v, name = (str(columns[k][row]) for k in ("county", "town", "village", "road"))
        tk, vk, rk = (c, t), (c, t, v), (c, t, v, name)
        road_keys.append(rk)
        if tk not in towns:
            point = town_points[town_id[row]]
            towns[tk] = TownEntry(display["town"][t], display["county"][c], point)
        if vk not in villages_:
            villages_[vk] = VillageEntry(display["village"][v], village_points[village_id[row]])
            towns[tk].villages[v] = vk
        roads[rk] = RoadEntry(display["road"][name], road_points[r])
        villages_[vk].roads[name] = rk
        towns[tk].roads.setdefault(name, []).append(rk)
    if villages is not None:
        _add_village_polygons(villages, towns, villages_)

    building, unit, room = (columns[k] for k in SUB_COMPONENTS)
    # the canonical spelling without the county
    exact_keys = columns["town"] + columns["village"] + columns["road"] + columns["number"] + "号"
    for values, word in ((building, "幢"), (unit, "单元"), (room, "室")):
        exact_keys = exact_keys + np.where(values != "", values + word, "")
    houses = _split_houses(frame, lon, lat, columns, road_id, road_keys, exact_keys.astype(object))
    return _named(towns, villages_, roads, tuple(houses), houses)


def _named(
    towns: dict[TownKey, TownEntry],
    villages: dict[VillageKey, VillageEntry],
    roads: dict[RoadKey, RoadEntry],
    county_order: tuple[str, ...],
    houses: Mapping[str, CountyHouses],
) -> AddressIndex:
    """An index over these names (the lookups by name and the vocabulary derived)."""
    return AddressIndex(
        towns=towns,
        villages=villages,
        roads=roads,
        town_names=_by_name(towns, 1),
        village_names=_by_name(villages, 2),
        road_names=_by_name(roads, 3),
        vocabulary=AddressVocabulary(
            counties=[k[0] for k in towns],
            towns=[k[1] for k in towns],
            villages=[k[2] for k in villages],
            roads=[k[3] for k in roads],
        ),
        county_order=county_order,
        houses=houses,
    )


def merge_indexes(
    parts: Iterable[AddressIndex], houses: Mapping[str, CountyHouses]
) -> AddressIndex:
    """One index over the names of several (each built from whole counties, no county in
    two parts), reading doors through ``houses``.

    Equal to the index built from all their rows at once when each part was built with
    its own county's village polygons.
    """
    towns: dict[TownKey, TownEntry] = {}
    villages: dict[VillageKey, VillageEntry] = {}
    roads: dict[RoadKey, RoadEntry] = {}
    order: list[str] = []
    for part in parts:
        towns.update(part.towns)
        villages.update(part.villages)
        roads.update(part.roads)
        order += [c for c in part.county_order if c not in order]
    return _named(towns, villages, roads, tuple(order), houses)


def _split_houses(
    frame: pd.DataFrame,
    lon: np.ndarray,
    lat: np.ndarray,
    columns: dict[str, np.ndarray],
    road_id: np.ndarray,
    road_keys: list[RoadKey],
    exact_keys: np.ndarray,
) -> dict[str, CountyHouses]:
    """Each county's rows as its own :class:`CountyHouses` (counties in row order)."""
    codes = frame["code"].astype(str).to_numpy(dtype=object)
    full_texts = frame["full_text"].astype(str).to_numpy(dtype=object)
    county = columns["county"]
    out: dict[str, CountyHouses] = {}
    ids, names = pd.factorize(county)
    by_county = np.argsort(ids, kind="stable")
    bounds = np.searchsorted(ids[by_county], np.arange(len(names) + 1))
    for i, name in enumerate(names):
        rows = by_county[bounds[i] : bounds[i + 1]]
        local_ids, local_road = np.unique(road_id[rows], return_inverse=True)
        keys = [road_keys[r] for r in local_ids]
        at = np.arange(len(rows))
        house = CountyHouses(
            county=str(name),
            codes=codes[rows],
            full_texts=full_texts[rows],
            lon=np.asarray(lon, dtype=float)[rows],
            lat=np.asarray(lat, dtype=float)[rows],
            building=columns["building"][rows],
            unit=columns["unit"][rows],
            room=columns["room"][rows],
            road_id=local_road,
            road_keys=keys,
            doors={},
            numeric={},
            exact=dict(zip(exact_keys[rows][::-1].tolist(), at[::-1].tolist(), strict=True)),
        )
        _add_houses(house, columns["number"][rows])
        out[str(name)] = house
    return out


def _add_houses(house: CountyHouses, number: np.ndarray) -> None:
    """Fill each road's number → rows table and its sorted numeric house numbers."""
    pairs = pd.DataFrame({"r": house.road_id, "n": number})
    keys = house.road_keys
    for (r, label), rows in pairs.groupby(["r", "n"], sort=False).indices.items():
        house.doors.setdefault(keys[r], {})[label] = rows.tolist()
    first = pairs.drop_duplicates(["r", "n"])
    values = {label: leading_int(label) for label in first["n"].unique()}
    first = first.assign(v=first["n"].map(values)).dropna(subset=["v"])
    for r, at in first.groupby("r", sort=False).indices.items():
        house.numeric[keys[r]] = (
            first["v"].to_numpy(dtype=float)[at],
            first.index.to_numpy()[at],
        )


def _by_name(entries: dict[Any, Any], position: int) -> dict[str, list[Any]]:
    names: dict[str, list[Any]] = {}
    for key in entries:
        names.setdefault(key[position], []).append(key)
    return names


def _add_village_polygons(
    polygons: pd.DataFrame,
    towns: dict[TownKey, TownEntry],
    villages: dict[VillageKey, VillageEntry],
) -> None:
    """Use polygons' representative points, and learn villages that have no address."""
    name_column = "village" if "village" in polygons.columns else "name"
    if name_column not in polygons.columns or "town" not in polygons.columns:
        raise IngestError("village polygons need 'town' and 'village' (or 'name')", column="town")
    crs = getattr(polygons, "crs", None)
    if crs is not None and crs.to_epsg() != 4326:
        polygons = polygons.to_crs(4326)  # type: ignore[attr-defined]
    points = shapely.point_on_surface(np.asarray(polygons["geometry"].values, dtype=object))
    counties_by_town: dict[str, list[TownKey]] = {}
    for key in towns:
        counties_by_town.setdefault(key[1], []).append(key)
    has_county = "county" in polygons.columns
    for i, (town_raw, village_raw) in enumerate(
        zip(polygons["town"].tolist(), polygons[name_column].tolist(), strict=True)
    ):
        town, village = component("town", town_raw), component("village", village_raw)
        if not town or not village or points[i] is None or shapely.is_empty(points[i]):
            continue
        known = counties_by_town.get(town, [])
        county = known[0][0] if len(known) == 1 else ""
        if has_county:  # the county stated, where there is one
            county = component("county", polygons["county"].iloc[i]) or county
        point = (float(shapely.get_x(points[i])), float(shapely.get_y(points[i])))
        tk, vk = (county, town), (county, town, village)
        if tk not in towns:
            towns[tk] = TownEntry(str(town_raw), county, None)
        if vk in villages:
            villages[vk].point = point
        else:
            villages[vk] = VillageEntry(str(village_raw), point)
            towns[tk].villages[village] = vk
    for entry in towns.values():
        if entry.point is None and entry.villages:
            first = next(iter(entry.villages.values()))
            entry.point = villages[first].point
