"""Response and request models of the locate endpoints (WGS 84 unless said otherwise)."""

from __future__ import annotations

import functools

from pydantic import BaseModel, Field

from geogrid.spatial.addresses import AddressMatch, ParsedAddress
from geogrid.workspace.batch import RowResult
from geogrid.workspace.locate import GridRef, LocateAnswer, WorkerRef

__all__ = [
    "AddressMatchPublic",
    "GridPublic",
    "LocateBatchIn",
    "LocateBatchPublic",
    "LocatePublic",
    "LocateRowIn",
    "ParsedAddressPublic",
]


class GridPublic(BaseModel):
    """A grid in an answer."""

    code: str
    name: str
    level: str

    @classmethod
    def of(cls, grid: GridRef) -> GridPublic:
        """Build from the workspace's reference (one shared, never changed, per grid)."""
        return _grid_public(grid)


class GapPublic(BaseModel):
    """At a level where no grid covers the point: the nearest grid and its distance."""

    level: str
    nearest: GridPublic
    distance_m: float


class WorkerPublic(BaseModel):
    """The grid worker to notify; the phone is masked unless the caller may read it."""

    code: str
    name: str
    phone: str | None
    grid_code: str


class PointPublic(BaseModel):
    """A WGS 84 point."""

    lon: float
    lat: float


class CandidatePublic(BaseModel):
    """Another place the address may mean."""

    level: str
    score: float
    code: str | None
    full_text: str | None
    town: str | None
    village: str | None
    road: str | None
    point: PointPublic | None


class ParsedAddressPublic(BaseModel):
    """The parts read from an address text, in normalised spelling; null where absent."""

    county: str | None
    town: str | None
    village: str | None
    road: str | None
    number: str | None = Field(description="door number without its sub-number: '46' of 46号之2")
    sub_number: str | None = Field(description="'2' of 46号之2, 46之2号, 46-2号 or 46号附2")
    building: str | None
    unit: str | None
    room: str | None
    landmark: str | None = Field(description="a place named after the village: 村委会, 东北卡口")

    @classmethod
    def of(cls, parsed: ParsedAddress) -> ParsedAddressPublic:
        """Build from the parser's answer."""
        return cls(
            county=parsed.county,
            town=parsed.town,
            village=parsed.village,
            road=parsed.road,
            number=parsed.number,
            sub_number=parsed.sub_number,
            building=parsed.building,
            unit=parsed.unit,
            room=parsed.room,
            landmark=parsed.landmark,
        )


class AddressMatchPublic(BaseModel):
    """How an address text was matched against the standard-address gazetteer."""

    text: str
    normalized: str
    level: str = Field(description="house, road, village, town or none")
    confidence: float = Field(
        ge=0,
        le=1,
        description=(
            "at or above 0.8 the village is right; 0.5 to 0.8: probably right, worth a look"
            " (a slip in a name); below 0.5: a guess or no village (see README)"
        ),
    )
    method: str = Field(
        description="exact, components, fuzzy, inferred, town_conflict, ambiguous, town,"
        " elsewhere (the text names a place outside the county), unmatched, or correction"
        " (an operator's correction of this text: reason 'operator correction #id')"
    )
    parsed: ParsedAddressPublic
    reasons: list[str] = Field(
        description="why the confidence is what it is: 'town omitted', 'homophone in village"
        " (默里 for 墨里村)', 'road type differs (宁泰路 for 宁泰街)', 'names a place outside"
        " the county (苍南县)'..."
    )
    ignored: list[str] = Field(
        description="words that played no part in the match: chatter, 附近, 门口..."
    )
    code: str | None = Field(description="matched standard address (house level)")
    full_text: str | None
    town: str | None
    village: str | None
    road: str | None
    candidates: list[CandidatePublic]

    @classmethod
    def of(cls, match: AddressMatch) -> AddressMatchPublic:
        """Build from the matcher's answer."""
        return cls(
            text=match.text,
            normalized=match.normalized,
            level=match.level,
            confidence=round(match.confidence, 4),
            method=match.method,
            parsed=ParsedAddressPublic.of(match.parsed),
            reasons=list(match.reasons),
            ignored=list(match.ignored),
            code=match.code,
            full_text=match.full_text,
            town=match.town,
            village=match.village,
            road=match.road,
            candidates=[
                CandidatePublic(
                    level=c.level,
                    score=round(c.score, 4),
                    code=c.code,
                    full_text=c.full_text,
                    town=c.town,
                    village=c.village,
                    road=c.road,
                    point=PointPublic(lon=c.point[0], lat=c.point[1]) if c.point else None,
                )
                for c in match.candidates
            ],
        )


class LocatePublic(BaseModel):
    """Which grids own a point or an address."""

    status: str = Field(description="ok, gap, outside or unmatched")
    point: PointPublic | None = Field(description="the WGS 84 point used")
    chain: list[GridPublic] = Field(description="county › town › village › micro, as far as known")
    industry: list[GridPublic]
    gaps: list[GapPublic]
    worker: WorkerPublic | None
    confidence: float = Field(ge=0, le=1)
    address: AddressMatchPublic | None = None

    @classmethod
    def of(cls, answer: LocateAnswer) -> LocatePublic:
        """Build from the workspace's answer (grids and workers: one shared model each)."""
        return cls(
            status=answer.status,
            point=(
                PointPublic(lon=answer.lon, lat=answer.lat)
                if answer.lon is not None and answer.lat is not None
                else None
            ),
            chain=[_grid_public(g) for g in answer.chain],
            industry=[_grid_public(g) for g in answer.industry],
            gaps=[
                GapPublic(
                    level=g.level,
                    nearest=_grid_public(g.nearest),
                    distance_m=round(g.distance_m, 2),
                )
                for g in answer.gaps
            ],
            worker=_worker_public(answer.worker) if answer.worker else None,
            confidence=round(answer.confidence, 4),
            address=AddressMatchPublic.of(answer.address) if answer.address else None,
        )


# Answers repeat the same few thousand grids and workers: their models are made once
# (they are never changed) and shared, which keeps /locate's serialisation cheap.


@functools.lru_cache(maxsize=16_384)
def _grid_public(grid: GridRef) -> GridPublic:
    return GridPublic(code=grid.code, name=grid.name, level=grid.level)


@functools.lru_cache(maxsize=16_384)
def _worker_public(worker: WorkerRef) -> WorkerPublic:
    return WorkerPublic(
        code=worker.code, name=worker.name, phone=worker.phone, grid_code=worker.grid_code
    )


class LocateRowIn(BaseModel):
    """One row of a batch: ``address``, or ``lon`` and ``lat`` (with an optional ``crs``)."""

    id: str | None = None
    address: str | None = None
    lon: float | None = Field(default=None, strict=True)  # a JSON number ("lat": false is no 0)
    lat: float | None = Field(default=None, strict=True)
    crs: str | None = None


class LocateBatchIn(BaseModel):
    """A batch of rows to locate."""

    rows: list[LocateRowIn]


class RowPublic(BaseModel):
    """The answer for one row (1-based), or its error."""

    row: int
    id: str | None
    ok: bool
    answer: LocatePublic | None = None
    error: str | None = None

    @classmethod
    def of(cls, result: RowResult) -> RowPublic:
        """Build from the workspace's row result."""
        return cls(
            row=result.row,
            id=result.id,
            ok=result.answer is not None,
            answer=LocatePublic.of(result.answer) if result.answer else None,
            error=result.error,
        )


class LocateBatchPublic(BaseModel):
    """One result per input row, in order, and counts by outcome."""

    results: list[RowPublic]
    summary: dict[str, int]
