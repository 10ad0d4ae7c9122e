"""Matching declared addresses against a small standard-address gazetteer."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, box

from geogrid.errors import IngestError
from geogrid.spatial.addresses import AddressMatch, AddressMatcher

# (town, village, road, number, building, unit, room, lon, lat)
ROWS = [
    ("鳌江镇", "曾山村", "工业路", "16", None, None, None, 120.5010, 27.6010),
    ("鳌江镇", "曾山村", "工业路", "18", None, None, None, 120.5012, 27.6012),
    ("鳌江镇", "曾山村", "工业路", "18-2", None, None, None, 120.5013, 27.6013),
    ("鳌江镇", "曾山村", "工业路", "20", None, None, None, 120.5014, 27.6014),
    ("鳌江镇", "曾山村", "曾山路", "1", None, None, None, 120.5030, 27.6030),
    ("鳌江镇", "曾山村", "曾山路", "3", None, None, None, 120.5032, 27.6032),
    ("鳌江镇", "江滨社区", "江滨路", "126", "3", "2", "301", 120.5210, 27.6110),
    ("鳌江镇", "江滨社区", "江滨路", "126", "3", "2", "302", 120.5210, 27.6110),
    ("鳌江镇", "江滨社区", "江滨路", "126", "2", "3", "101", 120.5211, 27.6111),
    ("鳌江镇", "江滨社区", "江滨路", "128", None, None, None, 120.5214, 27.6114),
    ("鳌江镇", "新华村", "新华路", "5", None, None, None, 120.5410, 27.6210),
    ("鳌江镇", "新华村", "新华路", "7", None, None, None, 120.5412, 27.6212),
    ("萧江镇", "新华村", "新华路", "5", None, None, None, 120.4010, 27.5010),
    ("萧江镇", "新华村", "兴港路", "9", None, None, None, 120.4020, 27.5020),
    ("萧江镇", "梅溪村", "梅溪路", "1", None, None, None, 120.4210, 27.5110),
    ("萧江镇", "梅溪村", "梅溪路", "2", None, None, None, 120.4212, 27.5112),
    ("萧江镇", "梅西村", "梅溪路", "2", None, None, None, 120.4410, 27.5210),
]


def _full_text(town: str, village: str, road: str, number: str, *subs: str | None) -> str:
    tail = "".join(f"{v}{w}" for v, w in zip(subs, ("幢", "单元", "室"), strict=True) if v)
    return f"平阳县{town}{village}{road}{number}号{tail}"


def gazetteer() -> gpd.GeoDataFrame:
    records = [
        {
            "code": f"A{i:02d}",
            "full_text": _full_text(*row[:7]),
            "county": "平阳县",
            "town": row[0],
            "village": row[1],
            "road": row[2],
            "number": row[3],
            "building": row[4],
            "unit": row[5],
            "room": row[6],
            "geometry": Point(row[7], row[8]),
        }
        for i, row in enumerate(ROWS)
    ]
    return gpd.GeoDataFrame(records, geometry="geometry", crs=4326)


def village_polygons() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "town": ["鳌江镇", "鳌江镇"],
            "village": ["曾山村", "白沙村"],
            "geometry": [box(120.50, 27.60, 120.51, 27.61), box(120.60, 27.70, 120.61, 27.71)],
        },
        crs=4326,
    )


@pytest.fixture(scope="module")
def matcher() -> AddressMatcher:
    return AddressMatcher.from_gazetteer(gazetteer())


def code_of(*row: str | None) -> str:
    for i, r in enumerate(ROWS):
        if r[: len(row)] == row:
            return f"A{i:02d}"
    raise KeyError(row)


@pytest.mark.parametrize(
    "text",
    [
        "平阳县鳌江镇曾山村工业路18号",
        "鳌江镇曾山村工业路18号",
        "曾山村工业路18号",
        "平阳县鳌江镇曾山村工业路１８号",
        "鳌江镇曾山村工业路十八号",
        "鳌江曾山村工业路18号",
        "鳌江镇 曾山村，工业路18号附近",
        "浙江省温州市鳌江镇曾山村工业路18号",
        "浙江省温州市平阳县鳌江镇曾山村工业路18号",
    ],
)
def test_house_level_through_noise(matcher: AddressMatcher, text: str) -> None:
    m = matcher.match(text)
    assert (m.level, m.code) == ("house", code_of("鳌江镇", "曾山村", "工业路", "18"))
    assert m.point == (120.5012, 27.6012)
    assert m.confidence >= 0.9
    assert (m.town, m.village, m.road) == ("鳌江镇", "曾山村", "工业路")


def test_exact_text_is_certain(matcher: AddressMatcher) -> None:
    m = matcher.match("平阳县鳌江镇曾山村工业路18号")
    assert (m.method, m.confidence, m.full_text) == ("exact", 1.0, "平阳县鳌江镇曾山村工业路18号")


@pytest.mark.parametrize(
    "text",
    [
        "鳌江镇江滨社区江滨路126号3幢2单元301室",
        "鳌江镇江滨社区江滨路126号3栋2单元301室",
        "鳌江镇江滨社区江滨路126号3号楼2单元301",
        "鳌江镇江滨社区江滨路126号2单元3座301室",
        "鳌江镇江滨社区江滨路一百二十六号三幢二单元三零一室",
        "江滨社区江滨路126号3-2-301",
    ],
)
def test_building_unit_room_variants(matcher: AddressMatcher, text: str) -> None:
    m = matcher.match(text)
    assert (m.level, m.code) == (
        "house",
        code_of("鳌江镇", "江滨社区", "江滨路", "126", "3", "2", "301"),
    )
    assert m.confidence >= 0.8


@pytest.mark.parametrize(
    "text",
    [
        "鳌江镇曾山村工业路十八之二号",
        "鳌江镇曾山村工业路18号之2",
        "鳌江镇曾山村工业路18号附2",
        "鳌江镇曾山村工业路18附2号",
        "鳌江镇曾山村工业路18号-2",
        "鳌江镇曾山村工业路18-2号",
        "鳌江镇曾山村工业路18号附二",
    ],
)
def test_sub_numbers(matcher: AddressMatcher, text: str) -> None:
    m = matcher.match(text)
    assert (m.level, m.code) == ("house", code_of("鳌江镇", "曾山村", "工业路", "18-2"))
    assert (m.parsed.number, m.parsed.sub_number) == ("18", "2")


def test_answers_say_why(matcher: AddressMatcher) -> None:
    m = matcher.match("你好，我是鳌江曾三工业路18号的，门口")
    assert (m.level, m.village) == ("house", "曾山村")
    assert "homophone in village (曾三村 for 曾山村)" in m.reasons
    assert any(r.startswith("town abbreviated") for r in m.reasons)
    assert {"你好我是", "门口"} <= set(m.ignored)
    assert 0.5 <= m.confidence < 0.8


def test_road_type_slip(matcher: AddressMatcher) -> None:
    m = matcher.match("鳌江镇曾山村工业街18号")
    assert (m.level, m.code) == ("house", code_of("鳌江镇", "曾山村", "工业路", "18"))
    assert "road type differs (工业街 for 工业路)" in m.reasons


@pytest.mark.parametrize(
    "text",
    ["苍南县灵溪镇曾山村工业路18号", "灵溪镇曾山村工业路18号", "瑞安曾山村工业路18号"],
)
def test_a_place_named_outside_the_county_gets_no_village(
    matcher: AddressMatcher, text: str
) -> None:
    m = matcher.match(text)
    assert (m.level, m.village, m.method) == ("none", None, "elsewhere")


@pytest.mark.parametrize(
    "text",
    [
        "我是鳌江曾山村工业路18号的，刚从瑞安市回来",  # a place after the address
        "灵溪人，现住鳌江曾山村工业路18号",  # where the caller is from, not the address
        "鳌江镇曾山村工业路18号旁边那栋高楼",  # 高楼 is also a town of Rui'an
        "浙江省温州市鳌江镇曾山村工业路18号",  # the enclosing city is not elsewhere
    ],
)
def test_places_in_the_chatter_do_not_move_the_address(matcher: AddressMatcher, text: str) -> None:
    m = matcher.match(text)
    assert (m.level, m.code) == ("house", code_of("鳌江镇", "曾山村", "工业路", "18"))
    assert m.confidence >= 0.8


def test_an_unknown_town_is_below_half(matcher: AddressMatcher) -> None:
    m = matcher.match("红星镇曾山村工业路18号")
    assert m.confidence < 0.5
    assert "town not in the gazetteer (红星镇)" in m.reasons


def test_landmark_is_parsed(matcher: AddressMatcher) -> None:
    m = matcher.match("鳌江曾山村村委会旁边")
    assert (m.level, m.village, m.parsed.landmark) == ("village", "曾山村", "村委会")


def test_missing_room_still_finds_the_door(matcher: AddressMatcher) -> None:
    m = matcher.match("鳌江镇江滨社区江滨路126号")
    assert m.level == "house"
    assert m.code in {code_of("鳌江镇", "江滨社区", "江滨路", "126", b) for b in ("3", "2")}
    assert m.confidence >= 0.8


def test_road_typo_is_tolerated(matcher: AddressMatcher) -> None:
    m = matcher.match("鳌江镇曾山村工亚路18号")
    assert (m.level, m.code, m.method) == (
        "house",
        code_of("鳌江镇", "曾山村", "工业路", "18"),
        "fuzzy",
    )
    assert 0.8 <= m.confidence < 1.0


def test_village_typo_matches_with_low_confidence(matcher: AddressMatcher) -> None:
    m = matcher.match("鳌江镇曾三村工业路18号")
    assert (m.level, m.village) == ("house", "曾山村")
    assert m.confidence < 0.8


def test_unknown_village_falls_back_to_its_town(matcher: AddressMatcher) -> None:
    m = matcher.match("鳌江镇红旗村工业路18号")
    assert (m.level, m.town, m.village, m.code) == ("town", "鳌江镇", None, None)
    assert m.point is not None
    assert m.confidence < 0.8


def test_unknown_village_without_town_is_unmatched(matcher: AddressMatcher) -> None:
    m = matcher.match("红旗村工业路18号")
    assert (m.level, m.point, m.village, m.confidence) == ("none", None, None, 0.0)


def test_repeated_village_without_town_is_ambiguous(matcher: AddressMatcher) -> None:
    m = matcher.match("新华村新华路5号")
    assert m.level == "none"
    assert m.village is None
    assert m.method == "ambiguous"
    assert {c.town for c in m.candidates} == {"鳌江镇", "萧江镇"}
    assert all(c.level == "house" and c.point is not None for c in m.candidates)


def test_repeated_village_resolved_by_its_road(matcher: AddressMatcher) -> None:
    m = matcher.match("新华村兴港路9号")
    assert (m.level, m.town, m.code) == (
        "house",
        "萧江镇",
        code_of("萧江镇", "新华村", "兴港路", "9"),
    )
    assert m.candidates, "the other 新华村 is listed"


def test_repeated_village_with_town_is_certain(matcher: AddressMatcher) -> None:
    m = matcher.match("鳌江镇新华村新华路5号")
    assert (m.town, m.code, m.candidates) == (
        "鳌江镇",
        code_of("鳌江镇", "新华村", "新华路", "5"),
        (),
    )
    assert m.confidence >= 0.9


def test_village_in_another_town_is_not_trusted(matcher: AddressMatcher) -> None:
    m = matcher.match("萧江镇曾山村工业路18号")
    assert m.confidence < 0.8


def test_unknown_town_is_not_trusted(matcher: AddressMatcher) -> None:
    m = matcher.match("钱仓镇曾山村工业路18号")
    assert (m.level, m.village) == ("house", "曾山村")
    assert m.confidence < 0.8


def test_confusable_village_names_lower_confidence(matcher: AddressMatcher) -> None:
    m = matcher.match("萧江镇梅西村梅溪路2号")
    assert (m.level, m.village) == ("house", "梅西村")
    assert m.confidence < 0.8
    assert "梅溪村" in {c.village for c in m.candidates}


def test_village_inferred_from_a_road(matcher: AddressMatcher) -> None:
    m = matcher.match("鳌江镇工业路20号")
    assert (m.level, m.village, m.method) == ("house", "曾山村", "inferred")
    assert m.confidence >= 0.8


def test_road_level(matcher: AddressMatcher) -> None:
    m = matcher.match("鳌江镇曾山村工业路")
    assert (m.level, m.road, m.code) == ("road", "工业路", None)
    assert m.point in {(120.5012, 27.6012), (120.5013, 27.6013)}  # the road's middle house


def test_unknown_number_gives_road_level_at_the_nearest_house(matcher: AddressMatcher) -> None:
    m = matcher.match("鳌江镇曾山村工业路22号")
    assert (m.level, m.point) == ("road", (120.5014, 27.6014))


def test_village_level(matcher: AddressMatcher) -> None:
    m = matcher.match("鳌江镇曾山村")
    assert (m.level, m.village, m.road) == ("village", "曾山村", None)
    assert m.confidence >= 0.8


def test_road_missing_from_the_village_lowers_confidence(matcher: AddressMatcher) -> None:
    m = matcher.match("鳌江镇曾山村不知名路")
    assert (m.level, m.village, m.road) == ("village", "曾山村", None)
    assert m.confidence < 0.8


def test_town_level(matcher: AddressMatcher) -> None:
    m = matcher.match("平阳县鳌江镇")
    assert (m.level, m.town) == ("town", "鳌江镇")
    assert m.confidence < 0.8


@pytest.mark.parametrize("text", ["301室", "不详", "", "？？？", "2单元301"])
def test_garbage_is_unmatched(matcher: AddressMatcher, text: str) -> None:
    m = matcher.match(text)
    assert (m.level, m.point, m.confidence) == ("none", None, 0.0)


def test_village_polygons_give_points_and_new_villages() -> None:
    matcher = AddressMatcher.from_gazetteer(gazetteer(), village_polygons())
    m = matcher.match("鳌江镇曾山村")
    assert m.level == "village"
    assert box(120.50, 27.60, 120.51, 27.61).contains(Point(m.point))
    m = matcher.match("鳌江镇白沙村8号")
    assert (m.level, m.village) == ("village", "白沙村")


def test_projected_gazetteer_is_reprojected() -> None:
    projected = gazetteer().to_crs(32651)
    m = AddressMatcher.from_gazetteer(projected).match("鳌江镇曾山村工业路18号")
    assert m.point == pytest.approx((120.5012, 27.6012), abs=1e-9)


def test_lon_lat_columns_are_enough() -> None:
    frame = pd.DataFrame(gazetteer().drop(columns="geometry"))
    frame["lon"] = [r[7] for r in ROWS]
    frame["lat"] = [r[8] for r in ROWS]
    m = AddressMatcher.from_gazetteer(frame).match("鳌江镇曾山村工业路18号")
    assert m.point == (120.5012, 27.6012)


def test_missing_column_is_refused() -> None:
    with pytest.raises(IngestError, match="village"):
        AddressMatcher.from_gazetteer(gazetteer().drop(columns="village"))


TEXTS = [
    "鳌江镇曾山村工业路18号",
    "鳌江镇曾山村工业路十八号",
    "鳌江镇曾三村工业路18号",
    "新华村新华路5号",
    "新华村兴港路9号",
    "鳌江镇红旗村工业路18号",
    "鳌江镇曾山村工业路",
    "301室",
    "鳌江镇曾山村工业路18号",
]


def test_batch_equals_single(matcher: AddressMatcher) -> None:
    batch = matcher.match_many(TEXTS)
    assert batch == [matcher.match(t) for t in TEXTS]
    assert [m.text for m in batch] == TEXTS


def test_answers_are_well_formed(matcher: AddressMatcher) -> None:
    for m in matcher.match_many(TEXTS):
        _check(m)


def _check(m: AddressMatch) -> None:
    assert 0.0 <= m.confidence <= 1.0
    assert (m.point is None) == (m.level == "none")
    assert (m.code is not None) == (m.level == "house")
    if m.village is not None:
        assert m.level in {"house", "road", "village"}
    if m.point is not None:
        assert shapely.Point(m.point).within(box(120.0, 27.0, 121.0, 28.0))


@settings(max_examples=150, deadline=None)
@given(
    text=st.text(
        st.sampled_from(list("鳌江镇曾山村工业路新华梅溪西红旗十八号幢单元室0123456789-之")),
        max_size=25,
    )
)
def test_matcher_never_raises(matcher: AddressMatcher, text: str) -> None:
    _check(matcher.match(text))
