"""Masking of phone and ID numbers, and the docstring examples of geogrid.maps."""

from __future__ import annotations

import pytest

from geogrid.privacy import find_personal, mask_personal, mask_phone


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("13812345678", "138****5678"),
        ("+86 139 1234 5678", "139****5678"),
        ("86-15912345678", "159****5678"),
        ("12345", "*****"),
    ],
)
def test_mask_phone(raw: str, masked: str) -> None:
    assert mask_phone(raw) == masked


def test_mask_personal_finds_numbers_next_to_chinese_text() -> None:
    text = "网格员张三电话13812345678，身份证33032619900101123X。"
    masked = mask_personal(text)
    assert masked == "网格员张三电话138****5678，身份证330326********123X。"
    assert find_personal(text) == ["33032619900101123X", "13812345678"]
    assert find_personal(masked) == []


def test_numbers_glued_to_letters_or_longer_runs_are_not_phones() -> None:
    assert find_personal("map_13812345678ab") == []
    assert find_personal("27.138123456789012") == []
    assert find_personal("330326-101-001") == []
