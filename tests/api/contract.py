"""Run schemathesis' engine, as its CLI does, against the API in-process, as one role.

All checks and all phases (examples, coverage, fuzzing, stateful); the requests go to the
ASGI application itself (no network). :func:`run_contract` counts the requests the
application answered and collects every failed check, one line per distinct failure.

Used by ``tests/api/test_contract.py`` (a bounded run in the suite, a long one with
``make contract``).
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events, from_schema
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["ContractReport", "RequestCounter", "contract_examples", "run_contract"]

SEED = 4242
EXAMPLES_ENV = "GEOGRID_CONTRACT_EXAMPLES"


def contract_examples() -> int | None:
    """Return the examples per operation and phase ``GEOGRID_CONTRACT_EXAMPLES`` asks for
    (None: not set, the suite's bounded run)."""
    value = os.environ.get(EXAMPLES_ENV)
    return int(value) if value else None


class RequestCounter:
    """An ASGI wrapper that counts the HTTP requests an application answered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.count = 0
        self.slow: Counter[str] = Counter()  # seconds spent in requests of over a second

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.count += 1
        started = time.perf_counter()
        await self.app(scope, receive, send)
        seconds = time.perf_counter() - started
        if seconds > 1:
            self.slow[f"{scope['method']} {scope['path'][:60]}"] += round(seconds, 1)


@dataclass
class ContractReport:
    """What a run did: requests answered, test cases per phase, and the failures."""

    role: str
    requests: int = 0
    cases: Counter[str] = field(default_factory=Counter)
    failures: dict[str, str] = field(default_factory=dict)  # one per distinct failure
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    slow: Counter[str] = field(default_factory=Counter)

    def line(self) -> str:
        """Return the one-line summary of the run."""
        phases = ", ".join(f"{k} {v}" for k, v in sorted(self.cases.items()))
        return (
            f"{self.role:12} {self.requests:6d} requests  {len(self.failures):3d} failures  "
            f"{len(self.errors):2d} errors  {self.seconds:6.1f} s  ({phases})"
        )


# RFC 6585: a write without the If-Match it needs is 428 Precondition Required
MISSING_HEADER_STATUSES = ["400", "401", "403", "406", "415", "422", "428"]
# schemathesis' default for positive_data_acceptance, and the same with 422: for operations
# whose rules no JSON schema can carry (see ``semantic`` of :func:`run_contract`)
POSITIVE_STATUSES = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
REQUEST_TIMEOUT_S = 300


def _also_expected(semantic: Sequence[str], conditional: Sequence[str]) -> dict[str, list[str]]:
    """Return the statuses each operation may answer to a schema-valid request besides
    :data:`POSITIVE_STATUSES`: 422 for ``semantic`` operations, 412 for ``conditional`` ones
    (a well-formed ETag of a version no longer stored: it depends on the state, like 409)."""
    extra: dict[str, list[str]] = {}
    for label in semantic:
        extra.setdefault(label, []).append("422")
    for label in conditional:
        extra.setdefault(label, []).append("412")
    return extra


def _config(
    headers: dict[str, str],
    examples: int,
    excluded: list[str],
    capped: dict[str, int],
    semantic: list[str],
    conditional: list[str],
) -> Any:
    data: dict[str, Any] = {
        "seed": SEED,
        "suppress-health-check": ["all"],
        "generation": {"max-examples": examples, "mode": "all", "database": "none"},
        "checks": {
            "enabled": True,
            "missing_required_header": {"expected-statuses": MISSING_HEADER_STATUSES},
        },
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": True, "max-steps": max(10, examples)},
        },
        "headers": headers,
        "operations": [
            *({"include-name": label, "enabled": False} for label in excluded),
            *(
                {"include-name": label, "generation": {"max-examples": n}}
                for label, n in capped.items()
            ),
            *(
                {
                    "include-name": label,
                    "checks": {
                        "positive_data_acceptance": {
                            "expected-statuses": [*POSITIVE_STATUSES, *extra]
                        }
                    },
                }
                for label, extra in _also_expected(semantic, conditional).items()
            ),
        ],
        "request-timeout": REQUEST_TIMEOUT_S,
        "workers": 1,
    }
    return SchemathesisConfig.from_dict(data)


def run_contract(
    app: ASGIApp,
    role: str,
    headers: dict[str, str],
    *,
    examples: int,
    excluded: Sequence[str] = (),
    capped: Mapping[str, int] | None = None,
    semantic: Sequence[str] = (),
    conditional: Sequence[str] = (),
    hooks: Sequence[tuple[str, Any]] = (),
) -> ContractReport:
    """Run every phase and every check against ``app`` as ``role`` (``headers`` sent).

    ``excluded`` operations (``"GET /path"``) are not called; ``capped`` ones get at most
    that many examples per phase; ``semantic`` ones may answer a schema-valid request 422
    (rules beyond any JSON schema: a polygon inside its parent, codes that must exist);
    ``conditional`` ones may answer it 412 (their ``If-Match`` names a version no longer
    stored, or never was).
    """
    counter = RequestCounter(app)
    config = _config(
        headers, examples, list(excluded), dict(capped or {}), list(semantic), list(conditional)
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", counter, config=config)
    for name, function in hooks:
        schema.hook(name)(function)
    report = ContractReport(role)
    started = time.perf_counter()
    progress = os.environ.get("GEOGRID_CONTRACT_PROGRESS")
    for event in from_schema(schema).execute():
        if isinstance(event, (events.ScenarioFinished, events.FuzzScenarioFinished)):
            _collect(report, event)
            if progress:
                phase = getattr(event, "phase", "")
                print(
                    f"{time.perf_counter() - started:7.1f} s {counter.count:6d} {phase} "
                    f"{event.recorder.label} {event.elapsed_time:.1f} s",
                    flush=True,
                )
        elif isinstance(event, events.NonFatalError):
            report.errors.append(f"{event.label}: {event.info.message}")
        elif isinstance(event, events.FatalError):
            report.errors.append(f"fatal: {event.exception!r}")
    report.seconds = time.perf_counter() - started
    report.requests = counter.count
    report.slow = counter.slow
    return report


def _collect(report: ContractReport, event: Any) -> None:
    phase = getattr(event, "phase", None)
    report.cases[str(phase.value if phase is not None else "fuzz")] += len(event.recorder.cases)
    if event.status not in (Status.FAILURE, Status.ERROR):
        return
    for case_id, checks in event.recorder.checks.items():
        for check in checks:
            if check.status != Status.FAILURE or check.failure_info is None:
                continue
            failure = check.failure_info.failure
            key = f"{failure.operation} [{check.name}] {failure.title}"
            if key not in report.failures:
                interaction = event.recorder.interactions.get(case_id)
                status = (
                    interaction.response.status_code
                    if interaction and interaction.response
                    else None
                )
                report.failures[key] = (
                    f"{key}\n  {failure.message[:600]}\n  status {status}\n"
                    f"  {check.failure_info.code_sample[:1500]}"
                )
