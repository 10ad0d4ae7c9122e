"""Address matching split by county (:mod:`geogrid.spatial.addresses.counties`) answers as
the matcher built from the whole gazetteer, on 3 generated counties whose towns, villages
and roads repeat from county to county, while holding one county's doors at a time."""

from __future__ import annotations

import pickle
import random
import sys
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from geogrid.spatial.addresses import AddressMatcher
from geogrid.spatial.addresses.counties import (
    CountyHouses,
    county_key,
    county_part,
    grids_of_county,
    partitioned_matcher,
)

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from geodata._province import write_province  # noqa: E402
from geodata.generate import generate  # noqa: E402


class OneCounty(Mapping[str, CountyHouses]):
    """Doors from pickles, one county held at a time; counts the loads."""

    def __init__(self, pickled: dict[str, bytes]) -> None:
        self._pickled = pickled
        self._held: OrderedDict[str, CountyHouses] = OrderedDict()
        self.loads: list[str] = []

    def __getitem__(self, county: str) -> CountyHouses:
        if county not in self._held:
            self.loads.append(county)
            self._held.clear()
            self._held[county] = pickle.loads(self._pickled[county])
        return self._held[county]

    def __iter__(self) -> Iterator[str]:
        return iter(self._pickled)

    def __len__(self) -> int:
        return len(self._pickled)


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    out = tmp_path_factory.mktemp("province")
    write_province(generate, out, counties=3, county_scale="tiny", seed=7)
    return gpd.read_parquet(out / "addresses"), gpd.read_parquet(out / "grids")


@pytest.fixture(scope="module")
def matchers(
    province: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame],
) -> tuple[AddressMatcher, AddressMatcher, OneCounty]:
    addresses, grids = province
    whole = AddressMatcher.from_grids(addresses, grids)
    parts, pickled = [], {}
    for code, name in grids.loc[grids["level"] == "county", ["code", "name"]].itertuples(
        index=False
    ):
        rows = addresses.loc[addresses["county"] == name]
        part = county_part(rows, grids_of_county(grids, code), county_key(name))
        parts.append(pickle.loads(pickle.dumps(part.names)))  # as from a snapshot
        assert part.houses is not None
        pickled[part.county] = pickle.dumps(part.houses)
    houses = OneCounty(pickled)
    return whole, partitioned_matcher(parts, houses), houses


def evaluation_texts(addresses: pd.DataFrame) -> list[str]:
    """Standard texts, and the ways people write them: no county, no town, a slip, a
    road and door only, another county's name, chatter."""
    rng = random.Random(3)
    rows = addresses.sample(120, random_state=5)
    texts = []
    for full, county, town, village, road, number in rows[
        ["full_text", "county", "town", "village", "road", "number"]
    ].itertuples(index=False):
        rest = full[len(county) :]
        cut = rng.randrange(len(village))
        texts += [
            full,
            rest,  # the county left out: the same place may be in two counties
            full.replace(town, ""),
            f"{county}{town}{village[:cut]}{village[cut + 1 :]}{road}{number}号",
            f"{road}{number}号",
            f"{village}{road}{number}号",
            f"你好我住在{rest}附近",
            f"苍南县{rest}",
            f"{county}{town}{village}不存在路{number}号",
        ]
    return texts


def test_the_partitioned_matcher_answers_as_the_whole(
    province: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame],
    matchers: tuple[AddressMatcher, AddressMatcher, OneCounty],
) -> None:
    addresses, _ = province
    whole, partitioned, houses = matchers
    texts = evaluation_texts(addresses)
    expected = whole.match_many(texts)
    assert partitioned.match_many(texts) == expected
    assert len(set(houses.loads)) == 3  # every county was needed, one at a time
    assert len(houses.loads) > 3  # ... and loaded again after another one's turn
    levels = {m.level for m in expected}
    assert {"house", "village", "none"} <= levels


def test_a_named_county_decides_the_door(
    province: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame],
    matchers: tuple[AddressMatcher, AddressMatcher, OneCounty],
) -> None:
    addresses, _ = province
    whole, partitioned, houses = matchers
    rest = addresses["full_text"].str.slice(3)
    shared = addresses.loc[rest.duplicated(keep=False)].assign(rest=rest)
    assert shared["county"].nunique() >= 2  # the same standard text in two counties
    pair = shared.groupby("rest").filter(lambda g: g["county"].nunique() >= 2)
    assert len(pair) >= 2
    for full, code in pair[["full_text", "code"]].head(20).itertuples(index=False):
        houses.loads.clear()
        houses._held.clear()  # start cold
        answer = partitioned.match(full)
        assert (answer.level, answer.code) == ("house", code)
        assert houses.loads == [county_key(full[:3])]  # only the named county was read
        assert whole.match(full) == answer
