"""Exact set covering and maximal covering on a coverage matrix, with HiGHS.

Formulations
------------
- Location-set covering (LSCP): minimise the number of sites so that every target that
  some candidate can guard has one.
- Maximal covering (MCLP): with at most ``budget`` sites, maximise the (weighted)
  number of targets guarded; among equally good answers, the fewest sites (a tie
  breaker worth less than the lightest target).

Both are solved to proven optimality (``mip_rel_gap = 0``) by HiGHS through
:func:`scipy.optimize.milp`. Why HiGHS this way: scipy is already a dependency, HiGHS is
a modern branch-and-cut MIP solver, and the model goes in as sparse arrays, with no
modelling layer. spopt's LSCP/MCLP build the same models in PuLP and solve them with
CBC: same answers, more time in model building (``benchmarks/coverage.py`` prints
both); highspy directly would add a dependency for nothing scipy lacks.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_array, hstack, identity, vstack

__all__ = ["CoveringSolution", "solve_lscp", "solve_mclp"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class CoveringSolution:
    """The sites chosen and the crossings they guard.

    Attributes
    ----------
    chosen
        Positions of the chosen candidates.
    covered
        Whether each target is guarded by a chosen candidate.
    objective
        Number of sites (LSCP) or weight of the guarded targets (MCLP).
    optimal
        Whether the solver proved the answer optimal.
    status
        The solver's message.
    solve_s
        Wall time of the solve in seconds.
    """

    chosen: IntArray
    covered: BoolArray
    objective: float
    optimal: bool
    status: str
    solve_s: float


def solve_lscp(
    coverage: npt.ArrayLike | csr_array, *, time_limit_s: float | None = None
) -> CoveringSolution:
    """Return the fewest candidates that guard every target that can be guarded.

    Parameters
    ----------
    coverage
        Boolean ``(n_targets, n_candidates)`` matrix, dense or sparse.
    time_limit_s
        Stop the solver after this long (the answer may then not be optimal).

    Examples
    --------
    >>> cover = [[1, 1, 0], [0, 1, 1], [0, 0, 1]]
    >>> solve_lscp(cover).chosen.tolist()
    [1, 2]
    """
    a = csr_array(coverage, dtype=float)
    n_t, n_c = a.shape
    rows = np.flatnonzero(np.asarray(a.sum(axis=1)).reshape(-1) > 0)
    if len(rows) == 0:
        return CoveringSolution(np.empty(0, np.int64), np.zeros(n_t, bool), 0.0, True, "empty", 0.0)
    start = time.perf_counter()
    result = milp(
        np.ones(n_c),
        integrality=np.ones(n_c),
        bounds=Bounds(0, 1),
        constraints=LinearConstraint(a[rows], lb=1, ub=np.inf),
        options=_options(time_limit_s),
    )
    return _solution(result, a, n_c, time.perf_counter() - start, count=True)


def solve_mclp(
    coverage: npt.ArrayLike | csr_array,
    budget: int,
    weights: npt.ArrayLike | None = None,
    *,
    time_limit_s: float | None = None,
) -> CoveringSolution:
    """Return at most ``budget`` candidates that guard the most (weighted) targets.

    Among equally good answers the solver is steered to the one with the fewest sites.

    Examples
    --------
    >>> cover = [[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 1, 1]]
    >>> solution = solve_mclp(cover, 1, weights=[1, 1, 1, 5])
    >>> solution.chosen.tolist(), solution.objective
    ([1], 6.0)
    """
    a = csr_array(coverage, dtype=float)
    n_t, n_c = a.shape
    w = np.ones(n_t) if weights is None else np.asarray(weights, dtype=float).reshape(-1)
    if len(w) != n_t or np.any(w < 0):
        raise ValueError("weights must be one non-negative number per target")
    if budget < 0:
        raise ValueError(f"budget must be >= 0, got {budget}")
    if budget == 0 or n_c == 0 or not np.any(w > 0):
        return CoveringSolution(np.empty(0, np.int64), np.zeros(n_t, bool), 0.0, True, "empty", 0.0)
    tie = 0.5 * w[w > 0].min() / (min(budget, n_c) + 1)
    link = hstack([-a, identity(n_t, format="csr")], format="csr")  # y_t <= sum of its x
    total = hstack([csr_array(np.ones((1, n_c))), csr_array((1, n_t))], format="csr")
    start = time.perf_counter()
    result = milp(
        np.concatenate([np.full(n_c, tie), -w]),
        integrality=np.concatenate([np.ones(n_c), np.zeros(n_t)]),
        bounds=Bounds(0, 1),
        constraints=LinearConstraint(
            vstack([link, total], format="csr"),
            lb=np.full(n_t + 1, -np.inf),
            ub=np.concatenate([np.zeros(n_t), [budget]]),
        ),
        options=_options(time_limit_s),
    )
    solution = _solution(result, a, n_c, time.perf_counter() - start, count=False)
    objective = float(w[solution.covered].sum())
    return CoveringSolution(
        solution.chosen,
        solution.covered,
        objective,
        solution.optimal,
        solution.status,
        solution.solve_s,
    )


def _options(time_limit_s: float | None) -> dict[str, object]:
    options: dict[str, object] = {"mip_rel_gap": 0.0, "presolve": True}
    if time_limit_s is not None:
        options["time_limit"] = float(time_limit_s)
    return options


def _solution(
    result: object, a: csr_array, n_c: int, seconds: float, *, count: bool
) -> CoveringSolution:
    x = getattr(result, "x", None)
    status = int(getattr(result, "status", -1))
    message = str(getattr(result, "message", ""))
    n_t = a.shape[0]
    if x is None:
        return CoveringSolution(
            np.empty(0, np.int64), np.zeros(n_t, bool), np.nan, False, message, seconds
        )
    chosen = np.flatnonzero(np.asarray(x[:n_c]) > 0.5).astype(np.int64)
    covered = np.asarray(a[:, chosen].sum(axis=1)).reshape(-1) > 0
    objective = float(len(chosen)) if count else float("nan")
    return CoveringSolution(chosen, covered, objective, status == 0, message, seconds)
