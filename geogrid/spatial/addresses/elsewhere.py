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

__all__ = ["PINGYANG_ENCLOSING", "WENZHOU_AND_NEIGHBOURS"]

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
