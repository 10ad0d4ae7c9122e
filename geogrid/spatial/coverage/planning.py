"""New checkpoints that close a grid's gaps: the fewest that guard every open way in, or
the best ``budget`` of them.

The targets are the ways in that no active checkpoint guards (one-way exits are not
targets; existing checkpoints stay where they are and keep guarding what they guard).
Candidate sites and solvers are those of :mod:`~geogrid.spatial.coverage.covering` and
:mod:`~geogrid.spatial.coverage.solvers`:
the answer is optimal over every point of the road network, a new site guarding a
crossing within the same walking distance ``tolerance_m`` as an existing checkpoint.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from geogrid.errors import InvalidRequestError
from geogrid.spatial.coverage.analysis import CoverageResult
from geogrid.spatial.coverage.covering import covering_from_network
from geogrid.spatial.coverage.solvers import CoveringSolution, solve_lscp, solve_mclp
from geogrid.spatial.roads.network import Snapped

__all__ = ["ROAD_CLASS_WEIGHTS", "CoveragePlan", "plan_checkpoints"]

ROAD_CLASS_WEIGHTS: dict[str, float] = {
    "trunk": 5.0,
    "primary": 4.0,
    "secondary": 3.0,
    "tertiary": 2.0,
    "residential": 1.0,
    "service": 1.0,
}
"""Weights by road class for ``weights="road_class"``: a proxy for traffic (unknown: 1)."""


@dataclass(frozen=True, eq=False)
class CoveragePlan:
    """New checkpoint sites for one grid.

    Attributes
    ----------
    grid_code
        The grid planned for.
    formulation
        ``"lscp"`` (fewest sites guarding every open way in) or ``"mclp"`` (best
        ``budget`` sites).
    budget
        The number of new sites allowed (None for LSCP).
    sites
        One point (EPSG:4326) per new site: ``site``, ``road_code``, ``road_name``,
        ``road_class``, ``edge``, ``fraction``, ``entries_guarded``.
    entries
        The grid's entries with ``target`` (an open way in), ``new_site`` (the site that
        now guards it, -1 none) and ``guarded_after``.
    before, after
        Ways in, guarded ways in, their share and the guarded weight, before and after.
    n_candidates
        Distinct candidate sites considered.
    solution
        The solver's answer (status, optimality, time).
    """

    grid_code: str
    formulation: str
    budget: int | None
    sites: gpd.GeoDataFrame
    entries: gpd.GeoDataFrame
    before: dict[str, float]
    after: dict[str, float]
    n_candidates: int
    solution: CoveringSolution

    def summary(self) -> dict[str, object]:
        """Return the headline figures as a flat dict (JSON-ready)."""
        return {
            "grid_code": self.grid_code,
            "formulation": self.formulation,
            "budget": self.budget,
            "new_sites": len(self.sites),
            "candidates": self.n_candidates,
            "optimal": self.solution.optimal,
            "solve_s": self.solution.solve_s,
            **{f"before_{k}": v for k, v in self.before.items()},
            **{f"after_{k}": v for k, v in self.after.items()},
        }


def plan_checkpoints(
    result: CoverageResult,
    budget: int | None = None,
    *,
    weights: str | Mapping[str, float] = "uniform",
    time_limit_s: float | None = None,
) -> CoveragePlan:
    """Place new checkpoints to guard the open ways into the analysed grid.

    Parameters
    ----------
    result
        From :func:`~geogrid.spatial.coverage.analysis.analyse_coverage`.
    budget
        None: the fewest sites that guard every open way in (set covering). A number:
        at most that many sites, guarding the most weight (maximal covering).
    weights
        For maximal covering: ``"uniform"`` (every way in counts 1), ``"road_class"``
        (:data:`ROAD_CLASS_WEIGHTS`) or a mapping from road class to weight.
    time_limit_s
        Stop the solver after this long (``solution.optimal`` then says whether the
        answer is proven optimal).
    """
    if budget is not None and budget < 0:
        raise InvalidRequestError(f"budget must be >= 0, got {budget}")
    entries = result.entries
    target = entries["way_in"].to_numpy(bool) & ~entries["guarded"].to_numpy(bool)
    rows = np.flatnonzero(target)
    weight = _weights(entries, weights)
    net = result.network
    places = net.snapped_from_fractions(
        entries["edge"].to_numpy(np.int64)[rows], entries["fraction"].to_numpy(float)[rows]
    )
    problem = covering_from_network(net, places, result.tolerance_m)
    if budget is None:
        solution = solve_lscp(problem.coverage, time_limit_s=time_limit_s)
    else:
        solution = solve_mclp(problem.coverage, budget, weight[rows], time_limit_s=time_limit_s)
    chosen = problem.candidates[solution.chosen]
    cover = problem.coverage[:, solution.chosen].toarray()
    new_site = np.full(len(entries), -1, np.int64)
    if cover.shape[1]:
        new_site[rows] = np.where(cover.any(axis=1), cover.argmax(axis=1), -1)
    planned = entries.copy()
    planned["target"] = target
    planned["new_site"] = new_site
    planned["guarded_after"] = entries["guarded"].to_numpy(bool) | (new_site >= 0)
    return CoveragePlan(
        grid_code=result.grid_code,
        formulation="lscp" if budget is None else "mclp",
        budget=budget,
        sites=_sites_frame(result, chosen, cover.sum(axis=0)),
        entries=planned,
        before=_figures(entries["way_in"], entries["guarded"], weight),
        after=_figures(entries["way_in"], planned["guarded_after"], weight),
        n_candidates=len(problem.candidates),
        solution=solution,
    )


def _weights(entries: gpd.GeoDataFrame, weights: str | Mapping[str, float]) -> np.ndarray:
    if isinstance(weights, str):
        if weights == "uniform":
            return np.ones(len(entries))
        if weights != "road_class":
            raise InvalidRequestError(
                f"weights must be 'uniform', 'road_class' or a mapping, got {weights!r}"
            )
        weights = ROAD_CLASS_WEIGHTS
    table = pd.Series(dict(weights), dtype=float)
    if (table < 0).any():
        raise InvalidRequestError("weights must not be negative")
    return entries["road_class"].map(table).fillna(1.0).to_numpy(dtype=float)


def _figures(way_in: pd.Series, guarded: pd.Series, weight: np.ndarray) -> dict[str, float]:
    w = way_in.to_numpy(bool)
    g = guarded.to_numpy(bool) & w
    n = int(w.sum())
    return {
        "ways_in": n,
        "guarded": int(g.sum()),
        "guarded_share": float(g.sum() / n) if n else 1.0,
        "guarded_weight": float(weight[g].sum()),
        "weight": float(weight[w].sum()),
    }


def _sites_frame(
    result: CoverageResult, chosen: Snapped, guarded: npt.NDArray[np.integer]
) -> gpd.GeoDataFrame:
    roads = result.roads
    edge = chosen.edge
    n = len(edge)

    def column(name: str) -> npt.NDArray[np.object_]:
        return roads[name].to_numpy()[edge] if name in roads else np.full(n, None, object)

    frame = pd.DataFrame(
        {
            "site": np.arange(n),
            "road_code": result.network.code[edge],
            "road_name": column("name"),
            "road_class": column("road_class"),
            "edge": edge,
            "fraction": chosen.fraction,
            "entries_guarded": np.asarray(guarded, dtype=np.int64).reshape(-1),
        }
    )
    geometry = shapely.points(chosen.lon, chosen.lat)
    return gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326")
