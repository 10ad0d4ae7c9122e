"""Personal data: mask phones, ID numbers and names, and find any left unmasked.

Names, phones, ID numbers, health status and the addresses of people in isolation are
personal data: masked for callers who may not read them, and never logged.

A map or a printed sheet travels further than the database it came from, so geogrid's map
layers show a grid worker's *name* only and pass every text they draw through
:func:`mask_personal`. :func:`find_personal` is the check the tests (and anyone publishing a
map) run on the finished HTML or PDF text.

Numbers are matched only when they stand alone: a run of digits glued to other letters or
digits (an element id such as ``map_13912345678ab``, a long coordinate) is not a phone.
Chinese characters next to a number do not protect it: ``电话13812345678`` is found.
"""

from __future__ import annotations

import re

__all__ = [
    "ID_NUMBER_PATTERN",
    "PHONE_PATTERN",
    "find_personal",
    "mask_id_number",
    "mask_name",
    "mask_personal",
    "mask_phone",
]

_EDGE_BEFORE = r"(?<![0-9A-Za-z_])"
_EDGE_AFTER = r"(?![0-9A-Za-z_])"

PHONE_PATTERN = re.compile(_EDGE_BEFORE + r"(1[3-9]\d)(\d{4})(\d{4})" + _EDGE_AFTER)
"""A mainland mobile number: 11 digits starting 13-19, standing alone."""

ID_NUMBER_PATTERN = re.compile(_EDGE_BEFORE + r"(\d{6})(\d{8})(\d{3}[0-9Xx])" + _EDGE_AFTER)
"""A resident identity card number: 17 digits and a check digit or X, standing alone."""


def mask_phone(phone: str | None) -> str | None:
    """Mask the middle four digits of a mobile number, as ``138****5678``.

    Parameters
    ----------
    phone
        A mobile number, possibly with spaces, dashes or a ``+86`` prefix.

    Returns
    -------
    str
        The masked number; text that is not a mobile number is returned with every
        digit replaced by ``*``, so nothing personal leaks through a malformed value.

    Examples
    --------
    >>> mask_phone("13812345678")
    '138****5678'
    >>> mask_phone("+86 138-1234-5678")
    '138****5678'
    >>> mask_phone("0577-1234")
    '****-****'
    >>> mask_phone(None) is None
    True
    """
    if phone is None:
        return None
    digits = re.sub(r"\D", "", phone)
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    match = PHONE_PATTERN.fullmatch(digits)
    if match is None:
        return re.sub(r"\d", "*", phone)
    return f"{match.group(1)}****{match.group(3)}"


def mask_personal(text: str) -> str:
    """Mask every phone and ID number standing alone in a text.

    Parameters
    ----------
    text
        Any text that will be shown on a map (a name, an address, a note).

    Returns
    -------
    str
        The text with phones as ``138****5678`` and ID numbers as ``330326********123X``.

    Examples
    --------
    >>> mask_personal("张三 13812345678")
    '张三 138****5678'
    >>> mask_personal("身份证330326199001011234")
    '身份证330326********1234'
    >>> mask_personal("平阳县 330326-101")
    '平阳县 330326-101'
    """
    text = ID_NUMBER_PATTERN.sub(lambda m: f"{m.group(1)}********{m.group(3)}", text)
    return PHONE_PATTERN.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)


def find_personal(text: str) -> list[str]:
    """Return the unmasked phone and ID numbers standing alone in a text.

    Parameters
    ----------
    text
        The text to check: a map's HTML, a PDF's extracted text, a JSON response.

    Returns
    -------
    list of str
        Every match, ID numbers first; empty when the text is clean.

    Examples
    --------
    >>> find_personal("worker 138****5678, id 330326********1234")
    []
    >>> find_personal('{"phone": "13812345678"}')
    ['13812345678']
    """
    ids = [m.group(0) for m in ID_NUMBER_PATTERN.finditer(text)]
    phones = [m.group(0) for m in PHONE_PATTERN.finditer(text)]
    return ids + phones


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
