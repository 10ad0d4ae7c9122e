"""The transfer day: ``transfer_requests``, ``isolation_sites`` and ``vehicles``.

On 31 January about 400 people under home isolation in Aojiang were moved to five
hotels in one day. Requests are households at gazetteer addresses; the hotels have
room to spare overall but little for returnees; the fleet is about 20 cars, one of
them a converted patrol car carrying two people at a time around the clock.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata._names import NameBook
from geodata._spec import DAY, METRIC_CRS

__all__ = ["RISK_CLASSES", "build_sites", "build_transfer_requests", "build_vehicles"]

RISK_CLASSES = ("close_contact", "secondary_contact", "returnee")
RISK_SHARE = (0.45, 0.25, 0.30)
RED_SHARE = {"close_contact": 0.15, "secondary_contact": 0.05, "returnee": 0.10}
GROUP_SIZE_SHARE = (0.25, 0.30, 0.25, 0.15, 0.05)  # households of 1..5 people

# name, accepted classes, free beds as a share of each class's people (C, S, R):
# returnees can only go to hotels sized for little more than their number.
HOTELS = (
    ("鳌江宾馆", "close_contact,secondary_contact", (0.20, 1.0, 0.0)),
    ("鳌江大酒店", "close_contact", (0.70, 0.0, 0.0)),
    ("江滨商务酒店", "secondary_contact,returnee", (0.0, 0.0, 0.45)),
    ("鳌江之星快捷酒店", "returnee", (0.0, 0.0, 0.45)),
    ("滨海假日酒店", "close_contact,returnee", (0.10, 0.0, 0.15)),
)
SLACK = (0.06, 0.10, 0.0, 0.0, 0.05)  # extra free beds, as a share of all people
DEPOTS = ("鳌江镇政府车队", "鳌江镇中心卫生院", "鳌江派出所")


def _local(hour: int, minute: int = 0, day: str = DAY) -> str:
    """ISO 8601 local time on the transfer day, e.g. ``2020-01-31T06:00:00+08:00``."""
    return f"{day}T{hour:02d}:{minute:02d}:00+08:00"


def _group_sizes(people: int, rng: np.random.Generator) -> np.ndarray:
    """Household sizes 1-5 that sum to exactly ``people``."""
    sizes: list[int] = []
    while sum(sizes) < people:
        sizes.append(int(rng.choice(5, p=GROUP_SIZE_SHARE)) + 1)
    sizes[-1] -= sum(sizes) - people
    return np.array(sizes)


def build_transfer_requests(
    people: int, addresses: gpd.GeoDataFrame, names: NameBook, rng: np.random.Generator
) -> gpd.GeoDataFrame:
    """Households waiting for transfer, at distinct addresses.

    Parameters
    ----------
    people
        Exact sum of ``group_size``.
    addresses
        Candidate gazetteer rows (Aojiang), in metres.
    names
        Source of names, phones and ID numbers.
    rng
        Source of randomness.

    Returns
    -------
    geopandas.GeoDataFrame
        The ``transfer_requests`` layer in metres.
    """
    sizes = _group_sizes(people, rng)
    picked = addresses.iloc[np.sort(rng.choice(len(addresses), len(sizes), replace=False))]
    risk = rng.choice(len(RISK_CLASSES), len(sizes), p=RISK_SHARE)
    rows = []
    for i, (size, r) in enumerate(zip(sizes, risk, strict=True)):
        risk_class = RISK_CLASSES[r]
        status = "red" if rng.random() < RED_SHARE[risk_class] else "yellow"
        minutes = int(rng.integers(0, 121)) * 5  # 06:00 .. 16:00
        ready = _local(6 + minutes // 60, minutes % 60)
        person = (names.person(), names.phone(), names.id_number())
        address = picked["full_text"].iloc[i]
        rows.append((f"T{i + 1:04d}", *person, int(size), risk_class, status, ready, address))
    columns = ["code", "contact_name", "phone", "id_number", "group_size", "risk_class"]
    columns += ["health_status", "ready_at", "address_text"]
    frame = pd.DataFrame(rows, columns=columns)
    return gpd.GeoDataFrame(frame, geometry=picked.geometry.to_numpy(), crs=METRIC_CRS)


def build_sites(
    requests: gpd.GeoDataFrame, addresses: gpd.GeoDataFrame, centre: np.ndarray, rng
) -> gpd.GeoDataFrame:
    """Five hotels sized so that beds are ample overall but tight for returnees.

    Parameters
    ----------
    requests
        The transfer requests (their totals per risk class size the hotels).
    addresses
        Candidate hotel addresses (street numbers without flats), in metres.
    centre
        Town centre; hotels stand within 2.5 km of it, at least 500 m apart.
    rng
        Source of randomness.

    Returns
    -------
    geopandas.GeoDataFrame
        The ``isolation_sites`` layer in metres.
    """
    totals = requests.groupby("risk_class")["group_size"].sum()
    need = np.array([totals.get(c, 0) for c in RISK_CLASSES], dtype=float)
    xy = shapely.get_coordinates(addresses.geometry.values)
    near = np.flatnonzero(np.hypot(*(xy - centre).T) < 2500)
    chosen: list[int] = []
    for i in rng.permutation(near):
        if all(np.hypot(*(xy[i] - xy[j])) > 500 for j in chosen):
            chosen.append(int(i))
        if len(chosen) == len(HOTELS):
            break
    rows = []
    for k, ((name, classes, share), slack) in enumerate(zip(HOTELS, SLACK, strict=True)):
        free = int(np.ceil(np.dot(share, need) + slack * need.sum()))
        capacity = int(np.clip(free + rng.integers(10, 40), 60, 200))
        occupied = max(capacity - free, 0)
        address = addresses["full_text"].iloc[chosen[k]]
        rows.append((f"S{k + 1:02d}", name, "hotel", capacity, occupied, classes, address))
    columns = ["code", "name", "kind", "capacity", "occupied", "risk_classes", "address"]
    geometry = addresses.geometry.to_numpy()[chosen]
    return gpd.GeoDataFrame(pd.DataFrame(rows, columns=columns), geometry=geometry, crs=METRIC_CRS)


def build_vehicles(count: int, junctions: np.ndarray, centre: np.ndarray, rng) -> gpd.GeoDataFrame:
    """The transfer fleet, parked at three depots on road junctions near the centre.

    Parameters
    ----------
    count
        Number of vehicles; the last is the converted patrol car (2 seats, 24 h,
        returnees only) and the first runs 24 h too.
    junctions
        Road end points ``(n, 2)`` in metres.
    centre
        Town centre in metres.
    rng
        Source of randomness.

    Returns
    -------
    geopandas.GeoDataFrame
        The ``vehicles`` layer in metres.
    """
    spots = []
    for angle in (0.3, 2.4, 4.4):
        want = centre + 900 * np.array([np.cos(angle), np.sin(angle)])
        spots.append(junctions[np.argmin(np.hypot(*(junctions - want).T))])
    all_classes = ",".join(RISK_CLASSES)
    shifts = ((6, 22), (7, 19), (8, 20), (6, 18))
    rows, points = [], []
    for i in range(count):
        depot = i % len(DEPOTS)
        seats = int(rng.choice([4, 5, 7], p=[0.3, 0.3, 0.4]))
        name, classes = f"接送车{i + 1:02d}", all_classes
        start, end = shifts[i % len(shifts)]
        shift = (_local(start), _local(end))
        if i == 0:
            shift = (_local(0), _local(0, day="2020-02-01"))
        if i == count - 1:
            name, seats, classes, depot = "巡逻车改装01", 2, "returnee", 2
            shift = (_local(0), _local(0, day="2020-02-01"))
        elif i % 5 == 3:
            classes = "close_contact,secondary_contact"
        rows.append((f"V{i + 1:02d}", name, seats, DEPOTS[depot], classes, *shift))
        points.append(spots[depot])
    columns = ["code", "name", "seats", "depot_name", "risk_classes", "shift_start", "shift_end"]
    frame = pd.DataFrame(rows, columns=columns)
    return gpd.GeoDataFrame(frame, geometry=shapely.points(np.array(points)), crs=METRIC_CRS)
