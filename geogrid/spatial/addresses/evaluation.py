"""Score address answers against an evaluation set with known truth.

An evaluation row names the village grid an address text is in (or none, for an
address outside the county or a place that does not exist) and, where the text
determines it, the micro-grid. :func:`score_answers` compares the answers of any
matcher — geogrid's or a peer's — with those truths and returns the figures the
address matcher is held to: village top-1, micro-grid top-1, and how well its
confidence is calibrated. Pure: no files, no database.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

__all__ = ["EvalAnswer", "EvalFigures", "EvalRow", "KindFigures", "score_answers"]

#: At or above this confidence an answer's village must be right.
TRUSTED = 0.8
#: Below this confidence an answer's village counts as no village at all.
PLAUSIBLE = 0.5


@dataclass(frozen=True, slots=True)
class EvalRow:
    """One hand-written address with its truth (empty code: no such place in the county)."""

    text: str
    kind: str
    village: str
    micro: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class EvalAnswer:
    """What a matcher answered: the village and micro-grid codes (empty when none)."""

    village: str
    micro: str
    confidence: float


@dataclass(slots=True)
class KindFigures:
    """Counts for one kind of text (or for all of them)."""

    rows: int = 0
    with_village: int = 0
    village_right: int = 0
    with_micro: int = 0
    micro_right: int = 0
    nowhere: int = 0  # truth: no village in the county
    nowhere_placed: int = 0  # of those, given a village at confidence >= PLAUSIBLE
    trusted: int = 0  # answers with a village at confidence >= TRUSTED
    trusted_wrong: int = 0
    middle: int = 0  # answers with a village at PLAUSIBLE <= confidence < TRUSTED
    middle_right: int = 0

    def add(self, row: EvalRow, answer: EvalAnswer) -> None:
        self.rows += 1
        right = answer.village == row.village
        if row.village:
            self.with_village += 1
            self.village_right += right
        else:
            self.nowhere += 1
            self.nowhere_placed += bool(answer.village) and answer.confidence >= PLAUSIBLE
        if row.micro:
            self.with_micro += 1
            self.micro_right += answer.micro == row.micro
        if answer.village and answer.confidence >= TRUSTED:
            self.trusted += 1
            self.trusted_wrong += not right
        elif answer.village and answer.confidence >= PLAUSIBLE:
            self.middle += 1
            self.middle_right += right


@dataclass(slots=True)
class EvalFigures:
    """The figures of one run over an evaluation set: all rows and by kind."""

    total: KindFigures = field(default_factory=KindFigures)
    by_kind: dict[str, KindFigures] = field(default_factory=dict)

    @property
    def village_top1(self) -> float:
        """Share of rows with a true village whose answer names that village."""
        return _share(self.total.village_right, self.total.with_village)

    @property
    def micro_top1(self) -> float:
        """Share of rows with a determinable micro-grid whose answer names it."""
        return _share(self.total.micro_right, self.total.with_micro)

    @property
    def middle_right(self) -> float:
        """Share of right villages among answers with ``0.5 <= confidence < 0.8``."""
        return _share(self.total.middle_right, self.total.middle, empty=1.0)

    def table(self) -> str:
        """A plain-text table of the figures by kind, then the total."""
        head = (
            f"{'kind':<14}{'rows':>5}{'village':>10}{'micro':>10}"
            f"{'>=0.8 wrong':>13}{'0.5-0.8 right':>15}{'none placed':>13}"
        )
        lines = [head, "-" * len(head)]
        for kind, k in [*sorted(self.by_kind.items()), ("all", self.total)]:
            lines.append(
                f"{kind:<14}{k.rows:>5}"
                f"{_cell(k.village_right, k.with_village):>10}"
                f"{_cell(k.micro_right, k.with_micro):>10}"
                f"{_cell(k.trusted_wrong, k.trusted):>13}"
                f"{_cell(k.middle_right, k.middle):>15}"
                f"{_cell(k.nowhere_placed, k.nowhere):>13}"
            )
        return "\n".join(lines)


def score_answers(rows: Sequence[EvalRow], answers: Iterable[EvalAnswer]) -> EvalFigures:
    """Compare answers with the rows' truths, one answer per row in order.

    Examples
    --------
    >>> rows = [EvalRow("鳌江镇曾山村", "partial", "V1", ""), EvalRow("苍南县", "outside", "", "")]
    >>> figures = score_answers(rows, [EvalAnswer("V1", "", 0.86), EvalAnswer("V2", "", 0.3)])
    >>> (figures.village_top1, figures.total.trusted_wrong, figures.total.nowhere_placed)
    (1.0, 0, 0)
    """
    figures = EvalFigures()
    for row, answer in zip(rows, answers, strict=True):
        figures.total.add(row, answer)
        figures.by_kind.setdefault(row.kind, KindFigures()).add(row, answer)
    return figures


def _share(part: int, whole: int, *, empty: float = 0.0) -> float:
    return part / whole if whole else empty


def _cell(part: int, whole: int) -> str:
    return f"{part}/{whole}" if whole else "-"
