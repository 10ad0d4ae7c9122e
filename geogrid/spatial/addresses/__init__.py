"""Addresses as people type them: normalise, parse and match them to the gazetteer.

Pure text and in-memory work (no SQL, no files). Modules, one step each:

- :mod:`.normalize` — :func:`normalize_address`: one spelling for full-width digits,
  Chinese numerals, traditional characters, sub-numbers and building words;
- :mod:`.text` — :func:`parse_address`: the parts ``county town village road number
  sub-number building unit room landmark`` and the words it ignored;
- :mod:`._index` — the gazetteer held in memory, by town, village, road and door;
- :mod:`._search` — the villages, roads and doors a parsed address may refer to;
- :mod:`.elsewhere` — places outside the county (neighbours' counties and towns) and
  :class:`~.elsewhere.OutsidePlaces`, which finds them in a text;
- :mod:`.match` — :class:`AddressMatcher`: the best place, its level, its confidence and
  why;
- :mod:`.evaluation` — figures of any matcher's answers on a set with known truth.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"code": ["A1"], "full_text": ["平阳县鳌江镇曾山村工业路18号"],
...     "county": "平阳县", "town": "鳌江镇", "village": "曾山村", "road": "工业路",
...     "number": ["18"], "lon": [120.58], "lat": [27.59]})
>>> AddressMatcher.from_gazetteer(frame).match("鳌江曾山村工业路十八号").code
'A1'
"""

from geogrid.spatial.addresses.evaluation import (
    EvalAnswer,
    EvalFigures,
    EvalRow,
    KindFigures,
    score_answers,
)
from geogrid.spatial.addresses.match import (
    AddressCandidate,
    AddressMatch,
    AddressMatcher,
    MatchLevel,
)
from geogrid.spatial.addresses.normalize import dropped_words, normalize_address
from geogrid.spatial.addresses.text import AddressVocabulary, ParsedAddress, parse_address

__all__ = [
    "AddressCandidate",
    "AddressMatch",
    "AddressMatcher",
    "AddressVocabulary",
    "EvalAnswer",
    "EvalFigures",
    "EvalRow",
    "KindFigures",
    "MatchLevel",
    "ParsedAddress",
    "dropped_words",
    "normalize_address",
    "parse_address",
    "score_answers",
]
