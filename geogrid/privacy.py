"""Personal data: what may be shown to whom, and how the rest is masked.

Names, phones, ID numbers, health status and the addresses of people in isolation are
personal data. They are masked for callers who may not read them and never logged.
"""

from __future__ import annotations

import re

__all__ = ["PHONE_PATTERN", "mask_id_number", "mask_name", "mask_phone"]

PHONE_PATTERN = re.compile(r"1[3-9]\d{9}")


def mask_phone(phone: str | None) -> str | None:
    """Keep the first three and last four digits of a mobile number.

    Examples
    --------
    >>> mask_phone("13812345678")
    '138****5678'
    >>> mask_phone(None) is None
    True
    """
    if not phone:
        return phone
    digits = re.sub(r"\D", "", phone)
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"


def mask_name(name: str | None) -> str | None:
    """Keep the family name (first character) of a Chinese name.

    Examples
    --------
    >>> mask_name("张小明")
    '张**'
    """
    if not name:
        return name
    return name[0] + "*" * (len(name) - 1)


def mask_id_number(id_number: str | None) -> str | None:
    """Keep the first six and last two characters of a resident ID number.

    Examples
    --------
    >>> mask_id_number("990101199001011234")
    '990101**********34'
    """
    if not id_number:
        return id_number
    if len(id_number) <= 8:
        return "*" * len(id_number)
    return id_number[:6] + "*" * (len(id_number) - 8) + id_number[-2:]
