"""Match declared addresses against the standard-address gazetteer.

:class:`AddressMatcher` answers *where is this address* with an :class:`AddressMatch`
that says at which level it matched (``house``, ``road``, ``village``, ``town`` or
``none``), how confident it is, and which gazetteer entry it used.

The search goes from strict to loose: the whole normalised text as a key, then the
parsed components (a town, a village within it, a road within the village, a house
number on the road), allowing one-character typos in town, village and road names
(a homophone, heard over the phone, counts less than another slip), a village name
without 村/社区 and a road written with another type word (``宁泰路`` for ``宁泰街``).
What cannot be found falls back to the road's, the village's or the town's
representative point. Chatter before the address (``你好，我是…的``) is skipped up to
the first known name, filler (``附近``, ``门口``) is dropped; both are reported as
``ignored``.

An address that names a place outside the county — a county the gazetteer does not hold
(``苍南县``, ``瑞安市``), or a town or city of the ``elsewhere`` list, with or without
its suffix (``灵溪镇``, ``龙港``) — gets no village (method ``elsewhere``), even when a
village or road name after it also exists in the county.

Confidence is calibrated against two rules: at ``confidence >= 0.8`` the village is
right, and at 0.5 to 0.8 it is right too but something was repaired (0 exceptions on
the hand-written set ``tests/data/address_eval.csv`` and on
``benchmarks/address_match.py``). It is a level base (house 1.0, road 0.92, village
0.86) times the quality of each repair (0.9 per one-character slip, 0.95 per homophone
or road type), under caps that keep doubtful villages below 0.8:

- a village name matched with a slip: 0.75; a road matched with a slip when the
  village is inferred from the road: 0.75; a village inferred from an exact road: 0.9;
- a village name with a slip and no road or door to confirm it: 0.6 for a homophone,
  0.45 for another slip;
- the text names a town the gazetteer does not know, or its ignored words name a
  county, town or district: 0.45;
- a written village that another real village one slip away explains as well (the
  road, or the house, is there too): 0.7;
- a village found in a town other than the one written: 0.55; the written town
  is unknown: quality 0.75;
- a village-level answer although the text names a road the village lacks: 0.75;
- another village explains the text almost as well: 0.7; less well (no such number
  or road there): 0.85; equally well: no village at all (see below);
- town level: 0.45; nothing: 0.

Every answer lists its ``reasons`` (``town omitted``, ``homophone in village (默里 for
墨里村)``, ``road type differs (...)``) and the ``ignored`` words.

An address in a village the gazetteer does not know is not put in another village: it
falls back to its town, or to nothing. When several villages explain the text equally
well (a village name that repeats across towns, the town missing) the answer drops to
what they share, their town or nothing, and lists them as ``candidates``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Literal

import geopandas as gpd
import pandas as pd

from geogrid.spatial.addresses._index import AddressIndex, Point, TownKey, build_index
from geogrid.spatial.addresses._search import AddressSearch, Option
from geogrid.spatial.addresses.aliases import ALIAS_CONFIDENCE, Alias
from geogrid.spatial.addresses.elsewhere import (
    PINGYANG_ENCLOSING,
    WENZHOU_AND_NEIGHBOURS,
    OutsidePlaces,
)
from geogrid.spatial.addresses.normalize import dropped_words, normalize_address
from geogrid.spatial.addresses.text import ParsedAddress, parse_address

__all__ = ["AddressCandidate", "AddressMatch", "AddressMatcher", "MatchLevel"]

MatchLevel = Literal["house", "road", "village", "town", "none"]

_DEPTH_LEVEL: dict[int, MatchLevel] = {3: "house", 2: "road", 1: "village"}
_LEVEL_BASE = {3: 1.0, 2: 0.92, 1: 0.86}
_TOWN_ONLY = 0.45
_CAP_ROAD_NOT_IN_VILLAGE = 0.75
_CAP_RUNNER_UP_CLOSE = 0.7  # another village explains the text as far, a little worse
_CAP_RUNNER_UP_FAR = 0.85  # another village explains less of it (no such number or road)
_TIE = 0.02
_CAP_UNCONFIRMED = 0.45  # a village with a typo, nothing else written to confirm it
_CAP_UNCONFIRMED_HOMOPHONE = 0.6  # the same with a homophone: what a phone call gives
_CAP_FOREIGN = 0.45  # the text names a town or place the gazetteer does not know


@dataclass(frozen=True, slots=True)
class AddressCandidate:
    """One possible place for an address, when more than one is plausible."""

    level: MatchLevel
    score: float
    point: Point | None
    code: str | None
    full_text: str | None
    town: str | None
    village: str | None
    road: str | None


@dataclass(frozen=True, slots=True)
class AddressMatch:
    """Where an address is, how it was found, and how sure the matcher is.

    Attributes
    ----------
    text, normalized
        The address as given and as normalised.
    level
        The finest level that matched: ``house``, ``road``, ``village``, ``town``
        or ``none``.
    confidence
        In [0, 1]; at or above 0.8 the village is right.
    point
        ``(lon, lat)`` in WGS 84 (EPSG:4326), or ``None`` when nothing matched.
    code, full_text
        The gazetteer entry used at house level, else ``None``.
    county, town, village, road
        Names of the matched places as the gazetteer spells them.
    parsed
        The components read from the text.
    method
        How the answer was found: ``exact``, ``components``, ``fuzzy``, ``inferred``,
        ``town_conflict``, ``ambiguous``, ``town``, ``unmatched``, or ``correction``
        (an operator's correction of this very text, see :mod:`.aliases`).
    candidates
        The top alternatives, best first, when more than one village was plausible.
    reasons
        Why the confidence is what it is, in short phrases: ``town omitted``,
        ``homophone in village (默里 for 墨里村)``, ``road type differs (...)``,
        ``names a place outside the county (苍南县)``...
    ignored
        Words of the text that played no part in the match: chatter, filler such as
        ``附近`` or ``门口``, a name the parser could not place.
    """

    text: str
    normalized: str
    level: MatchLevel
    confidence: float
    point: Point | None
    code: str | None
    full_text: str | None
    county: str | None
    town: str | None
    village: str | None
    road: str | None
    parsed: ParsedAddress
    method: str
    candidates: tuple[AddressCandidate, ...] = ()
    reasons: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()


class AddressMatcher:
    """Match addresses to a standard-address gazetteer held in memory.

    Build it with :meth:`from_gazetteer`.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({
    ...     "code": ["A1", "A2"],
    ...     "full_text": ["平阳县鳌江镇曾山村工业路18号", "平阳县鳌江镇曾山村工业路20号"],
    ...     "county": "平阳县", "town": "鳌江镇", "village": "曾山村", "road": "工业路",
    ...     "number": ["18", "20"], "lon": [120.58, 120.59], "lat": [27.59, 27.60]})
    >>> matcher = AddressMatcher.from_gazetteer(frame)
    >>> m = matcher.match("鳌江镇曾山村工业路十八号")
    >>> (m.level, m.code, m.confidence >= 0.8, m.point)
    ('house', 'A1', True, (120.58, 27.59))
    >>> matcher.match("鳌江镇新华村工业路18号").level  # unknown village: not placed in 曾山村
    'town'
    """

    def __init__(
        self,
        index: AddressIndex,
        *,
        top_k: int = 5,
        elsewhere: Iterable[str] = WENZHOU_AND_NEIGHBOURS,
        enclosing: Iterable[str] = PINGYANG_ENCLOSING,
    ) -> None:
        self._index = index
        self._top_k = top_k
        self._search = AddressSearch(index)
        self._counties = sorted({k[0] for k in index.towns if k[0]}, key=len, reverse=True)
        self._places = OutsidePlaces(elsewhere, enclosing, index.vocabulary)
        self._aliases: Mapping[str, Alias] = {}

    @classmethod
    def from_gazetteer(
        cls,
        frame: pd.DataFrame,
        villages: pd.DataFrame | None = None,
        *,
        top_k: int = 5,
        elsewhere: Iterable[str] = WENZHOU_AND_NEIGHBOURS,
        enclosing: Iterable[str] = PINGYANG_ENCLOSING,
    ) -> AddressMatcher:
        """Build a matcher from a gazetteer frame.

        Parameters
        ----------
        frame
            One row per standard address with ``code``, ``full_text``, ``county``,
            ``town``, ``village``, ``road``, ``number`` and optionally ``building``,
            ``unit``, ``room``; a Point ``geometry`` (reprojected to EPSG:4326 when
            the frame has another CRS; taken as EPSG:4326 without one) or ``lon``/``lat``.
        villages
            Optional village polygons with ``town`` and ``village`` (or ``name``)
            columns, and optionally ``county``. Their representative points stand for
            village-level answers, and villages without any address become known.
        top_k
            How many candidates an ambiguous answer lists.
        elsewhere
            Names of places outside the gazetteer's county (counties, towns, with or
            without their suffix in the text); an address naming one gets no village.
            Names the gazetteer holds are left out.
        enclosing
            The province and city that enclose the gazetteer's county: written where
            a county would stand (``温州市鳌江镇...``), they are not another county.

        Raises
        ------
        geogrid.errors.IngestError
            When a required column is missing.
        """
        index = build_index(frame, villages)
        return cls(index, top_k=top_k, elsewhere=elsewhere, enclosing=enclosing)

    @classmethod
    def from_grids(
        cls, frame: pd.DataFrame, grids: pd.DataFrame, *, top_k: int = 5
    ) -> AddressMatcher:
        """Build a matcher from a gazetteer and the grids layer (its towns and villages).

        ``grids`` has ``code``, ``name``, ``level``, ``parent_code`` and a polygon
        geometry; each village grid becomes a known village of its parent town.
        """
        towns = grids.loc[grids["level"] == "town"].set_index("code")
        villages = grids.loc[grids["level"] == "village"].copy()
        villages["village"] = villages["name"]
        villages["town"] = villages["parent_code"].map(towns["name"])
        # each village's county grid's name, where the gazetteer spells it alike (a town
        # name may repeat from county to county)
        counties = grids.loc[grids["level"] == "county"].set_index("code")["name"]
        known = {normalize_address(str(c)) for c in frame["county"].dropna().unique()}
        named = villages["parent_code"].map(towns["parent_code"]).map(counties)
        villages["county"] = named.where(
            named.map(lambda c: isinstance(c, str) and normalize_address(c) in known), None
        )
        polygons = gpd.GeoDataFrame(
            villages[["county", "town", "village"]],
            geometry=villages.geometry.to_numpy(),  # type: ignore[attr-defined]
            crs=getattr(grids, "crs", None),
        )
        return cls.from_gazetteer(frame, polygons, top_k=top_k)

    @property
    def index(self) -> AddressIndex:
        """The gazetteer index it searches (see :mod:`.counties` to split it by county)."""
        return self._index

    def with_aliases(self, aliases: Mapping[str, Alias]) -> AddressMatcher:
        """Return a matcher over the same gazetteer that answers the normalised texts of
        ``aliases`` (operators' corrections, see :mod:`.aliases`) with their place first.

        The gazetteer index is shared, not copied: this costs next to nothing.
        """
        other = copy.copy(self)
        object.__setattr__(other, "_aliases", dict(aliases))  # a fresh attribute of the copy
        return other

    def match(self, text: str) -> AddressMatch:
        """Match one address; see :class:`AddressMatch` for the answer."""
        normalized = normalize_address(text)
        return _with_text(self._match_normalized(normalized), text)

    def match_many(self, texts: Iterable[str]) -> list[AddressMatch]:
        """Match many addresses; equal to ``[self.match(t) for t in texts]``, faster."""
        cache: dict[str, AddressMatch] = {}
        out = []
        for text in texts:
            normalized = normalize_address(text)
            found = cache.get(normalized)
            if found is None:
                found = cache[normalized] = self._match_normalized(normalized)
            out.append(_with_text(found, text))
        return out

    # ------------------------------------------------------------------ steps

    def _match_normalized(self, s: str) -> AddressMatch:
        index = self._index
        parsed = parse_address(s, index.vocabulary, normalized=True)
        alias = self._aliases.get(s) if self._aliases else None
        if alias is not None:
            return _alias_answer(s, parsed, alias)
        notes: list[str] = []
        outside = self._places.outside(s, parsed)
        if outside is not None:
            return self._none(s, parsed, "elsewhere", (), [outside])
        scope, town_quality, town_notes = self._search.towns(parsed)
        notes += town_notes
        if parsed.town and parsed.town not in s:
            notes.append(f"town abbreviated ({self._short_town(s, parsed.town)} for {parsed.town})")
        place = self._places.named_before(s, parsed)
        if place is not None:
            notes.append(f"ignored words name a place not in the gazetteer ({place})")
        row = index.exact_row(*self._without_county(s))
        if row is not None:
            key = index.road_of(row)
            best = Option(key[:3], 1.0, 1.0, "exact", road=key, depth=3, row=row, written=True)
            best.point = index.point(row)
            best.notes.append("standard address as written")
            resolved, scope, town_quality, notes = [best], [key[:2]], 1.0, []
        else:
            options = self._search.village_options(parsed, scope)
            resolved = self._search.resolve_all(options, parsed)
            if parsed.village and parsed.road and all(o.depth == 1 for o in resolved):
                # the written village lacks the road: perhaps a typo that hit another village
                known = {o.village for o in resolved}
                extra = self._search.fuzzy_villages(parsed.village, scope, exclude=known)
                for option in extra:
                    option.exact_road = True  # one slip in the village, none in the road
                resolved += self._search.resolve_all(extra, parsed)
            if not resolved:
                stated = scope[0] if parsed.town and scope and len(scope) == 1 else None
                if parsed.village:
                    notes.append(f"village not in the gazetteer ({parsed.village})")
                return self._town_answer(s, parsed, stated, town_quality, notes)
            resolved.sort(key=Option.order)
            best = resolved[0]
        cap = 1.0
        if parsed.village and best.written and (best.depth >= 2 or parsed.road):
            # a one-character slip can turn one real village name into another: is
            # there such a village where the road (or the house) is found?
            near = self._search.fuzzy_villages(parsed.village, scope, exclude={best.village})
            for option in near:
                option.exact_road = True  # one slip in the village, none in the road
            deep = max(2, best.depth)
            confusable = [o for o in self._search.resolve_all(near, parsed) if o.depth >= deep]
            if confusable:
                cap = _CAP_RUNNER_UP_CLOSE
                resolved = sorted([*resolved, *confusable], key=Option.order)
                best = resolved[0]
                notes.append("a village one character away has the same road")
        if best.depth == 1 and parsed.road:
            cap = min(cap, _CAP_ROAD_NOT_IN_VILLAGE)  # the village or the road is wrong
            notes.append(f"road not found in the village ({parsed.road})")
        if best.method == "fuzzy" and best.depth == 1 and not best.road:
            # a village name with a slip and nothing else to confirm it
            cap = min(cap, _CAP_UNCONFIRMED_HOMOPHONE if best.homophone else _CAP_UNCONFIRMED)
            notes.append("village with a slip, not confirmed by a road or door")
        if town_notes and town_notes[0].startswith("town not in the gazetteer"):
            cap = min(cap, _CAP_FOREIGN)
        if place is not None:
            cap = min(cap, _CAP_FOREIGN)
        rest = parsed.rest is not None and len(parsed.rest) >= 2
        if rest:
            notes.append("words around the address ignored")
        penalty = town_quality * (0.95 if rest else 1.0)
        confidence = min(cap, best.cap, _LEVEL_BASE[best.depth] * best.quality * penalty)
        reasons = [*best.notes, *notes]
        rivals = [o for o in resolved[1:] if o.village != best.village]
        if not rivals:
            return self._answer(s, parsed, best, confidence, (), reasons)
        candidates = self._candidates(resolved)
        runner = rivals[0]
        tied = [o for o in rivals if o.depth == best.depth and o.quality >= best.quality - _TIE]
        if tied:
            reasons.append(f"{len(tied) + 1} villages explain the text equally well")
            return self._ambiguous(s, parsed, [best, *tied], candidates, reasons)
        close = runner.depth == best.depth
        confidence = min(confidence, _CAP_RUNNER_UP_CLOSE if close else _CAP_RUNNER_UP_FAR)
        reasons.append(
            "another village explains the text almost as well"
            if close
            else "another village explains part of the text"
        )
        return self._answer(s, parsed, best, confidence, candidates, reasons)

    def _short_town(self, s: str, town: str) -> str:
        for cut in (2, 1):
            short = town[:-cut]
            if len(short) >= 2 and short in s:
                return short
        return town

    def _without_county(self, s: str) -> tuple[str, str | None]:
        """The text without the gazetteer county it starts with, and that county."""
        for county in self._counties:
            if s.startswith(county):
                return s[len(county) :], county
        return s, None

    # ------------------------------------------------------------------ answers

    def _answer(
        self,
        s: str,
        parsed: ParsedAddress,
        option: Option,
        confidence: float,
        candidates: tuple[AddressCandidate, ...],
        reasons: list[str],
    ) -> AddressMatch:
        index = self._index
        tentry = index.towns[option.village[:2]]
        return AddressMatch(
            text=s,
            normalized=s,
            level=_DEPTH_LEVEL[option.depth],
            confidence=round(max(0.0, min(1.0, confidence)), 4),
            point=option.point,
            code=index.code(option.row) if option.row is not None else None,
            full_text=index.full_text(option.row) if option.row is not None else None,
            county=tentry.county or None,
            town=tentry.name,
            village=index.villages[option.village].name,
            road=index.roads[option.road].name if option.road else None,
            parsed=parsed,
            method=option.method,
            candidates=candidates,
            reasons=_unique(reasons),
            ignored=parsed.ignored,
        )

    def _candidates(self, options: list[Option]) -> tuple[AddressCandidate, ...]:
        index = self._index
        seen, out = set(), []
        for option in options:
            key = (option.village, option.road, option.row)
            if key in seen:
                continue
            seen.add(key)
            row = option.row
            out.append(
                AddressCandidate(
                    level=_DEPTH_LEVEL[option.depth],
                    score=round(_LEVEL_BASE[option.depth] * option.quality, 4),
                    point=option.point,
                    code=index.code(row) if row is not None else None,
                    full_text=index.full_text(row) if row is not None else None,
                    town=index.towns[option.village[:2]].name,
                    village=index.villages[option.village].name,
                    road=index.roads[option.road].name if option.road else None,
                )
            )
            if len(out) == self._top_k:
                break
        return tuple(out)

    def _ambiguous(
        self,
        s: str,
        parsed: ParsedAddress,
        tied: list[Option],
        candidates: tuple[AddressCandidate, ...],
        reasons: list[str],
    ) -> AddressMatch:
        """Answer at the finest level all tied options share: a town, or nothing."""
        towns = {o.village[:2] for o in tied}
        if len(towns) == 1:
            match = self._town_answer(s, parsed, towns.pop(), 1.0, reasons)
            return replace(match, method="ambiguous", candidates=candidates)
        return self._none(s, parsed, "ambiguous", candidates, reasons)

    def _town_answer(
        self,
        s: str,
        parsed: ParsedAddress,
        town_key: TownKey | None,
        quality: float,
        reasons: list[str],
    ) -> AddressMatch:
        if town_key is None:
            return self._none(s, parsed, "unmatched", (), reasons)
        town = self._index.towns[town_key]
        return AddressMatch(
            text=s,
            normalized=s,
            level="town",
            confidence=round(_TOWN_ONLY * quality, 4),
            point=town.point,
            code=None,
            full_text=None,
            county=town.county or None,
            town=town.name,
            village=None,
            road=None,
            parsed=parsed,
            method="town",
            reasons=_unique([*reasons, "no village found: town level"]),
            ignored=parsed.ignored,
        )

    def _none(
        self,
        s: str,
        parsed: ParsedAddress,
        method: str,
        candidates: tuple[AddressCandidate, ...],
        reasons: list[str],
    ) -> AddressMatch:
        return AddressMatch(
            text=s,
            normalized=s,
            level="none",
            confidence=0.0,
            point=None,
            code=None,
            full_text=None,
            county=None,
            town=None,
            village=None,
            road=None,
            parsed=parsed,
            method=method,
            candidates=candidates,
            reasons=_unique(reasons or ["nothing in the text matched the gazetteer"]),
            ignored=parsed.ignored,
        )


def _alias_answer(s: str, parsed: ParsedAddress, alias: Alias) -> AddressMatch:
    """The answer an operator's correction gives for its text."""
    target = alias.full_text or alias.grid_code or ""
    return AddressMatch(
        text=s,
        normalized=s,
        level=alias.level,  # type: ignore[arg-type]
        confidence=ALIAS_CONFIDENCE,
        point=alias.point,
        code=alias.code,
        full_text=alias.full_text,
        county=alias.county,
        town=alias.town,
        village=alias.village,
        road=alias.road,
        parsed=parsed,
        method="correction",
        reasons=(f"operator correction #{alias.correction_id} ({target})",),
        ignored=parsed.ignored,
    )


def _with_text(match: AddressMatch, text: str) -> AddressMatch:
    """The answer for one text: its own spelling and the filler words it dropped."""
    dropped = dropped_words(text)
    if match.text == text and not dropped:
        return match
    return replace(match, text=text, ignored=(*dropped, *match.ignored))


def _unique(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))
