"""Synthetic transport instances for tests, benchmarks and demos.

Households, sites and depots are points in a square plane (metres). Travel distance is
the straight line times a detour factor; travel time is that distance at a constant
speed plus a gentle slope term ``slope * (y_b - y_a) / speed``: going north takes a
little longer than coming back, so the matrix is asymmetric like a network with
one-way streets, yet still obeys the triangle inequality (the slope terms telescope).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from geogrid.spatial.transport.model import (
    RISK_CLASSES,
    IsolationSite,
    TransferRequest,
    Vehicle,
)

__all__ = ["TransportInstance", "plane_matrices", "synthetic_instance"]

FloatArray = npt.NDArray[np.float64]

GROUP_SIZE_P = (0.25, 0.30, 0.25, 0.12, 0.08)  # households of 1..5 people
RISK_P = (0.5, 0.3, 0.2)  # close_contact, secondary_contact, returnee
SEATS = (4, 4, 5, 7, 7, 4, 5, 2)  # a fleet of cars and minibuses, and a patrol car


@dataclass(frozen=True)
class TransportInstance:
    """Everything a plan needs, with the plane coordinates of every location."""

    requests: tuple[TransferRequest, ...]
    sites: tuple[IsolationSite, ...]
    vehicles: tuple[Vehicle, ...]
    duration_s: FloatArray
    distance_m: FloatArray
    xy_m: FloatArray

    @property
    def people(self) -> int:
        """Return the number of people waiting."""
        return sum(r.group_size for r in self.requests)


def plane_matrices(
    xy_m: npt.ArrayLike, speed_kmh: float = 40.0, detour: float = 1.3, slope: float = 0.15
) -> tuple[FloatArray, FloatArray]:
    """Return ``(duration_s, distance_m)`` between points of a plane.

    Parameters
    ----------
    xy_m
        ``(n, 2)`` coordinates in metres.
    speed_kmh
        Constant travel speed.
    detour
        Road distance over straight-line distance.
    slope
        Asymmetry: northward legs take ``slope * dy / speed`` longer, southward legs as
        much shorter (``slope < detour`` keeps every time positive).

    Examples
    --------
    >>> duration, distance = plane_matrices([[0, 0], [0, 1000]], speed_kmh=36, detour=1)
    >>> distance[0, 1], duration[0, 1], duration[1, 0]
    (np.float64(1000.0), np.float64(115.0), np.float64(85.0))
    """
    xy = np.asarray(xy_m, dtype=float)
    speed = speed_kmh / 3.6
    straight = np.hypot(*(xy[None, :, :] - xy[:, None, :]).transpose(2, 0, 1))
    distance = straight * detour
    rise = xy[None, :, 1] - xy[:, None, 1]
    return distance / speed + slope * rise / speed, distance


def synthetic_instance(
    people: int = 400,
    n_sites: int = 5,
    n_vehicles: int = 20,
    *,
    n_depots: int = 3,
    side_m: float = 20_000.0,
    speed_kmh: float = 40.0,
    ready_spread_s: int = 4 * 3600,
    shift_s: int = 24 * 3600,
    spare_capacity: float = 0.3,
    seed: int = 0,
) -> TransportInstance:
    """Return a random county-sized instance shaped like the Pingyang move.

    Households (1-5 people, mostly 1-3) cluster around villages; sites (hotels) and
    depots sit near the town centre. The fleet mixes 4-7 seat vehicles with 2-seat
    patrol cars that carry returnees only. Location indices: households first, then
    sites, then depots.

    Parameters
    ----------
    people
        People waiting, in total.
    n_sites, n_vehicles, n_depots
        Numbers of isolation sites, vehicles and depots.
    side_m
        Side of the square territory.
    speed_kmh
        Travel speed (see :func:`plane_matrices`).
    ready_spread_s
        Ready times: 40 % of households are ready at 0, the rest uniformly up to this.
    shift_s
        Every vehicle works from 0 to ``shift_s``.
    spare_capacity
        Site places left over beyond the people waiting, as a share of them.
    seed
        Seed of the random generator.

    Examples
    --------
    >>> inst = synthetic_instance(40, 2, 3, seed=1)
    >>> inst.people, len(inst.sites), len(inst.vehicles), inst.duration_s.shape[0] > 40 // 5
    (40, 2, 3, True)
    """
    rng = np.random.default_rng(seed)
    sizes: list[int] = []
    while sum(sizes) < people:
        sizes.append(min(int(rng.choice(5, p=GROUP_SIZE_P)) + 1, people - sum(sizes)))
    n = len(sizes)
    villages = rng.uniform(0.1, 0.9, (max(3, n // 15), 2)) * side_m
    homes = villages[rng.integers(len(villages), size=n)] + rng.normal(0, side_m / 30, (n, 2))
    centre = np.full(2, side_m / 2)
    site_xy = centre + rng.normal(0, side_m / 8, (n_sites, 2))
    depot_xy = centre + rng.normal(0, side_m / 10, (n_depots, 2))
    xy = np.clip(np.vstack([homes, site_xy, depot_xy]), 0, side_m)
    duration, distance = plane_matrices(xy, speed_kmh)

    ready = np.where(rng.random(n) < 0.4, 0, rng.integers(0, ready_spread_s + 1, n))
    classes = rng.choice(len(RISK_CLASSES), size=n, p=RISK_P)
    requests = tuple(
        TransferRequest(f"H{i:05d}", i, sizes[i], RISK_CLASSES[classes[i]], int(ready[i]))
        for i in range(n)
    )
    share = rng.dirichlet(np.full(n_sites, 4.0))
    total = int(np.ceil(people * (1 + spare_capacity)))
    sites = []
    for k in range(n_sites):
        accepts = set(RISK_CLASSES) if k % 2 == 0 else set(rng.choice(RISK_CLASSES, 2, False))
        occupied = int(rng.integers(0, 10))
        capacity = int(np.ceil(share[k] * total)) + occupied
        sites.append(IsolationSite(f"S{k:02d}", n + k, capacity, occupied, frozenset(accepts)))
    vehicles = []
    for v in range(n_vehicles):
        seats = SEATS[v % len(SEATS)]
        allowed = frozenset({"returnee"}) if seats == 2 else frozenset(RISK_CLASSES)
        depot = n + n_sites + v % n_depots
        vehicles.append(Vehicle(f"V{v:03d}", seats, depot, 0, shift_s, allowed))
    return TransportInstance(tuple(requests), tuple(sites), tuple(vehicles), duration, distance, xy)
