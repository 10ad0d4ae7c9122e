"""Address matching split by county: small names for the province, doors per county.

A province's gazetteer (~20 million standard addresses) does not fit in an API worker,
but its *names* do: towns, villages and roads with their points and the vocabulary. A
:class:`CountyPart` is what one county contributes, built from that county's addresses
and its town and village grids alone: its names, and its doors
(:class:`~geogrid.spatial.addresses._index.CountyHouses`). :func:`partitioned_matcher`
joins every county's names into one matcher that reads doors through a mapping from
county name, which the workspace fills lazily (a bounded LRU of county snapshots).

The matcher runs the same search on the same names as one built from the whole
gazetteer at once, and reads a county's doors only when the text leads there (a named
county, or a town, village or road of it): its answers are equal
(``tests/spatial/test_address_counties.py``, and with PostGIS
``tests/db/test_county_addresses.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

import pandas as pd

from geogrid.spatial.addresses._index import (
    AddressIndex,
    CountyHouses,
    component,
    merge_indexes,
)
from geogrid.spatial.addresses.match import AddressMatcher

__all__ = [
    "CountyHouses",
    "CountyPart",
    "county_key",
    "county_part",
    "grids_of_county",
    "partitioned_matcher",
]


def county_key(name: object) -> str:
    """The name a county's doors are filed under (its normalised spelling)."""
    return component("county", name)


@dataclass(frozen=True)
class CountyPart:
    """One county's share of the address matcher.

    Attributes
    ----------
    county
        The county's name as filed (:func:`county_key`).
    names
        Its towns, villages and roads (an index without doors).
    houses
        Its doors: None when it has no standard address, or when only the names are
        kept (:meth:`names_only`).
    rows
        How many standard addresses it has.
    first_code
        The smallest of their codes (counties are ordered by it, as the gazetteer is).
    """

    county: str
    names: AddressIndex
    houses: CountyHouses | None
    rows: int
    first_code: str

    def names_only(self) -> CountyPart:
        """This part without its doors."""
        return replace(self, houses=None)


def grids_of_county(grids: pd.DataFrame, county_code: str) -> pd.DataFrame:
    """The county grid ``county_code`` with its towns and villages (by parent codes)."""
    county = grids.loc[grids["code"] == county_code]
    towns = grids.loc[(grids["level"] == "town") & (grids["parent_code"] == county_code)]
    villages = grids.loc[
        (grids["level"] == "village") & grids["parent_code"].isin(set(towns["code"]))
    ]
    return pd.concat([county, towns, villages])


def county_part(gazetteer: pd.DataFrame, grids: pd.DataFrame, county: str) -> CountyPart:
    """Build one county's part from its addresses and its grids (:func:`grids_of_county`).

    ``gazetteer`` holds the rows whose county is ``county`` (any spelling that
    :func:`county_key` files under it); empty when the county has none.
    """
    index = AddressMatcher.from_grids(gazetteer, grids).index
    houses = index.houses.get(county)
    if houses is None:
        return CountyPart(county, index.names_only(), None, 0, "")
    return CountyPart(county, index.names_only(), houses, len(houses), str(min(houses.codes)))


def partitioned_matcher(
    parts: Iterable[AddressIndex], houses: Mapping[str, CountyHouses]
) -> AddressMatcher:
    """A matcher over every county's names (``CountyPart.names``) that reads a county's
    doors from ``houses`` (county name → doors) only when an address leads there."""
    return AddressMatcher(merge_indexes(parts, houses))
