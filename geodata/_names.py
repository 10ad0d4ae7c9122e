"""Synthetic Chinese names, phone numbers and resident ID numbers.

Place names mix a few real Aojiang names (flavour only) with combinations of
common characters. Person names are random surname + given-name combinations;
phone numbers use the 170/171 virtual-operator ranges; ID numbers use the unused
region prefix ``990`` so that none can belong to a real person.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "ID_WEIGHTS",
    "NameBook",
    "id_check_digit",
]

AOJIANG_COMMUNITIES = (
    "江滨社区", "振兴社区", "东塘社区", "新河社区", "朝阳社区", "站前社区",
    "望江社区", "滨海社区", "兴港社区", "文化社区", "商贸社区", "华侨社区",
)  # fmt: skip
AOJIANG_VILLAGES = (
    "曾山村", "梅溪村", "墨城村", "宋桥村", "下埠村", "岱口村", "沙岗村", "钱仓村",
    "宋垟村", "白沙村", "凤江村", "西湾村",
)  # fmt: skip
SHARED_VILLAGE_NAMES = ("新华村", "东风村", "前进村")

PLACE_FIRST = "曾林陈宋梅墨钱岱沙朝凤龙金石竹松杨吴郑黄王周徐叶蔡潘东西南北上下前后新大小高长古白青平兴和永福安"  # noqa: E501
PLACE_SECOND = "山溪城桥埠口岗仓垟岙屿湾浦港头塘岭坑洋田园宅墩庄河湖江坦里岩店洲"
COMMUNITY_FIRST = "江河湖海滨港新兴振朝华东南西北中文商锦阳望瑞"
COMMUNITY_SECOND = "滨河湖海港兴华阳城园苑塘桥门湾景"

FAMOUS_STREETS = (
    "江滨路", "工业路", "人民路", "解放街", "建设路", "新华路", "中山路", "文化路",
    "胜利路", "和平路", "站前路", "兴港路", "沿江路", "望江路", "环城路", "府前路",
    "学府路", "商贸街", "车站路", "振兴路", "朝阳路", "花园路",
)  # fmt: skip
STREET_FIRST = "兴富繁新东西南北龙凤锦金银瑞康宁安和平长永嘉华荣昌盛泰丰顺隆祥福明光文德仁春秋"
STREET_SECOND = "业康荣河塘翔鸣绣穗泰安平宁盛兴华丰源江海湖溪山林园桥阳光明新"

SURNAMES = "陈林王黄张李杨郑吴周苏徐蔡叶金谢刘潘朱胡施章余缪郭钟孙季董"
SURNAME_WEIGHTS = np.linspace(3.0, 0.5, len(SURNAMES))
GIVEN = "建国明华伟军平志文海丽芳敏静燕红霞玲娟洁晓春秋永德福顺清宏杰涛斌强鹏勇辉超磊俊浩宇欣怡婷雪琳佳慧美玉秀英兰凤云娜倩蓉"  # noqa: E501

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


def id_check_digit(first17: str) -> str:
    """Compute the GB 11643 check character of a resident ID number.

    Examples
    --------
    >>> id_check_digit("11010519491231002")
    'X'
    """
    total = sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11]


def _combinations(first: str, second: str, suffix: str) -> list[str]:
    """All ``first + second + suffix`` names whose two characters differ."""
    return [a + b + suffix for a in first for b in second if a != b]


class NameBook:
    """Hands out unique synthetic names and numbers from one random stream.

    Parameters
    ----------
    rng
        Source of randomness; the same state gives the same names.
    """

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self._phones: set[str] = set()
        self._ids: set[str] = set()
        villages = _combinations(PLACE_FIRST, PLACE_SECOND, "村")
        communities = _combinations(COMMUNITY_FIRST, COMMUNITY_SECOND, "社区")
        self._village_pool = [villages[i] for i in rng.permutation(len(villages))]
        self._community_pool = [communities[i] for i in rng.permutation(len(communities))]
        streets = [
            name
            for suffix in ("路", "街", "巷")
            for name in _combinations(STREET_FIRST, STREET_SECOND, suffix)
        ]
        self.street_pool = list(FAMOUS_STREETS) + [
            streets[i] for i in rng.permutation(len(streets)) if streets[i] not in FAMOUS_STREETS
        ]

    def village_names(self, n: int, communities: int, aojiang: bool, taken: set[str]) -> list[str]:
        """Name the villages of one town: ``communities`` 社区 first, then 村.

        Names are unique within the call and avoid ``taken`` (the names used in
        other towns), except for the few :data:`SHARED_VILLAGE_NAMES`.
        """
        names: list[str] = []
        wanted = [(communities, self._community_pool, AOJIANG_COMMUNITIES)]
        wanted.append((n - communities, self._village_pool, AOJIANG_VILLAGES))
        for count, pool, famous in wanted:
            source = dict.fromkeys((list(famous) if aojiang else []) + pool)
            fresh = [s for s in source if s not in taken and s not in names]
            names += fresh[:count]
        taken.update(names)
        return names

    def person(self) -> str:
        """Return a random full name such as ``陈晓燕``."""
        p = SURNAME_WEIGHTS / SURNAME_WEIGHTS.sum()
        surname = SURNAMES[self.rng.choice(len(SURNAMES), p=p)]
        size = 1 if self.rng.random() < 0.3 else 2
        return surname + "".join(GIVEN[i] for i in self.rng.integers(0, len(GIVEN), size))

    def phone(self) -> str:
        """Return an unused 11-digit number in the 170/171 ranges."""
        while True:
            number = f"17{self.rng.integers(0, 2)}{self.rng.integers(0, 10**8):08d}"
            if number not in self._phones:
                self._phones.add(number)
                return number

    def id_number(self) -> str:
        """Return an unused 18-character resident ID with region ``990xxx``."""
        while True:
            region = f"990{self.rng.integers(100, 1000)}"
            year = int(self.rng.integers(1940, 2016))
            month = int(self.rng.integers(1, 13))
            day = int(self.rng.integers(1, 29))
            first17 = f"{region}{year}{month:02d}{day:02d}{self.rng.integers(0, 1000):03d}"
            number = first17 + id_check_digit(first17)
            if number not in self._ids:
                self._ids.add(number)
                return number
