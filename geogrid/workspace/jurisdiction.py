"""Keep a caller inside their jurisdiction: grids asked for by code or name, and locate
answers.

A grid worker's reads are limited to their grid subtree (:attr:`Caller.subtree`). Grids
named in a request are resolved in SQL within that subtree
(:func:`~geogrid.db.queries.jurisdiction.grids_in_subtree`), so a grid outside it is not
found. A locate answer is kept only when its chain reaches into the subtree, and the grid
worker it names shows an unmasked phone only when that worker's grid lies inside it too.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from geogrid.access import Caller
from geogrid.db.queries.jurisdiction import grids_in_subtree
from geogrid.errors import UnknownGridError
from geogrid.privacy import mask_phone
from geogrid.workspace.batch import RowResult
from geogrid.workspace.locate import LocateAnswer

if TYPE_CHECKING:
    from geogrid.workspace import Workspace

__all__ = ["OUTSIDE_JURISDICTION", "answer_in_reach", "grid_in_reach", "rows_in_reach"]

OUTSIDE_JURISDICTION = "this place lies outside your jurisdiction (grid {root})"


def grid_in_reach(workspace: Workspace, caller: Caller, code_or_name: str) -> str:
    """Return the grid code or name to use for ``caller``: unchanged without a subtree,
    else the code of the one grid in the subtree with this code or name.

    Raises :class:`UnknownGridError` when the subtree holds no such grid (or several).
    """
    root = caller.subtree
    if root is None:
        return code_or_name
    with workspace.engine.connect() as conn:
        codes = grids_in_subtree(conn, root, code_or_name)
    if not codes:
        raise UnknownGridError(
            f"there is no grid with code or name {code_or_name!r} within {root} "
            "(your jurisdiction)",
            details={"grid": code_or_name, "jurisdiction": root},
        )
    if len(codes) > 1 and codes[0] != code_or_name:
        raise UnknownGridError(
            f"{code_or_name!r} names {len(codes)} grids ({', '.join(codes)}); give the code",
            details={"grid": code_or_name, "candidates": codes},
        )
    return codes[0]


def answer_in_reach(caller: Caller, answer: LocateAnswer) -> LocateAnswer | None:
    """Return the answer as ``caller`` may see it, or None when it lies outside their
    subtree (its chain never reaches the subtree's root, or it has no chain)."""
    root = caller.subtree
    if root is None:
        return answer
    if not any(caller.covers_grid(grid.code) for grid in answer.chain):
        return None
    worker = answer.worker
    if worker is not None and not caller.covers_grid(worker.grid_code):
        answer = dataclasses.replace(
            answer, worker=dataclasses.replace(worker, phone=mask_phone(worker.phone))
        )
    return answer


def rows_in_reach(caller: Caller, results: list[RowResult]) -> list[RowResult]:
    """Return batch results with every answer outside ``caller``'s subtree replaced by an
    error (the batch itself still succeeds)."""
    if caller.subtree is None:
        return results
    return [_row_in_reach(caller, result) for result in results]


def _row_in_reach(caller: Caller, result: RowResult) -> RowResult:
    if result.answer is None:
        return result
    answer = answer_in_reach(caller, result.answer)
    if answer is None:
        return RowResult(
            result.row, result.id, error=OUTSIDE_JURISDICTION.format(root=caller.subtree)
        )
    return dataclasses.replace(result, answer=answer)
