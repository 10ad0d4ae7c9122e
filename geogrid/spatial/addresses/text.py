"""Parse Chinese standard addresses into their parts.

A standard address (标准地址) reads from the largest unit to the smallest:
``县 镇/街道/乡 村/社区 路/街/巷 号 (幢 单元 室)``, e.g.
``平阳县鳌江镇江滨社区江滨路126号3幢2单元301室``. :func:`parse_address` normalises
the text (:mod:`.normalize`) and splits it into its components, helped by an
:class:`AddressVocabulary` of known names when one is given; chatter before the
address and words it cannot place are kept as ``ignored``.

Everything here is pure text work: no database, no files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from geogrid.spatial.addresses.normalize import normalize_address

__all__ = ["AddressVocabulary", "ParsedAddress", "parse_address"]


# --------------------------------------------------------------------------- parse


@dataclass(frozen=True, slots=True)
class ParsedAddress:
    """The components of one address; each is ``None`` when absent.

    Components are in normalised spelling (see :func:`normalize_address`). A door
    numbered ``46-2`` (``46号之2``, ``46之2号``, ``46号附2``) has ``number='46'`` and
    ``sub_number='2'``; :attr:`door` joins them again. ``landmark`` is a place named
    after the village (``村委会``, ``东北卡口``). ``rest`` holds the text the parser could
    not place, e.g. chatter before the address; ``ignored`` the same, piece by piece.
    """

    county: str | None = None
    town: str | None = None
    village: str | None = None
    road: str | None = None
    number: str | None = None
    building: str | None = None
    unit: str | None = None
    room: str | None = None
    rest: str | None = None
    sub_number: str | None = None
    landmark: str | None = None
    ignored: tuple[str, ...] = field(default=(), compare=False)

    @property
    def door(self) -> str | None:
        """The door number as the gazetteer writes it: ``'46-2'``, ``'46'`` or None."""
        if self.number is None or self.sub_number is None:
            return self.number
        return f"{self.number}-{self.sub_number}"


_COUNTY_SUFFIX = ("自治县", "县", "市", "区")
_TOWN_SUFFIX = ("街道", "镇", "乡")
_VILLAGE_SUFFIX = ("社区", "村")
_NAME_END = frozenset("路街道巷弄村镇乡区县社号")


def _short_form(name: str, suffixes: tuple[str, ...]) -> str | None:
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return None


class AddressVocabulary:
    """Known county, town, village and road names that guide :func:`parse_address`.

    Names are normalised on the way in. Counties and towns are also known by their
    short forms (``平阳`` for ``平阳县``, ``鳌江`` for ``鳌江镇``) when these are
    unambiguous.

    Parameters
    ----------
    counties, towns, villages, roads
        Names as written in the gazetteer.

    Examples
    --------
    >>> vocabulary = AddressVocabulary(towns=["鳌江镇"], villages=["曾山村"], roads=["工业路"])
    >>> parse_address("鳌江曾山村工业路18号", vocabulary).town
    '鳌江镇'
    """

    __slots__ = ("counties", "roads", "towns", "villages")

    def __init__(
        self,
        counties: Iterable[str] = (),
        towns: Iterable[str] = (),
        villages: Iterable[str] = (),
        roads: Iterable[str] = (),
    ) -> None:
        self.counties = _Lexicon(counties, _COUNTY_SUFFIX)
        self.towns = _Lexicon(towns, _TOWN_SUFFIX)
        self.villages = _Lexicon(villages, ())
        self.roads = _Lexicon(roads, ())

    @classmethod
    def from_gazetteer(cls, frame: object) -> AddressVocabulary:
        """Build the vocabulary from the county, town, village and road columns of a frame."""
        columns = {}
        for column in ("county", "town", "village", "road"):
            values = frame.get(column, ())  # type: ignore[attr-defined]
            columns[column] = {str(v) for v in values if isinstance(v, str) and v}
        return cls(columns["county"], columns["town"], columns["village"], columns["road"])


class _Lexicon:
    """A set of normalised names with longest-prefix lookup."""

    __slots__ = ("lengths", "names", "short")

    def __init__(self, names: Iterable[str], suffixes: tuple[str, ...]) -> None:
        self.names = frozenset(n for n in (normalize_address(x) for x in names) if n)
        short: dict[str, str | None] = {}
        for name in self.names:
            form = _short_form(name, suffixes)
            if form is not None and form not in self.names:
                short[form] = name if form not in short else None  # None marks ambiguous
        self.short = {form: name for form, name in short.items() if name is not None}
        self.lengths = sorted({len(n) for n in (*self.names, *self.short)}, reverse=True)

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def __len__(self) -> int:
        return len(self.names)

    def prefix(self, text: str, pos: int) -> tuple[str, int] | None:
        """Return ``(full name, end)`` of the longest known name starting at ``pos``."""
        for length in self.lengths:
            piece = text[pos : pos + length]
            if len(piece) < length:
                continue
            if piece in self.names:
                return piece, pos + length
            full = self.short.get(piece)
            if full is not None and text[pos + length : pos + length + 1] not in _NAME_END:
                return full, pos + length
        return None

    def longest_suffix(self, text: str) -> str | None:
        """Return the longest known name that ends ``text`` and is shorter than it."""
        for length in self.lengths:
            if length < len(text) and text[-length:] in self.names:
                return text[-length:]
        return None


_COUNTY_RE = re.compile(r"[\u4e00-\u9fff]{1,5}?(?:自治县|县|市)")
_TOWN_RE = re.compile(r"[\u4e00-\u9fff]{1,6}?(?:街道|镇|乡)")
_VILLAGE_RE = re.compile(r"[\u4e00-\u9fff0-9A-Z]{1,8}?(?:社区|村委会|居委会|村)")
_ROAD_BODY = (
    r"[\u4e00-\u9fff0-9A-Z]{1,12}?(?:大道|国道|省道|县道|路|大街|街|道|巷|弄|线)"
    r"(?:[0-9]+(?:弄|巷))?"
)
# prefer the road name that runs up to the house number: '银街大道8号' is one road
_ROAD_TO_NUMBER_RE = re.compile(_ROAD_BODY + r"(?=[0-9]|$)")
_ROAD_RE = re.compile(_ROAD_BODY)
_NUMBER_ROAD_RE = re.compile(r"(?P<road>[\u4e00-\u9fff]{2,12}?)(?=[0-9]+(?:-[0-9]+)?号)")
_TAIL = re.compile(
    r"(?P<compact>[0-9]+-[0-9]+-[0-9]+)(?![0-9-])"
    r"|(?P<building>[0-9A-Z]+)幢"
    r"|(?P<unit>[0-9A-Z]+)单元"
    r"|(?P<room>[0-9A-Z]+(?:-[0-9]+)?)室"
    r"|(?P<floor>[0-9]+)(?:楼|层)"
    r"|(?P<number>[0-9]+(?:-[0-9]+)?)号"
    r"|(?P<bare>[0-9]+(?:-[0-9]+)?)(?![0-9A-Z])"
)


def _suffix_match(pattern: re.Pattern[str], text: str, pos: int, banned: str) -> str | None:
    """Match a name ending in a suffix at ``pos``, refusing one that runs into a longer name."""
    found = pattern.match(text, pos)
    if found is None:
        return None
    name = found.group()
    following = text[found.end() : found.end() + 1]
    if following and following in _NAME_END:
        return None
    if any(word in name[:-1] for word in banned):
        return None
    return name


def parse_address(
    text: str, known: AddressVocabulary | None = None, *, normalized: bool = False
) -> ParsedAddress:
    """Split an address into county, town, village, road, number, building, unit and room.

    The text is normalised first. With a vocabulary, known names are recognised by
    longest match (also without their suffix for counties and towns); otherwise, and
    for names the vocabulary lacks, a name is recognised by its suffix (``县``,
    ``镇``/``街道``/``乡``, ``村``/``社区``, ``路``/``街``/``巷``/...). Building, unit and
    room may come in any order.

    Parameters
    ----------
    text
        The address, in any spelling :func:`normalize_address` accepts.
    known
        Names from the gazetteer, to segment addresses whose names lack a suffix.
    normalized
        ``text`` is already the output of :func:`normalize_address` (saves redoing it).

    Returns
    -------
    ParsedAddress
        Components in normalised spelling, ``None`` where absent.

    Examples
    --------
    >>> p = parse_address("平阳县鳌江镇江滨社区江滨路126号3栋2单元301")
    >>> (p.county, p.town, p.village, p.road, p.number, p.building, p.unit, p.room)
    ('平阳县', '鳌江镇', '江滨社区', '江滨路', '126', '3', '2', '301')
    >>> p = parse_address("曾山村工业路十八之二号")
    >>> (p.number, p.sub_number, p.door)
    ('18', '2', '18-2')
    >>> parse_address("301室")
    ParsedAddress(county=None, town=None, village=None, road=None, number=None, building=None, unit=None, room='301', rest=None, sub_number=None, landmark=None, ignored=())
    """  # noqa: E501
    s = text if normalized else normalize_address(text)
    parts: dict[str, str | None] = dict.fromkeys(_TEXT_FIELDS)
    rest: list[str] = []
    pos = 0
    if known is not None:
        pos = _skip_leading_junk(s, known, rest)

    def take(kind: str, lexicon: _Lexicon | None, pattern: re.Pattern[str], banned: str) -> None:
        nonlocal pos
        if lexicon is not None and known is not None:
            hit = lexicon.prefix(s, pos)
            road = known.roads.prefix(s, pos) if lexicon is not known.roads else None
            if hit is not None and (road is None or road[1] <= hit[1]):
                parts[kind], pos = hit
                return
        name = _suffix_match(pattern, s, pos, banned)
        if name is not None:
            parts[kind] = name
            pos += len(name)

    take("county", known.counties if known else None, _COUNTY_RE, "村路街社")
    take("town", known.towns if known else None, _TOWN_RE, "村路社")
    take("village", known.villages if known else None, _VILLAGE_RE, "路街巷镇")
    village = parts["village"]
    if village is not None and village.endswith(("村委会", "居委会")):
        parts["village"] = village[:-3] + ("村" if village.endswith("村委会") else "社区")
    take("road", known.roads if known else None, _ROAD_TO_NUMBER_RE, "村镇")
    if parts["road"] is None:
        take("road", None, _ROAD_RE, "村镇")
    if parts["road"] is None:
        # a road whose suffix is misspelt still sits right before its house number
        found = _NUMBER_ROAD_RE.match(s, pos)
        if found is not None:
            parts["road"] = found["road"]
            pos = found.end()
    road = parts["road"]
    if parts["village"] is None and road is not None:
        # '后岭村巷丰大道': a village run into a road whose first character is a suffix
        for suffix in _VILLAGE_SUFFIX:
            at = road.find(suffix, 2)
            if at > 0 and len(road) - at - len(suffix) >= 3:
                parts["village"], parts["road"] = road[: at + len(suffix)], road[at + len(suffix) :]
                road = parts["road"]
                break
    if known is not None and road is not None and road not in known.roads:
        inner = known.roads.longest_suffix(road)
        if inner is not None:
            leftover = road[: -len(inner)]
            parts["road"] = inner
            if parts["village"] is None and len(leftover) >= 2:
                parts["village"] = leftover
            else:
                rest.append(leftover)
        elif parts["village"] is None:
            split = _misspelt_village_suffix(road, known)
            if split is not None:
                parts["village"], parts["road"] = split

    s = _take_landmark(s, pos, parts)
    _parse_tail(s, pos, parts, rest)
    number = parts["number"]
    if number is not None and "-" in number:
        parts["number"], parts["sub_number"] = number.split("-", 1)
    parts["rest"] = "".join(rest) or None
    return ParsedAddress(**parts, ignored=tuple(r for r in rest if r))


_TEXT_FIELDS = tuple(f for f in ParsedAddress.__slots__ if f != "ignored")


def _misspelt_village_suffix(road: str, known: AddressVocabulary) -> tuple[str, str] | None:
    """Split '望江杜区安穗路' where a known village's suffix (社区, 村) was mistyped."""
    for at in range(3, len(road) - 2):
        head = road[:at]
        if head[:-1] + "村" in known.villages or head[:-2] + "社区" in known.villages:
            return head, road[at:]
    return None


_JUNK_WINDOW = 16  # chatter before an address rarely runs longer


def _skip_leading_junk(s: str, known: AddressVocabulary, rest: list[str]) -> int:
    """Skip chatter before the first known county, town, village or road near the start.

    Text that starts with a short name ending in a county or town suffix (``苍南县``,
    ``塘下镇``) is a place, known or not, and is not skipped.
    """
    lexicons = (known.counties, known.towns, known.villages, known.roads)
    if any(lexicon.prefix(s, 0) for lexicon in lexicons):
        return 0
    for pattern, longest in ((_COUNTY_RE, 4), (_TOWN_RE, 5)):
        found = pattern.match(s)
        if found is not None and len(found.group()) <= longest:
            return 0
    # a road counts only after chatter: before a road may stand an unknown village
    places = lexicons if _CHATTER_START.match(s) else lexicons[:3]
    for pos in range(1, min(len(s), _JUNK_WINDOW)):
        if any(lexicon.prefix(s, pos) for lexicon in places):
            rest.append(s[:pos])
            return pos
    return 0


_CHATTER_START = re.compile(r"你好|您好|喂|哈喽|老板|麻烦|请问|请|我")
_LANDMARK = re.compile(
    r"村?委员?会|村委|村部|居委会?|[东南西北]{0,2}(?:[0-9]+号)?(?:临时)?(?:卡口|检查站)"
    r"|小学|中学|幼儿园|卫生院|医院|加油站|菜市场|农贸市场"
)


def _take_landmark(s: str, pos: int, parts: dict[str, str | None]) -> str:
    """Move a landmark (村委会, a checkpoint's name...) after ``pos`` into ``parts``."""
    found = _LANDMARK.search(s, pos)
    if found is None:
        return s
    name = found.group()
    parts["landmark"] = "村" + name if name.startswith("委") else name  # 大坑村委会: 村 is shared
    return s[: found.start()] + s[found.end() :]


def _parse_tail(s: str, pos: int, parts: dict[str, str | None], rest: list[str]) -> None:
    """Read number, building, unit and room (in any order) from ``s[pos:]``."""
    unplaced = ""  # characters no token takes, kept together as one word
    while pos < len(s):
        found = _TAIL.match(s, pos)
        if found is None:
            unplaced += s[pos]
            pos += 1
            continue
        if unplaced:
            rest.append(unplaced)
            unplaced = ""
        pos = found.end()
        kind = found.lastgroup
        value = found.group(kind) if kind else None
        if kind == "compact":
            if parts["number"] is None:
                rest.append(found.group())
                continue
            for key, piece in zip(("building", "unit", "room"), value.split("-"), strict=True):  # type: ignore[union-attr]
                if parts[key] is None:
                    parts[key] = piece
        elif kind == "bare":
            if parts["number"] is None and not (parts["building"] or parts["unit"]):
                parts["number"] = value
            elif parts["room"] is None:
                parts["room"] = value
            else:
                rest.append(found.group())
        elif kind == "floor":
            continue
        elif kind is not None and parts[kind] is None:
            parts[kind] = value
        else:
            rest.append(found.group())
    if unplaced:
        rest.append(unplaced)
