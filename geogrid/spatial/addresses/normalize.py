"""Normalise Chinese address text: one spelling for the many ways people write it.

Declared addresses are noisy: full-width digits, Chinese numerals, traditional
characters, ``栋``/``座``/``号楼`` for ``幢``, ``之``/``附`` for a sub-number, filler
words, a province or city in front. :func:`normalize_address` maps all of that onto one
canonical spelling; :func:`dropped_words` says which filler words it dropped.

Everything here is pure text work: no database, no files.
"""

from __future__ import annotations

import re
import unicodedata

from zhconv import zhconv as _zhconv

__all__ = ["dropped_words", "normalize_address"]

# --------------------------------------------------------------------------- normalise

# traditional characters common in addresses, lower-case Latin, dash look-alikes
_TRANSLATE = str.maketrans(
    "號棟單縣鎮鄉區樓層園門陽業莊灣嶺橋龍鳳島東華興貿濱場廠車頭溝崗壩鰲蕭崑騰"
    "abcdefghijklmnopqrstuvwxyz‐‑‒–—―−~_ー﹣",
    "号栋单县镇乡区楼层园门阳业庄湾岭桥龙凤岛东华兴贸滨场厂车头沟岗坝鳌萧昆腾"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ-----------",
)


def _traditional_to_simplified() -> dict[int, str]:
    """One-character traditional → simplified table (zhconv's ``zh-cn`` dictionary)."""
    table = _zhconv.getdict("zh-cn")
    pairs = {k: v for k, v in table.items() if len(k) == 1 and len(v) == 1 and k != v}
    return str.maketrans(pairs)


_T2S = _traditional_to_simplified()
_TRADITIONAL = frozenset(chr(k) for k in _T2S)


def _simplified(text: str) -> str:
    """``text`` with traditional characters made simplified (a set test first: most
    addresses have none, and translating through a 4,700-entry table is not free)."""
    return text if _TRADITIONAL.isdisjoint(text) else text.translate(_T2S)


_NUMERAL_HINT = re.compile(r"[零〇一幺二两三四五六七八九十百千之第]")

_CN_DIGIT = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "幺": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_UNIT = {"十": 10, "百": 100, "千": 1000}
_NUM = "(?:[0-9]+|[零〇一幺二两三四五六七八九十百千]+)"
# A number directly before a house, building, unit, room, floor or lane word.
_NUMBERED = re.compile(rf"第?(?P<a>{_NUM})(?:[之-](?P<b>{_NUM}))?(?=号|幢|栋|座|单元|室|楼|层|弄)")
_PROVINCES = (
    "黑龙江|内蒙古|北京|天津|上海|重庆|河北|山西|辽宁|吉林|江苏|浙江|安徽|福建|江西|山东|"
    "河南|湖北|湖南|广东|海南|四川|贵州|云南|陕西|甘肃|青海|台湾|广西|西藏|宁夏|新疆|香港|澳门"
)
_PREFIX = re.compile(
    rf"^(?:中国)?(?:(?:{_PROVINCES})"
    r"(?:省|市|维吾尔自治区|壮族自治区|回族自治区|自治区|特别行政区"
    # a bare province name only before a city or county name ('浙江温州', not '海南社区')
    r"|(?=[^镇乡村社路街道巷弄号\d]{2,4}?[市县])))?"
    # a prefecture-level city, only when a county or district follows it
    r"(?:[\u4e00-\u9fff]{2,4}?市(?=[^镇乡村社路街道巷弄号\d市]{1,4}?[县区]))?"
)
_LEADING_FILLER = re.compile(
    r"^(?:现住址|家庭住址|居住地址|居住地|居住在|住址|地址|现住|暂住地|暂住|家住|住在)"
)
_FILLER = re.compile(r"斜对面|对面|附近|旁边|隔壁|一带|周边|边上|楼下|门口|后面|前面|左右")
_KEEP = re.compile(r"[^0-9A-Z\-\u3007\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0003134f]+")
_LONE_DASH = re.compile(r"(?<![0-9A-Z])-|-(?![0-9A-Z])")
# a room number written last without 室: '2单元三零一'
_TRAILING_ROOM = re.compile(r"(?<=单元|[0-9A-Z]幢)[零〇一幺二两三四五六七八九十百千]+$")
_ZHI = re.compile(r"(?<=[0-9])之(?=[0-9])")
# a sub-number: '46号之2', '46号附2号', '46号-2', '46附2号' all mean door 46-2
_SUB_NUMERAL = re.compile(r"(?<=[0-9号])(?P<sep>[之附])(?P<n>[零〇一幺二两三四五六七八九十百]+)")
_SUB_AFTER_HAO = re.compile(r"(?P<a>[0-9]+)号[之附-](?P<b>[0-9]+)号?")
_SUB_FU = re.compile(r"(?P<a>[0-9]+)附(?P<b>[0-9]+)(?=号)")
_HASH = re.compile(r"(?<=[0-9A-Z])#")
_BUILDING_WORD = re.compile(r"(?<=[0-9A-Z])(?:号楼|号幢|栋|座)")
_ROOM_WORD = re.compile(r"(?<=[0-9])(?:房间|房)")
_REPEATED = re.compile(r"(号|幢|室|单元|村|路)\1+")


def _cn_to_int(text: str) -> int:
    """Read a run of Chinese numerals (``十八``, ``三零一``, ``一百零五``) as an integer."""
    if text.isdigit():
        return int(text)
    if not any(ch in _CN_UNIT for ch in text):
        return int("".join(str(_CN_DIGIT[ch]) for ch in text))
    total = current = 0
    for ch in text:
        if ch in _CN_UNIT:
            total += (current or 1) * _CN_UNIT[ch]
            current = 0
        else:
            current = _CN_DIGIT[ch]
    return total + current


def _numbers_to_arabic(match: re.Match[str]) -> str:
    first = str(_cn_to_int(match["a"]))
    second = match["b"]
    return first if second is None else f"{first}-{_cn_to_int(second)}"


def _normalize_once(text: str) -> str:
    text = _simplified(unicodedata.normalize("NFKC", text)).translate(_TRANSLATE)
    text = _HASH.sub("号", text)
    text = _KEEP.sub("", text)
    text = _SUB_NUMERAL.sub(lambda m: m["sep"] + str(_cn_to_int(m["n"])), text)
    text = _SUB_AFTER_HAO.sub(r"\g<a>-\g<b>号", text)
    text = _SUB_FU.sub(r"\g<a>-\g<b>", text)
    text = _LONE_DASH.sub("", text)
    text = _LEADING_FILLER.sub("", text)
    text = _FILLER.sub("", text)
    text = _PREFIX.sub("", text, count=1)
    if _NUMERAL_HINT.search(text):
        text = _NUMBERED.sub(_numbers_to_arabic, text)
        text = _TRAILING_ROOM.sub(lambda m: str(_cn_to_int(m.group())), text)
        text = _ZHI.sub("-", text)
    text = _BUILDING_WORD.sub("幢", text)
    text = _ROOM_WORD.sub("室", text)
    return _REPEATED.sub(r"\1", text)


def normalize_address(text: str | None) -> str:
    """Return the canonical spelling of an address.

    Applies NFKC (full-width digits and letters become ASCII), upper-cases Latin
    letters, turns Chinese numerals that count houses, buildings, units, rooms,
    floors or lanes into Arabic digits, spells every building word (``栋``, ``座``,
    ``号楼``) as ``幢`` and ``之`` or any dash as ``-``, and drops spaces,
    punctuation, filler words (``附近``, ``对面``, ...) and a leading country,
    province or prefecture-level city. The result is stable:
    ``normalize_address(normalize_address(s)) == normalize_address(s)``.

    Parameters
    ----------
    text
        A declared or standard address; ``None`` gives ``""``.

    Returns
    -------
    str
        The normalised address, possibly empty.

    Examples
    --------
    >>> normalize_address("平阳县 鳌江镇曾山村工业路１８号")
    '平阳县鳌江镇曾山村工业路18号'
    >>> normalize_address("江滨路十八之二号三栋二单元三零一室")
    '江滨路18-2号3幢2单元301室'
    >>> [normalize_address(s) for s in ("46号之2", "46号附二", "46附2号", "46号-2")]
    ['46-2号', '46-2号', '46-2号', '46-2号']
    >>> normalize_address("浙江省温州市平阳县鳌江镇Ａ座附近")
    '平阳县鳌江镇A幢'
    >>> normalize_address(None)
    ''
    """
    if not text:
        return ""
    current = str(text)
    for _ in range(len(current) + 2):
        following = _normalize_once(current)
        if following == current:
            break
        current = following
    return current


# the first characters of the filler words, in both scripts: a text with none has none
_FILLER_HINT = frozenset("现現家居住地暂暫斜对對附旁隔一周边邊楼樓门門后後前左")


def dropped_words(text: str | None) -> tuple[str, ...]:
    """The filler words :func:`normalize_address` drops from ``text``, in order.

    Examples
    --------
    >>> dropped_words("现住鳌江镇曾山村工业路18号附近")
    ('现住', '附近')
    """
    if not text:
        return ()
    if _FILLER_HINT.isdisjoint(text):
        return ()
    plain = _KEEP.sub("", _simplified(unicodedata.normalize("NFKC", str(text))))
    lead = _LEADING_FILLER.match(plain)
    words = [lead.group()] if lead else []
    return (*words, *_FILLER.findall(plain))
