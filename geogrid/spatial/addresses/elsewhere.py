"""Names of places outside the gazetteer's county that people write in addresses.

A declared address that names one of these places (``苍南县``, ``灵溪镇``, or just
``灵溪``) is not in the county, even when a village or road name after it also exists
in the county: :class:`~geogrid.spatial.addresses.AddressMatcher` then answers no
village. A name that the gazetteer itself holds is never treated as elsewhere.

:data:`WENZHOU_AND_NEIGHBOURS` lists Zhejiang's prefecture-level cities, the
county-level units of Wenzhou and of the cities that border it, and the towns and
streets of the counties next to Pingyang (Cangnan, Longgang, Rui'an, Wencheng,
Taishun) and of Fuding across the Fujian border. A deployment elsewhere passes its
own neighbours to :meth:`AddressMatcher.from_gazetteer`, and the units that enclose its
county (:data:`PINGYANG_ENCLOSING` here): ``温州市鳌江镇...`` is in the county.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from geogrid.spatial.addresses._search import fuzzy
from geogrid.spatial.addresses.text import AddressVocabulary, ParsedAddress

__all__ = ["PINGYANG_ENCLOSING", "WENZHOU_AND_NEIGHBOURS", "OutsidePlaces", "leading_words"]

#: The units that enclose Pingyang county: written before it, they say nothing against it.
PINGYANG_ENCLOSING: tuple[str, ...] = ("浙江省", "温州市")

_CITIES = (
    "杭州市 宁波市 温州市 嘉兴市 湖州市 绍兴市 金华市 衢州市 舟山市 台州市 丽水市 "
    "福州市 宁德市 南平市 上海市 北京市"
)
_COUNTIES = (
    # Wenzhou
    "鹿城区 龙湾区 瓯海区 洞头区 永嘉县 平阳县 苍南县 文成县 泰顺县 瑞安市 乐清市 龙港市 "
    # Lishui and Taizhou, which border Wenzhou
    "莲都区 青田县 缙云县 遂昌县 松阳县 云和县 庆元县 景宁畲族自治县 龙泉市 "
    "椒江区 黄岩区 路桥区 三门县 天台县 仙居县 温岭市 临海市 玉环市 "
    # Ningde, Fujian, which borders Wenzhou
    "蕉城区 霞浦县 古田县 屏南县 寿宁县 周宁县 柘荣县 福安市 福鼎市"
)
_TOWNS = (
    # Cangnan
    "灵溪镇 矾山镇 马站镇 藻溪镇 桥墩镇 钱库镇 金乡镇 宜山镇 赤溪镇 大渔镇 霞关镇 望里镇 "
    "沿浦镇 莒溪镇 凤阳畲族乡 岱岭畲族乡 "
    # Longgang
    "龙港镇 芦浦镇 舥艚镇 平等乡 湖前镇 白沙镇 "
    # Rui'an
    "安阳街道 玉海街道 锦湖街道 东山街道 上望街道 莘塍街道 汀田街道 飞云街道 仙降街道 "
    "南滨街道 潘岱街道 云周街道 塘下镇 马屿镇 陶山镇 湖岭镇 高楼镇 曹村镇 平阳坑镇 林川镇 "
    "芳庄乡 北麂乡 "
    # Wencheng
    "大峃镇 珊溪镇 玉壶镇 南田镇 黄坦镇 西坑畲族镇 百丈漈镇 峃口镇 巨屿镇 周壤镇 "
    "铜铃山镇 二源镇 "
    # Taishun
    "罗阳镇 司前畲族镇 百丈镇 筱村镇 泗溪镇 彭溪镇 雅阳镇 仕阳镇 三魁镇 龟湖镇 "
    "竹里畲族乡 "
    # Fuding
    "桐山街道 桐城街道 山前街道 贯岭镇 前岐镇 沙埕镇 店下镇 太姥山镇 磻溪镇 点头镇 "
    "管阳镇 嵛山镇 硖门畲族乡 叠石乡 佳阳畲族乡"
)

#: Places outside Pingyang county that its residents write in declared addresses.
WENZHOU_AND_NEIGHBOURS: tuple[str, ...] = tuple(
    name for group in (_CITIES, _COUNTIES, _TOWNS) for name in group.split()
)

_PLACE_NAME = re.compile(r"[\u4e00-\u9fff]{2,4}?(?:自治县|县|市|区|街道|镇|乡)")
_NOT_PLACES = ("小区", "社区", "园区", "城区", "市区", "景区", "校区", "街区", "片区", "乡镇")
_CHATTER_CHARS = frozenset("我你您他她是在住到放送的了吗呢这那个家")
_PLACE_SUFFIXES = ("畲族自治县", "自治县", "畲族镇", "畲族乡", "街道", "县", "市", "区", "镇", "乡")


class OutsidePlaces:
    """Tells whether a parsed address names a place outside the gazetteer's county.

    Evidence, strongest first: a county the gazetteer does not hold (unless it is one of
    the ``enclosing`` units, or one slip from a county it holds); an unknown town whose
    name holds an ``elsewhere`` name; the chatter before the address holding one in full
    (``灵溪镇``) anywhere or in short (``灵溪``) right before the address. Words after the
    address say nothing (``…18号的，刚从瑞安回来``).

    Examples
    --------
    >>> from geogrid.spatial.addresses.text import AddressVocabulary, parse_address
    >>> known = AddressVocabulary(counties=["平阳县"], towns=["鳌江镇"], villages=["曾山村"])
    >>> places = OutsidePlaces(["苍南县", "灵溪镇"], ["温州市"], known)
    >>> [places.outside(t, parse_address(t, known)) for t in ("龙港灵溪曾山村", "温州市鳌江镇")]
    ['names a place outside the county (灵溪镇)', None]
    """

    def __init__(
        self, elsewhere: Iterable[str], enclosing: Iterable[str], vocabulary: AddressVocabulary
    ) -> None:
        self._vocabulary = vocabulary
        self._counties = sorted(vocabulary.counties.names)
        self._enclosing = {f for name in enclosing for f in (name, _short(name))}
        pairs = [p for p in _written_forms(elsewhere, vocabulary) if p[1] not in self._enclosing]
        self._names = pairs
        self._full_names = [p for p in pairs if p[0] == p[1]]

    def outside(self, s: str, parsed: ParsedAddress) -> str | None:
        """Why the normalised text ``s`` is outside the county, or None."""
        vocabulary = self._vocabulary
        county = parsed.county
        if (
            county
            and county not in self._enclosing
            and county not in vocabulary.counties
            and not fuzzy(county, self._counties)
        ):
            return f"county not in the gazetteer ({county})"
        if parsed.town and parsed.town not in vocabulary.towns:
            for name, full in self._names:
                if name in parsed.town:
                    return f"names a place outside the county ({full})"
        lead = leading_words(s, parsed)
        if lead and county not in vocabulary.counties:  # before our county: its province
            for name, full in self._full_names:
                if name in lead:
                    return f"names a place outside the county ({full})"
            for name, full in self._names:
                if lead.endswith(name):
                    return f"names a place outside the county ({full})"
        return None

    def named_before(self, s: str, parsed: ParsedAddress) -> str | None:
        """A county, town or district name in the chatter before the address, or None."""
        lead = leading_words(s, parsed)
        if lead is not None:
            for found in _PLACE_NAME.finditer(lead):
                name = found.group()
                if not name.endswith(_NOT_PLACES) and not _CHATTER_CHARS.intersection(name):
                    return name
        return None


def leading_words(s: str, parsed: ParsedAddress) -> str | None:
    """The ignored words before the address (chatter, or a place the parser skipped)."""
    if parsed.ignored and s.startswith(parsed.ignored[0]) and len(parsed.ignored[0]) < len(s):
        return parsed.ignored[0]
    return None


def _short(name: str) -> str:
    for suffix in _PLACE_SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


def _written_forms(names: Iterable[str], vocabulary: AddressVocabulary) -> list[tuple[str, str]]:
    """(name as it may be written, full name) pairs, longest first, without names the
    gazetteer holds (in full or short form)."""
    ours = set(vocabulary.counties.names) | set(vocabulary.towns.names)
    ours |= set(vocabulary.counties.short) | set(vocabulary.towns.short)
    pairs = set()
    for raw in names:
        full = str(raw).strip()  # not normalised: that drops province-level names
        if len(full) < 2:
            continue
        forms = {full, _short(full)}
        if forms & ours:
            continue
        pairs |= {(form, full) for form in forms}
    return sorted(pairs, key=lambda p: (-len(p[0]), p))
