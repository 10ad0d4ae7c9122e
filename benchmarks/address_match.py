"""Benchmark address matching: accuracy on noisy addresses, calibration, throughput.

Builds a held-out set of noisy declared addresses from a gazetteer (typos, dropped
county or town, full-width digits, Chinese numerals, building words, road-only,
unknown villages, ...) with the true answer, runs :class:`AddressMatcher`, and
prints top-1 accuracy by noise kind and level, a confidence calibration table and
the batch throughput. Seeded and deterministic.

Targets: village correct >= 98 %, house correct >= 90 %, no answer in a wrong
village with confidence >= 0.8, 10,000 addresses in under 10 s.

With ``--eval`` it scores instead the hand-written set ``tests/data/address_eval.csv``
(addresses as people type them) with three matchers side by side, located in the demo
grids the same way: geogrid's matcher; PostgreSQL's pg_trgm nearest standard address
(``%`` on the GIN trigram index, most similar row; needs a database holding the demo data,
``geogrid load demo``); and cpca's parse (province, city, county) followed by a plain
gazetteer lookup of the town, village, road and door names in the rest of the text.

Usage::

    .venv/bin/python benchmarks/address_match.py              # demo GeoPackage, else synthetic
    .venv/bin/python benchmarks/address_match.py --eval       # hand-written set, three matchers
    .venv/bin/python benchmarks/address_match.py --synthetic  # synthetic gazetteer of ~50,000
    .venv/bin/python benchmarks/address_match.py --cases 5000 --seed 3
"""

from __future__ import annotations

import argparse
import csv
import itertools
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from rapidfuzz.distance import Levenshtein

from geogrid.spatial.addresses import (
    AddressMatch,
    AddressMatcher,
    EvalAnswer,
    EvalFigures,
    EvalRow,
    score_answers,
)
from geogrid.spatial.gridindex import GridIndex

EVAL = Path(__file__).resolve().parents[1] / "tests" / "data" / "address_eval.csv"

DEMO = Path(__file__).resolve().parents[1] / "geodata" / "pingyang-demo.gpkg.zip"

TOWNS = (
    "鳌江镇", "昆阳镇", "萧江镇", "水头镇", "万全镇", "腾蛟镇", "山门镇", "顺溪镇",
    "南雁镇", "海西镇", "麻步镇", "凤卧镇", "怀溪镇", "南麂镇", "宋桥镇", "青街畲族乡",
)  # fmt: skip
PLACE_FIRST = "曾林陈宋梅墨钱岱沙朝凤龙金石竹松杨吴郑黄王周徐叶蔡潘东西南北上下前后新大小高长古白青平兴和永福安"  # noqa: E501
PLACE_SECOND = "山溪城桥埠口岗仓垟岙屿湾浦港头塘岭坑洋田园宅墩庄河湖江坦里岩店洲"
STREET_FIRST = "兴富繁新东西南北龙凤锦金银瑞康宁安和平长永嘉华荣昌盛泰丰顺隆祥福明光文德仁春秋"
STREET_SECOND = "业康荣河塘翔鸣绣穗泰安平宁盛兴华丰源江海湖溪山林园桥阳光明新"
SHARED_VILLAGES = ("新华村", "东风村", "前进村")
CN_DIGITS = "零一二三四五六七八九"
FULL_WIDTH = str.maketrans("0123456789ABC-", "０１２３４５６７８９ＡＢＣ－")
SUFFIX_SLIPS = {"村": "材", "路": "璐", "街": "接", "社区": "杜区", "巷": "港"}


# --------------------------------------------------------------------------- gazetteer


def full_text(row: dict) -> str:
    text = f"{row['county']}{row['town']}{row['village']}{row['road']}{row['number']}号"
    for key, word in (("building", "幢"), ("unit", "单元"), ("room", "室")):
        if _clean(row.get(key)):
            text += f"{row[key]}{word}"
    return text


def synthetic_gazetteer(rng: np.random.Generator, target: int = 50_000) -> gpd.GeoDataFrame:
    """A county of 16 towns, ~400 villages, ~1,700 village roads, ~``target`` addresses."""
    places = [a + b for a in PLACE_FIRST for b in PLACE_SECOND if a != b]
    streets = [a + b for a in STREET_FIRST for b in STREET_SECOND if a != b]
    rng.shuffle(places)
    place_iter = iter(places)
    rows: list[dict] = []
    per_village = target / (len(TOWNS) * 28)
    for t, town in enumerate(TOWNS):
        town_xy = np.array([120.35 + 0.07 * (t % 4), 27.5 + 0.06 * (t // 4)])
        n_villages = int(rng.integers(20, 36))
        names = [
            next(place_iter) + ("社区" if rng.random() < 0.2 else "村") for _ in range(n_villages)
        ]
        if t % 5 == 0:  # a few village names repeat across towns
            names[: len(SHARED_VILLAGES)] = SHARED_VILLAGES
        street_iter = iter(rng.permutation(streets).tolist())  # road names repeat across towns
        main_road, main_next = next(street_iter) + "大道", 1
        for v, village in enumerate(names):
            village_xy = town_xy + rng.normal(0, 0.012, 2)
            community = village.endswith("社区")
            n_roads = int(rng.integers(2, 7))
            roads = [
                next(street_iter) + str(rng.choice(["路", "路", "街", "巷"]))
                for _ in range(n_roads)
            ]
            if v % 4 == 0:
                roads[0] = main_road  # a town's main road runs through several villages
            for road in roads:
                heading = rng.uniform(0, np.pi)
                step = np.array([np.cos(heading), np.sin(heading)]) * 0.00025
                start = village_xy + rng.normal(0, 0.003, 2)
                n_numbers = max(
                    3, int(rng.poisson(per_village / n_roads / (3 if community else 1)))
                )
                first = 1
                if road == main_road:  # one numbering along the whole main road
                    first, main_next = main_next, main_next + n_numbers
                for k in range(first, first + n_numbers):
                    number = str(2 * k - (k % 2))
                    if rng.random() < 0.06:
                        number = f"{number}-{int(rng.integers(1, 4))}"
                    xy = start + step * k + rng.normal(0, 0.00003, 2)
                    base = {
                        "county": "平阳县", "town": town, "village": village, "road": road,
                        "number": number, "lon": xy[0], "lat": xy[1],
                    }  # fmt: skip
                    if community and rng.random() < 0.7:
                        for b in range(1, int(rng.integers(2, 4)) + 1):
                            for u in range(1, int(rng.integers(1, 3)) + 1):
                                for floor in range(1, int(rng.integers(2, 4)) + 1):
                                    rows.append(
                                        base
                                        | {"building": str(b), "unit": str(u)}
                                        | {"room": f"{floor}0{int(rng.integers(1, 3))}"}
                                    )
                    else:
                        rows.append(base)
    frame = pd.DataFrame(rows).drop_duplicates(
        ["town", "village", "road", "number", "building", "unit", "room"]
    )
    frame = frame.reset_index(drop=True)
    frame["code"] = [f"330326-A{i:06d}" for i in range(len(frame))]
    frame["full_text"] = [full_text(r) for r in frame.to_dict("records")]
    geometry = gpd.points_from_xy(frame.pop("lon"), frame.pop("lat"))
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=4326)


def demo_gazetteer(path: Path = DEMO) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None]:
    """The demo GeoPackage's addresses, and its village grids with their town names."""
    import pyogrio

    inner = path.name.removesuffix(".zip")
    source = f"/vsizip/{path}/{inner}" if path.suffix == ".zip" else str(path)
    addresses = pyogrio.read_dataframe(source, layer="addresses")
    layers = {name for name, _ in pyogrio.list_layers(source)}
    if "grids" not in layers:
        return addresses, None
    grids = pyogrio.read_dataframe(source, layer="grids")
    towns = grids[grids["level"] == "town"].set_index("code")["name"]
    villages = grids[grids["level"] == "village"].copy()
    villages["town"] = villages["parent_code"].map(towns)
    villages = villages.rename(columns={"name": "village"})
    return addresses, villages[["town", "village", "geometry"]]


# --------------------------------------------------------------------------- noise


@dataclass(frozen=True)
class Case:
    text: str
    kind: str
    row: int
    expect: str  # house, road, unknown
    subs_given: bool = True


def chinese_number(value: int, digitwise: bool = False) -> str:
    if digitwise or value >= 1000:
        return "".join(CN_DIGITS[int(d)] for d in str(value))
    hundreds, rest = divmod(value, 100)
    tens, ones = divmod(rest, 10)
    out = CN_DIGITS[hundreds] + "百" if hundreds else ""
    if tens:
        out += ("" if tens == 1 and not hundreds else CN_DIGITS[tens]) + "十"
    elif hundreds and ones:
        out += "零"
    if ones:
        out += CN_DIGITS[ones]
    return out or "零"


def _clean(value: object) -> str:
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)


class NoiseMaker:
    """Writes gazetteer rows the way newcomers declare them."""

    def __init__(self, frame: pd.DataFrame, rng: np.random.Generator) -> None:
        self.rng = rng
        self.rows = frame[
            ["county", "town", "village", "road", "number", "building", "unit", "room"]
        ].map(_clean)
        self.records = self.rows.to_dict("records")
        self.villages_by_town: dict[str, set[str]] = defaultdict(set)
        for town, village in zip(self.rows["town"], self.rows["village"], strict=True):
            self.villages_by_town[town].add(village)
        self.all_villages = set(self.rows["village"])
        self.place_chars = sorted(set("".join(v[:-1] for v in self.all_villages)))
        self.road_chars = sorted(set("".join(self.rows["road"])))
        self.with_building = np.flatnonzero(self.rows["building"].to_numpy() != "")
        self.with_dash = np.flatnonzero(self.rows["number"].str.contains("-").to_numpy())

    def typo(self, name: str, pool: list[str]) -> str:
        for suffix, slip in SUFFIX_SLIPS.items():
            if name.endswith(suffix) and self.rng.random() < 0.15:
                return name[: -len(suffix)] + slip
        stem = max(1, len(name) - (2 if name.endswith("社区") or name.endswith("大道") else 1))
        at = int(self.rng.integers(0, stem))
        choices = [c for c in pool if c != name[at]]
        return name[:at] + str(self.rng.choice(choices)) + name[at + 1 :]

    def unknown_village(self, town: str) -> str:
        known = self.villages_by_town[town]
        while True:
            name = str(self.rng.choice(list("甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥")))
            name += str(self.rng.choice(self.place_chars)) + "村"
            if name not in self.all_villages and all(
                Levenshtein.distance(name, v) >= 2 for v in known
            ):
                return name

    def render(self, p: dict, *, numerals: bool = False, words: bool = False) -> str:
        number = p["number"]
        if numerals:
            base, _, extra = number.partition("-")
            number = chinese_number(int(base)) + (
                f"之{chinese_number(int(extra))}" if extra else ""
            )
        text = f"{p['county']}{p['town']}{p['village']}{p['road']}"
        if number:
            text += f"{number}号"
        parts = []
        if p["building"]:
            building = chinese_number(int(p["building"])) if numerals else p["building"]
            word = str(self.rng.choice(["栋", "座", "号楼", "幢"])) if words else "幢"
            parts.append(f"{building}{word}")
        if p["unit"]:
            unit = chinese_number(int(p["unit"])) if numerals else p["unit"]
            parts.append(f"{unit}单元")
        if p["room"]:
            room = chinese_number(int(p["room"]), digitwise=True) if numerals else p["room"]
            parts.append(f"{room}{'室' if self.rng.random() < 0.7 else ''}")
        if words and len(parts) >= 2:
            parts[0], parts[1] = parts[1], parts[0]
        return text + "".join(parts)

    def case(self, kind: str) -> Case:
        rng = self.rng
        pool = {"building_words": self.with_building, "drop_subs": self.with_building}
        pool["dash_zhi"] = self.with_dash
        rows = pool.get(kind)
        row = (
            int(rng.choice(rows))
            if rows is not None and len(rows)
            else int(rng.integers(len(self.records)))
        )
        p = dict(self.records[row])
        expect, subs_given = "house", True
        numerals = words = False
        if kind in ("no_county", "combo", "village_typo", "road_typo", "fullwidth", "filler"):
            p["county"] = ""
        if kind == "no_town" or (kind == "combo" and rng.random() < 0.5):
            p["county"] = p["town"] = ""
        if kind == "numerals" or (kind == "combo" and rng.random() < 0.5):
            numerals = True
        if kind in ("building_words", "combo"):
            words = True
        if kind == "dash_zhi":
            p["number"] = p["number"].replace("-", str(rng.choice(["之", "－", "-"])))
        if kind == "village_typo" or (kind == "combo" and rng.random() < 0.3):
            p["village"] = self.typo(p["village"], self.place_chars)
        if kind == "road_typo" or (kind == "combo" and rng.random() < 0.3):
            p["road"] = self.typo(p["road"], self.road_chars)
        if kind == "drop_subs" or (kind == "combo" and rng.random() < 0.3):
            p["unit"] = p["room"] = ""
            subs_given = not p["building"]
        if kind == "road_only":
            p["number"] = p["building"] = p["unit"] = p["room"] = ""
            expect = "road"
        if kind == "no_village":
            p["county"] = ""
            p["village"] = ""
        if kind == "garbage":
            text = str(
                rng.choice(["301室", "三零一", "租房", "不详", "附近", "2单元301", "？？", ""])
            )
            return Case(text, kind, row, "unknown")
        if kind == "unknown_village":
            p["village"] = self.unknown_village(p["town"])
            p["county"] = "" if rng.random() < 0.5 else p["county"]
            expect = "unknown"
        text = self.render(p, numerals=numerals, words=words)
        if kind in ("fullwidth", "combo") and rng.random() < (1.0 if kind == "fullwidth" else 0.5):
            text = text.translate(FULL_WIDTH)
        if kind in ("filler", "combo"):
            text = self.add_filler(text, p)
        return Case(text, kind, row, expect, subs_given)

    def add_filler(self, text: str, p: dict) -> str:
        rng = self.rng
        if rng.random() < 0.5:
            text = text.replace(p["village"], p["village"] + " ", 1).replace(
                p["road"], p["road"] + "，", 1
            )
        filler = str(rng.choice(["附近", "对面", "旁边", "（隔壁）", "门口", ""]))
        lead = str(rng.choice(["", "", "现住址：", "浙江省温州市"]))
        return lead + text + filler


KINDS = {
    "clean": 0.05, "no_county": 0.09, "no_town": 0.08, "fullwidth": 0.08, "numerals": 0.08,
    "building_words": 0.08, "dash_zhi": 0.04, "filler": 0.07, "village_typo": 0.09,
    "road_typo": 0.08, "drop_subs": 0.05, "road_only": 0.06, "no_village": 0.05,
    "unknown_village": 0.06, "garbage": 0.02, "combo": 0.09,
}  # fmt: skip


def noisy_cases(frame: pd.DataFrame, n: int, seed: int) -> list[Case]:
    maker = NoiseMaker(frame, np.random.default_rng(seed))
    kinds = list(KINDS)
    weights = np.array([KINDS[k] for k in kinds]) / sum(KINDS.values())
    picks = maker.rng.choice(len(kinds), size=n, p=weights)
    return [maker.case(kinds[i]) for i in picks]


# --------------------------------------------------------------------------- scoring


def judge(case: Case, m: AddressMatch, truth: dict, matched: dict | None) -> dict[str, bool | None]:
    """Whether one answer has the right village, road and house, and whether it misplaces."""
    placed = m.village is not None
    same_village = placed and (m.town, m.village) == (truth["town"], truth["village"])
    if case.expect == "unknown":
        village_ok: bool | None = None
        wrong = placed
    else:
        village_ok = same_village
        wrong = placed and not same_village
    house_ok = road_ok = None
    if case.expect == "house":
        if case.subs_given:
            house_ok = m.code == truth["code"]
        else:
            house_ok = bool(
                matched and same_village and m.level == "house"
                and (matched["road"], matched["number"]) == (truth["road"], truth["number"])
            )  # fmt: skip
    if case.expect == "road":
        road_ok = same_village and m.road == truth["road"] and m.level in ("road", "house")
    return {
        "village_ok": village_ok,
        "house_ok": house_ok,
        "road_ok": road_ok,
        "wrong": wrong,
        "wrong_high": wrong and m.confidence >= 0.8,
    }


def pct(values: list[bool | None]) -> str:
    kept = [v for v in values if v is not None]
    return f"{100 * sum(kept) / len(kept):6.2f}%" if kept else "     - "


def report(cases: list[Case], matches: list[AddressMatch], frame: pd.DataFrame) -> dict[str, float]:
    records = frame[["code", "town", "village", "road", "number"]].to_dict("records")
    by_code = {r["code"]: r for r in records}
    verdicts = [
        judge(c, m, records[c.row], by_code.get(m.code) if m.code else None)
        for c, m in zip(cases, matches, strict=True)
    ]
    print(
        f"\n{'kind':<16}{'n':>6}{'village':>9}{'house':>9}{'road':>9}"
        f"{'wrong':>7}{'>=0.8':>7}  levels"
    )
    groups: dict[str, list[int]] = defaultdict(list)
    for i, c in enumerate(cases):
        groups[c.kind].append(i)
    for kind in [*KINDS, "ALL"]:
        idx = list(range(len(cases))) if kind == "ALL" else groups.get(kind, [])
        if not idx:
            continue
        v = [verdicts[i] for i in idx]
        levels = Counter(matches[i].level for i in idx)
        print(
            f"{kind:<16}{len(idx):>6}{pct([x['village_ok'] for x in v]):>9}"
            f"{pct([x['house_ok'] for x in v]):>9}{pct([x['road_ok'] for x in v]):>9}"
            f"{sum(bool(x['wrong']) for x in v):>7}{sum(bool(x['wrong_high']) for x in v):>7}  "
            + " ".join(f"{k}:{n}" for k, n in levels.most_common())
        )
    print("\nconfidence    n   village right (of answers placed in a village)")
    edges = [0.0, 0.5, 0.7, 0.8, 0.9, 1.01]
    for lo, hi in itertools.pairwise(edges):
        idx = [i for i, m in enumerate(matches) if lo <= m.confidence < hi]
        placed = [i for i in idx if matches[i].village is not None]
        right = [not verdicts[i]["wrong"] for i in placed]
        print(f"[{lo:.1f}, {min(hi, 1.0):.1f}) {len(idx):>6}   {pct(right)} of {len(placed)}")
    summary = {
        "village": np.mean([x["village_ok"] for x in verdicts if x["village_ok"] is not None]),
        "house": np.mean([x["house_ok"] for x in verdicts if x["house_ok"] is not None]),
        "road_only": np.mean([x["road_ok"] for x in verdicts if x["road_ok"] is not None]),
        "wrong_high": float(sum(bool(x["wrong_high"]) for x in verdicts)),
    }
    return {k: float(v) for k, v in summary.items()}


def show_failures(
    cases: list[Case], matches: list[AddressMatch], frame: pd.DataFrame, k: int
) -> None:
    records = frame[["code", "full_text", "town", "village"]].to_dict("records")
    shown = 0
    for c, m in zip(cases, matches, strict=True):
        truth = records[c.row]
        bad = (
            c.expect != "unknown" and (m.town, m.village) != (truth["town"], truth["village"])
        ) or (c.expect == "unknown" and m.village is not None)
        if bad:
            answer = f"{m.level} {m.confidence} {m.town}{m.village}{m.road or ''} ({m.method})"
            print(f"  [{c.kind}] {c.text!r} -> {answer}; truth {truth['full_text']}")
            shown += 1
            if shown >= k:
                return


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic", action="store_true", help="use a synthetic gazetteer")
    parser.add_argument("--cases", type=int, default=3000, help="noisy addresses to score")
    parser.add_argument("--throughput", type=int, default=10_000, help="addresses to time")
    parser.add_argument("--seed", type=int, default=20200131)
    parser.add_argument("--gpkg", type=Path, default=DEMO, help="demo GeoPackage (.gpkg.zip)")
    parser.add_argument("--failures", type=int, default=0, help="print this many misplaced")
    parser.add_argument("--eval", action="store_true", help="score the hand-written set")
    parser.add_argument("--database-url", default=None, help="for pg_trgm (else embedded)")
    args = parser.parse_args(argv)
    if args.eval:
        return eval_peers(args.gpkg, args.database_url)

    villages = None
    if args.synthetic or not args.gpkg.exists():
        if not args.synthetic:
            print(f"{args.gpkg} not found: using a synthetic gazetteer")
        frame = synthetic_gazetteer(np.random.default_rng(args.seed))
        source = "synthetic"
    else:
        frame, villages = demo_gazetteer(args.gpkg)
        source = str(args.gpkg)
    frame = frame.reset_index(drop=True)
    print(
        f"gazetteer: {source}, {len(frame):,} addresses, {frame['town'].nunique()} towns, "
        f"{frame.groupby(['town', 'village']).ngroups} villages, "
        f"{frame.groupby(['town', 'village', 'road']).ngroups} village roads"
    )
    start = time.perf_counter()
    matcher = AddressMatcher.from_gazetteer(frame, villages)
    print(f"index built in {time.perf_counter() - start:.2f} s")

    cases = noisy_cases(frame, args.cases, args.seed + 1)
    matches = matcher.match_many([c.text for c in cases])
    summary = report(cases, matches, frame)
    if args.failures:
        print("\nmisplaced or unplaced:")
        show_failures(cases, matches, frame, args.failures)

    texts = [c.text for c in noisy_cases(frame, args.throughput, args.seed + 2)]
    start = time.perf_counter()
    matcher.match_many(texts)
    elapsed = time.perf_counter() - start
    print(
        f"\nthroughput: {len(texts):,} addresses ({len(set(texts)):,} distinct) in {elapsed:.2f} s"
        f" = {len(texts) / elapsed:,.0f}/s"
    )
    ok = (
        summary["village"] >= 0.98
        and summary["house"] >= 0.90
        and summary["wrong_high"] == 0
        and elapsed < 10.0
    )
    print(
        f"\nvillage correct {100 * summary['village']:.2f}% (>= 98), "
        f"house correct {100 * summary['house']:.2f}% (>= 90), "
        f"road-only correct {100 * summary['road_only']:.2f}%, "
        f"wrong village at confidence >= 0.8: {int(summary['wrong_high'])} (= 0), "
        f"batch {elapsed:.2f} s (< 10): {'PASS' if ok else 'FAIL'}"
    )
    return 0 if ok else 1


# --------------------------------------------------------------------------- --eval


def read_eval(path: Path = EVAL) -> list[EvalRow]:
    with path.open(encoding="utf-8", newline="") as f:
        return [
            EvalRow(r["text"], r["kind"], r["truth_village_code"], r["truth_grid_code"], r["note"])
            for r in csv.DictReader(f)
        ]


def locate_answers(
    index: GridIndex, points: list[tuple[float, float] | None], depth: list[str], conf: list[float]
) -> list[EvalAnswer]:
    """Village and micro-grid codes of each point; a point claims the micro-grid only
    when the answer is a door (``depth == 'house'``)."""
    placed = [i for i, p in enumerate(points) if p is not None]
    out = [EvalAnswer("", "", c) for c in conf]
    if not placed:
        return out
    found = index.locate(
        np.array([points[i][0] for i in placed]),  # type: ignore[index]
        np.array([points[i][1] for i in placed]),  # type: ignore[index]
    )
    for k, i in enumerate(placed):
        one = found.point(k)
        village = one.code("village") or "" if depth[i] in ("house", "road", "village") else ""
        micro = one.code("micro") or "" if depth[i] == "house" else ""
        out[i] = EvalAnswer(village, micro, conf[i])
    return out


def geogrid_answers(
    matcher: AddressMatcher, index: GridIndex, rows: list[EvalRow]
) -> list[EvalAnswer]:
    matches = matcher.match_many([r.text for r in rows])
    return locate_answers(
        index,
        [m.point for m in matches],
        [m.level for m in matches],
        [m.confidence for m in matches],
    )


def trigram_answers(
    database_url: str | None, index: GridIndex, rows: list[EvalRow]
) -> list[EvalAnswer] | None:
    from sqlalchemy.exc import SQLAlchemyError

    from geogrid.db.bootstrap import prepare_database
    from geogrid.db.engine import create_geogrid_engine
    from geogrid.db.queries.addresses import nearest_by_trigram
    from geogrid.db.urls import resolve_url
    from geogrid.settings import Settings
    from geogrid.spatial.addresses import normalize_address

    try:
        settings = Settings(database_url=database_url) if database_url else Settings()
        prepare_database(settings)
        engine = create_geogrid_engine(resolve_url(settings), settings)
        with engine.begin() as conn:
            hits = nearest_by_trigram(conn, [normalize_address(r.text) for r in rows])
    except (SQLAlchemyError, OSError, RuntimeError) as exc:
        print(f"pg_trgm: no database ({type(exc).__name__}: {exc}); skipped")
        return None
    return locate_answers(
        index,
        [(h.lon, h.lat) if h.code else None for h in hits],  # type: ignore[misc]
        ["house" if h.code else "none" for h in hits],
        [h.score for h in hits],
    )


class GazetteerLookup:
    """cpca's parse, then the town, village, road and door names looked up as written."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.towns = sorted(frame["town"].unique(), key=len, reverse=True)
        self.county = str(frame["county"].iloc[0])
        self.villages: dict[str, list[str]] = {}
        for town, village in frame[["town", "village"]].drop_duplicates().itertuples(index=False):
            self.villages.setdefault(village, []).append(town)
        self.by_village = dict(iter(frame.groupby(["town", "village"])))

    def answer(self, county: object, rest: str) -> tuple[tuple[float, float] | None, str]:
        if isinstance(county, str) and county != self.county:
            return None, "none"
        town = next((t for t in self.towns if t in rest or t[:-1] in rest), None)
        names = [v for v in self.villages if v in rest]
        hits = [(t, v) for v in names for t in self.villages[v] if town in (None, t)]
        if len(hits) != 1:
            return None, "none"
        rows = self.by_village[hits[0]]
        road = next(
            (r for r in sorted(rows["road"].unique(), key=len, reverse=True) if r in rest), None
        )
        if road is not None:
            tail = rest.split(road, 1)[1]
            number = "".join(itertools.takewhile(str.isdigit, tail))
            door = rows[(rows["road"] == road) & (rows["number"].astype(str) == number)]
            if len(door):
                return (float(door["lon"].iloc[0]), float(door["lat"].iloc[0])), "house"
        return (float(rows["lon"].mean()), float(rows["lat"].mean())), "village"


def cpca_answers(
    frame: pd.DataFrame, index: GridIndex, rows: list[EvalRow]
) -> list[EvalAnswer] | None:
    try:
        import cpca
    except ImportError:
        print("cpca: not installed (pip install cpca); skipped")
        return None
    parsed = cpca.transform([r.text for r in rows])
    lookup = GazetteerLookup(frame)
    points, depth = [], []
    for r, county, rest in zip(rows, parsed["区"], parsed["地址"], strict=True):
        point, level = lookup.answer(county, rest if isinstance(rest, str) else r.text)
        points.append(point)
        depth.append(level)
    return locate_answers(index, points, depth, [1.0 if p else 0.0 for p in points])


def eval_peers(gpkg: Path, database_url: str | None) -> int:
    rows = read_eval()
    grids = gpd.read_file(gpkg, layer="grids")
    frame = gpd.read_file(gpkg, layer="addresses")
    frame["lon"], frame["lat"] = frame.geometry.x, frame.geometry.y
    index = GridIndex.from_geodataframe(grids)
    matcher = AddressMatcher.from_grids(frame, grids)
    results: dict[str, tuple[EvalFigures, float]] = {}
    peers = {
        "geogrid": lambda: geogrid_answers(matcher, index, rows),
        "pg_trgm": lambda: trigram_answers(database_url, index, rows),
        "cpca+lookup": lambda: cpca_answers(frame, index, rows),
    }
    for name, run in peers.items():
        start = time.perf_counter()
        answers = run()
        if answers is not None:
            results[name] = (score_answers(rows, answers), time.perf_counter() - start)
    print(f"hand-written set: {EVAL.name}, {len(rows)} texts\n")
    print(
        f"{'matcher':<14}{'village':>10}{'micro':>10}{'>=0.8 wrong':>13}{'0.5-0.8 right':>15}"
        f"{'none placed':>13}{'seconds':>9}"
    )
    for name, (f, seconds) in results.items():
        t = f.total
        print(
            f"{name:<14}{f.village_top1:>10.1%}{f.micro_top1:>10.1%}"
            f"{t.trusted_wrong:>6}/{t.trusted:<6}{t.middle_right:>8}/{t.middle:<6}"
            f"{t.nowhere_placed:>6}/{t.nowhere:<6}{seconds:>9.2f}"
        )
    for name, (f, _) in results.items():
        print(f"\n{name}, by kind:\n{f.table()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
