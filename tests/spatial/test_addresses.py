"""Normalising and parsing Chinese addresses."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geogrid.spatial.addresses import (
    AddressVocabulary,
    ParsedAddress,
    normalize_address,
    parse_address,
)

VOCABULARY = AddressVocabulary(
    counties=["平阳县"],
    towns=["鳌江镇", "萧江镇", "昆阳镇"],
    villages=["曾山村", "江滨社区", "新村"],
    roads=["工业路", "江滨路", "新村路", "104国道"],
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("平阳县鳌江镇曾山村工业路18号", "平阳县鳌江镇曾山村工业路18号"),
        ("平阳县　鳌江镇 曾山村工业路１８号", "平阳县鳌江镇曾山村工业路18号"),
        ("江滨路１２６号Ａ座３０１室", "江滨路126号A幢301室"),
        ("工业路十八号", "工业路18号"),
        ("工业路一百零五号", "工业路105号"),
        ("工业路二十号", "工业路20号"),
        ("江滨路126号三幢二单元三零一室", "江滨路126号3幢2单元301室"),
        ("江滨路126号三幢二单元三〇一", "江滨路126号3幢2单元301"),
        ("江滨路126号3栋2单元301室", "江滨路126号3幢2单元301室"),
        ("江滨路126号3号楼2单元301室", "江滨路126号3幢2单元301室"),
        ("江滨路126号3#楼", "江滨路126号3幢"),
        ("工业路18#", "工业路18号"),
        ("工业路18之2号", "工业路18-2号"),
        ("工业路十八之二号", "工业路18-2号"),
        ("工业路18—2号", "工业路18-2号"),
        ("工业路18－2号", "工业路18-2号"),
        ("工业路第三幢", "工业路3幢"),
        ("江滨路126号301房", "江滨路126号301室"),
        ("曾山村工业路18号附近", "曾山村工业路18号"),
        ("现住址：曾山村工业路18号（对面）", "曾山村工业路18号"),
        ("浙江省温州市平阳县鳌江镇", "平阳县鳌江镇"),
        ("中国浙江平阳县鳌江镇", "平阳县鳌江镇"),
        ("五一路3号", "五一路3号"),  # numerals inside a road name stay
        ("江西路3号", "江西路3号"),  # a province name that starts a road stays
        ("平陽縣鰲江鎮工業路18號", "平阳县鳌江镇工业路18号"),
        ("", ""),
        ("  ，。", ""),
    ],
)
def test_normalize_address(text: str, expected: str) -> None:
    assert normalize_address(text) == expected


def test_normalize_none_is_empty() -> None:
    assert normalize_address(None) == ""


def _parts(parsed: ParsedAddress) -> tuple[str | None, ...]:
    return (
        parsed.county,
        parsed.town,
        parsed.village,
        parsed.road,
        parsed.door,
        parsed.building,
        parsed.unit,
        parsed.room,
    )


@pytest.mark.parametrize("known", [None, VOCABULARY])
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "平阳县鳌江镇曾山村工业路18号",
            ("平阳县", "鳌江镇", "曾山村", "工业路", "18", None, None, None),
        ),
        (
            "平阳县鳌江镇江滨社区江滨路126号3幢2单元301室",
            ("平阳县", "鳌江镇", "江滨社区", "江滨路", "126", "3", "2", "301"),
        ),
        (
            "江滨社区江滨路126号二单元三栋三零一",
            (None, None, "江滨社区", "江滨路", "126", "3", "2", "301"),
        ),
        ("江滨路126号3-2-301", (None, None, None, "江滨路", "126", "3", "2", "301")),
        ("江滨路126号3楼301", (None, None, None, "江滨路", "126", None, None, "301")),
        ("鳌江镇工业路18之2号", (None, "鳌江镇", None, "工业路", "18-2", None, None, None)),
        ("曾山村工业路", (None, None, "曾山村", "工业路", None, None, None, None)),
        ("鳌江镇曾山村", (None, "鳌江镇", "曾山村", None, None, None, None, None)),
        ("104国道58号", (None, None, None, "104国道", "58", None, None, None)),
        ("工业路18", (None, None, None, "工业路", "18", None, None, None)),
        ("301室", (None, None, None, None, None, None, None, "301")),
        ("曾山村委会工业路18号", (None, None, "曾山村", "工业路", "18", None, None, None)),
    ],
)
def test_parse_address(
    text: str, expected: tuple[str | None, ...], known: AddressVocabulary | None
) -> None:
    assert _parts(parse_address(text, known)) == expected


def test_parse_garbage_keeps_it_apart() -> None:
    parsed = parse_address("不详")
    assert _parts(parsed) == (None,) * 8
    assert parsed.rest == "不详"


def test_vocabulary_reads_short_forms() -> None:
    parsed = parse_address("平阳鳌江曾山村工业路18号", VOCABULARY)
    assert (parsed.county, parsed.town, parsed.village) == ("平阳县", "鳌江镇", "曾山村")


def test_vocabulary_splits_a_misspelt_village_from_a_known_road() -> None:
    parsed = parse_address("曾山材工业路18号", VOCABULARY)
    assert (parsed.village, parsed.road, parsed.door) == ("曾山材", "工业路", "18")


def test_vocabulary_splits_a_village_with_a_misspelt_suffix() -> None:
    parsed = parse_address("江滨杜区江宾路8号", VOCABULARY)
    assert (parsed.village, parsed.road, parsed.door) == ("江滨杜区", "江宾路", "8")


def test_vocabulary_prefers_the_longer_road_over_a_village() -> None:
    parsed = parse_address("新村路5号", VOCABULARY)
    assert (parsed.village, parsed.road) == (None, "新村路")
    parsed = parse_address("新村新村路5号", VOCABULARY)
    assert (parsed.village, parsed.road) == ("新村", "新村路")


def test_vocabulary_skips_a_prefecture_before_the_county() -> None:
    parsed = parse_address("温州平阳县鳌江镇曾山村工业路18号", VOCABULARY)
    assert (parsed.county, parsed.town, parsed.rest) == ("平阳县", "鳌江镇", "温州")


def test_village_suffix_inside_a_road_is_not_a_village() -> None:
    parsed = parse_address("新村路5号")
    assert (parsed.village, parsed.road) == (None, "新村路")


def test_road_runs_up_to_the_number() -> None:
    assert parse_address("银街大道8号").road == "银街大道"


def test_vocabulary_from_gazetteer_columns() -> None:
    frame = {"county": ["平阳县"], "town": ["鳌江镇"], "village": ["曾山村"], "road": ["工业路"]}
    vocabulary = AddressVocabulary.from_gazetteer(frame)
    assert "曾山村" in vocabulary.villages
    assert "工业路" in vocabulary.roads


ADDRESS_CHARS = st.sampled_from(
    list(
        "零〇一二两三四五六七八九十百千之第号幢栋座楼层单元室弄路街巷村社区镇乡县市省"
        "中国浙江温州平阳鳌江曾山工业附近对面旁边房间-－—#  ，。()（）ＡａAa0123456789０１２３"
    )
)


@settings(max_examples=300, deadline=None)
@given(st.text(ADDRESS_CHARS | st.characters(), max_size=40))
def test_normalize_is_idempotent_and_total(text: str) -> None:
    once = normalize_address(text)
    assert normalize_address(once) == once
    parse_address(text)
    parse_address(text, VOCABULARY)
