"""Search a gazetteer index for the places a parsed address may refer to.

Private helper of :mod:`geogrid.spatial.addresses.match`: it proposes options (a
village, maybe a road and a house in it) with a quality in (0, 1] and a confidence
cap; the matcher ranks them and turns the best into an answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from pypinyin import Style, pinyin
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from geogrid.spatial.addresses._index import (
    AddressIndex,
    Point,
    RoadKey,
    Row,
    TownKey,
    VillageKey,
)
from geogrid.spatial.addresses.text import ParsedAddress

__all__: list[str] = []

CAP_FUZZY_VILLAGE = 0.75
CAP_INFERRED = 0.9
CAP_FUZZY_ROAD_INFERRED = 0.75
CAP_TOWN_CONFLICT = 0.55
TOWN_UNKNOWN = 0.75
SUFFIX_OMITTED = 0.97  # '和湖' for '和湖村'
ROAD_TYPE = 0.95  # '宁泰路' for '宁泰街'
_ROAD_TYPE = re.compile(r"(?:大道|大街|大路|公路|路|街|巷|弄|道)$")


@dataclass(slots=True)
class Option:
    """One village (and maybe road and house) the address could be in."""

    village: VillageKey
    quality: float
    cap: float
    method: str
    road: RoadKey | None = None
    require_road: bool = False
    exact_road: bool = False
    written: bool = False  # the village name was found as written
    depth: int = 1
    row: Row | None = None
    point: Point | None = None
    notes: list[str] = field(default_factory=list)
    homophone: bool = False  # the village was found through a homophone, not a typo

    def order(self) -> tuple[int, float, VillageKey, RoadKey | tuple[()], Row]:
        row = self.row if self.row is not None else ("", -1)
        return (-self.depth, -self.quality, self.village, self.road or (), row)


def road_stem(name: str) -> str:
    """A road name without its type word: '宁泰' for '宁泰街', '昆万' for '昆万大道'."""
    stem = _ROAD_TYPE.sub("", name)
    return stem if len(stem) >= 2 else name


@lru_cache(maxsize=4096)
def _readings(ch: str) -> frozenset[str]:
    """The toneless readings of a character, with z/zh, c/ch, s/sh, -en/-eng, -in/-ing
    folded (how southern speakers hear them)."""
    out = set()
    for reading in pinyin(ch, style=Style.NORMAL, heteronym=True)[0]:
        folded = reading
        for retro, flat in (("zh", "z"), ("ch", "c"), ("sh", "s")):
            if folded.startswith(retro):
                folded = flat + folded[2:]
        if folded.endswith(("eng", "ing")):
            folded = folded[:-1]
        out.add(folded)
    return frozenset(out)


@lru_cache(maxsize=65536)
def homophone(a: str, b: str) -> bool:
    """Whether two names of equal length differ only by characters that sound alike."""
    if len(a) != len(b) or a == b:
        return False
    return all(x == y or _readings(x) & _readings(y) for x, y in zip(a, b, strict=True))


def slip_note(written: str, found: str, part: str) -> str:
    """Say how ``written`` differs from the name ``found`` (one of the gazetteer's)."""
    if homophone(written, found):
        return f"homophone in {part} ({written} for {found})"
    count = Levenshtein.distance(written, found)
    words = "one-character" if count == 1 else f"{count}-character"
    return f"{words} typo in {part} ({written} for {found})"


def max_edits(name: str) -> int:
    return 0 if len(name) <= 2 else 1 if len(name) <= 6 else 2


def fuzzy(query: str, choices: Sequence[str]) -> list[tuple[str, int]]:
    """Names within the allowed edit distance of ``query``, closest first."""
    limit = max_edits(query)
    if limit == 0 or not choices:
        return []
    hits = process.extract(
        query, choices, scorer=Levenshtein.distance, score_cutoff=limit, limit=None
    )
    found = [(str(name), int(d)) for name, d, _ in hits if d > 0]
    if not found:
        return []
    best = min(d for _, d in found)
    return sorted((name, d) for name, d in found if d == best)


class AddressSearch:
    """Finds the villages, roads and houses a parsed address may refer to."""

    def __init__(self, index: AddressIndex) -> None:
        self._index = index
        self._all_villages = sorted(index.village_names)

    def resolve_all(self, options: list[Option], parsed: ParsedAddress) -> list[Option]:
        return [o for o in (self.resolve(o, parsed) for o in options) if o is not None]

    def towns(self, parsed: ParsedAddress) -> tuple[list[TownKey] | None, float, list[str]]:
        """The towns to search (``None``: all), how much the town text is trusted, and why."""
        index = self._index
        county = parsed.county if parsed.county in index.vocabulary.counties else None
        if parsed.town is None:
            if county is None:
                return None, 0.97, ["town omitted"]
            return [k for k in index.towns if k[0] == county], 0.97, ["town omitted"]
        keys = [k for k in index.town_names.get(parsed.town, []) if county in (None, k[0])]
        if keys:
            return keys, 1.0, []
        near = fuzzy(parsed.town, sorted(index.town_names))
        if len(near) == 1:
            note = slip_note(parsed.town, near[0][0], "town")
            return index.town_names[near[0][0]], 0.92, [note]
        # a town the gazetteer does not know contradicts whatever village is found
        return None, TOWN_UNKNOWN, [f"town not in the gazetteer ({parsed.town})"]

    def village_options(self, parsed: ParsedAddress, scope: list[TownKey] | None) -> list[Option]:
        index = self._index
        if parsed.village:
            names = [(parsed.village, 1.0)]
            if not parsed.village.endswith(("村", "社区")):
                names += [(parsed.village + "村", 0.95), (parsed.village + "社区", 0.95)]
            exact = [
                Option(
                    key,
                    quality,
                    1.0,
                    "components",
                    written=True,
                    notes=[] if name == parsed.village else ["village written without 村/社区"],
                )
                for name, quality in names
                for key in index.village_names.get(name, [])
                if scope is None or key[:2] in scope
            ]
            if exact:
                return exact
            # the village is not in the written town: a typo within the town, or the
            # right village with the wrong town; both stay below 0.8
            elsewhere = []
            if scope is not None:
                elsewhere = [
                    Option(
                        key,
                        0.8 * quality,
                        CAP_TOWN_CONFLICT,
                        "town_conflict",
                        notes=["village is not in the town written"],
                    )
                    for name, quality in names
                    for key in index.village_names.get(name, [])
                ]
            near = self.fuzzy_villages(parsed.village, scope, exclude=set())
            if not parsed.village.endswith(("村", "社区")):
                for suffix in ("村", "社区"):
                    for option in self.fuzzy_villages(parsed.village + suffix, scope, set()):
                        option.quality *= SUFFIX_OMITTED
                        option.notes.append("village written without 村/社区")
                        near.append(option)
            return near + elsewhere
        if not parsed.road:
            return []
        roads = self.roads_in(scope)
        keys = list(roads.get(parsed.road, []))
        inferred = "village inferred from the road"
        if keys:
            return [
                Option(k[:3], 1.0, CAP_INFERRED, "inferred", road=k, notes=[inferred]) for k in keys
            ]
        stem = road_stem(parsed.road)
        same_stem = [n for n in roads if n != parsed.road and road_stem(n) == stem]
        if same_stem:
            return [
                Option(
                    k[:3],
                    ROAD_TYPE,
                    CAP_FUZZY_ROAD_INFERRED,
                    "fuzzy",
                    road=k,
                    notes=[inferred, f"road type differs ({parsed.road} for {n})"],
                )
                for n in same_stem
                for k in roads[n]
            ]
        options = []
        for name, distance in fuzzy(parsed.road, sorted(roads)):
            quality = 0.9 if distance == 1 else 0.8
            note = slip_note(parsed.road, name, "road")
            options += [
                Option(
                    k[:3], quality, CAP_FUZZY_ROAD_INFERRED, "fuzzy", road=k, notes=[inferred, note]
                )
                for k in roads[name]
            ]
        return options

    def roads_in(self, scope: list[TownKey] | None) -> dict[str, list[RoadKey]]:
        index = self._index
        if scope is None:
            return index.road_names
        if len(scope) == 1:
            return index.towns[scope[0]].roads
        merged: dict[str, list[RoadKey]] = {}
        for town in scope:
            for name, keys in index.towns[town].roads.items():
                merged.setdefault(name, []).extend(keys)
        return merged

    def fuzzy_villages(
        self, name: str, scope: list[TownKey] | None, exclude: set[VillageKey]
    ) -> list[Option]:
        index = self._index
        if scope is None:
            choices = self._all_villages
        else:
            choices = sorted({v for t in scope for v in index.towns[t].villages})
        options = []
        for near, distance in fuzzy(name, choices):
            sounds = homophone(name, near)
            quality = 0.95 if sounds else 0.9 if distance == 1 else 0.8
            note = slip_note(name, near, "village")
            for key in index.village_names[near]:
                if (scope is None or key[:2] in scope) and key not in exclude:
                    options.append(
                        Option(
                            key,
                            quality,
                            CAP_FUZZY_VILLAGE,
                            "fuzzy",
                            require_road=True,
                            notes=[note],
                            homophone=sounds,
                        )
                    )
        return options

    def resolve(self, option: Option, parsed: ParsedAddress) -> Option | None:
        """Find the road and house within the option's village; ``None`` drops it."""
        index = self._index
        village = index.villages[option.village]
        option.point = village.point
        if option.road is None and parsed.road:
            key = village.roads.get(parsed.road)
            number = parsed.door
            lacks_number = key is not None and number and number not in index.doors(key)
            if (key is None or lacks_number) and not option.exact_road:
                stem = road_stem(parsed.road)
                same = [
                    n
                    for n in village.roads
                    if n != parsed.road
                    and road_stem(n) == stem
                    and (not number or number in index.doors(village.roads[n]))
                ]
                if len(same) == 1:
                    key, lacks_number = village.roads[same[0]], False
                    option.quality *= ROAD_TYPE
                    option.notes.append(f"road type differs ({parsed.road} for {same[0]})")
            if (key is None or lacks_number) and not option.exact_road:
                near = fuzzy(parsed.road, sorted(village.roads))
                if number and (len(near) > 1 or lacks_number):
                    # a road that has the number beats one that does not
                    near = [n for n in near if number in index.doors(village.roads[n[0]])]
                if len(near) == 1:
                    key = village.roads[near[0][0]]
                    option.quality *= 0.9 if near[0][1] == 1 else 0.8
                    option.notes.append(slip_note(parsed.road, near[0][0], "road"))
                    if option.method == "components":
                        option.method = "fuzzy"
            option.road = key
        if option.road is None and not parsed.road and parsed.door:
            holders = [k for k in village.roads.values() if parsed.door in index.doors(k)]
            if len(holders) == 1:
                option.road = holders[0]
                option.quality *= 0.9
                option.notes.append("road omitted: the only road of the village with that door")
        if option.road is None:
            if option.require_road and parsed.road:
                return None
            return option
        road = index.roads[option.road]
        doors = index.doors(option.road)
        option.depth, option.point = 2, road.point
        number = parsed.door
        quality = 1.0
        if number is None and parsed.building and parsed.building in doors:
            number, quality = parsed.building, 0.85  # '18号楼' written for house 18
            option.notes.append("building number read as the door number")
        rows = doors.get(number or "")
        if not rows:
            option.point = index.nearest_house_point(option.road, number)
            if number:
                option.notes.append(f"no door {number} on the road: its nearest door's point")
            return option
        row, sub_quality = self.pick_house(option.road[0], rows, parsed)
        if sub_quality < 1.0 and (parsed.building or parsed.unit or parsed.room):
            option.notes.append("building, unit or room not found as written")
        option.depth, option.row, option.point = 3, row, index.point(row)
        option.quality *= quality * sub_quality
        return option

    def pick_house(self, county: str, rows: list[int], parsed: ParsedAddress) -> tuple[Row, float]:
        """Choose among the rows of one door plate (in ``county``) by building, unit and room."""
        if len(rows) == 1 and not (parsed.building or parsed.unit or parsed.room):
            return (county, rows[0]), 1.0
        subs = [self._index.subs((county, r)) for r in rows]
        wanted = (parsed.building or "", parsed.unit or "", parsed.room or "")
        for fields, quality in (
            (wanted, 1.0),
            ((wanted[1], wanted[0], wanted[2]), 0.95),  # building and unit swapped
            ((wanted[0], wanted[1], ""), 0.9),
            ((wanted[0], "", ""), 0.9),
            (("", "", ""), 0.9),
        ):
            given = [(i, f) for i, f in enumerate(fields) if f]
            fitting = [k for k, sub in enumerate(subs) if all(sub[i] == f for i, f in given)]
            if fitting:
                best = min(fitting, key=lambda k: (sum(map(bool, subs[k])), rows[k]))
                exact = subs[best] == fields
                exact_quality = 1.0 if exact or len(fitting) == 1 else 0.97
                return (county, rows[best]), quality * exact_quality
        return (county, rows[0]), 0.9
