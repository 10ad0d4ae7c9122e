"""Run schemathesis' engine, as its CLI does, against the API in-process, as one role.

All checks and all phases (examples, coverage, fuzzing, stateful); the requests go to the
ASGI application itself (no network). What the OpenAPI document cannot carry is judged by
the repository's ``schemathesis.toml``, the file the live CLI reads
(``make contract-live``). :func:`run_contract` counts the requests the application
answered and collects every failed check, one line per distinct failure.

Used by ``tests/api/test_contract.py`` (a bounded run in the suite, a long one with
``make contract``).
"""

from __future__ import annotations

import os
import time
import tomllib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events, from_schema
from starlette.types import ASGIApp, Receive, Scope, Send

from geogrid.workspace.transport import MAX_PLAN_REQUESTS

__all__ = [
    "CONFIG_PATH",
    "ContractReport",
    "RequestCounter",
    "cap_solver_budget",
    "contract_examples",
    "run_contract",
    "shared_config",
]

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


CONFIG_PATH = Path(__file__).resolve().parents[2] / "schemathesis.toml"
"""The judgments the OpenAPI document cannot carry (accepted statuses per operation, the
PDF sheet left out, 428 for a missing If-Match), shared with the live CLI."""
BUDGET_CAP_S = 1.0
PLAN_HOUSEHOLDS_CAP = 50


def shared_config() -> dict[str, Any]:
    """Return :data:`CONFIG_PATH` as a dict, without its ``hooks`` (the harness applies
    :func:`cap_solver_budget` to its own schema instead of registering it globally)."""
    with CONFIG_PATH.open("rb") as file:
        data = tomllib.load(file)
    data.pop("hooks", None)
    return data


def cap_solver_budget(_context: Any, case: Any) -> Any:
    """Keep plans short: a valid plan runs the solver for its whole budget (10 s by default,
    up to 300 s), and draws routes for every household (up to MAX_PLAN_REQUESTS inline).
    Budgets and lists above the limits stay, to be refused. (A ``map_case`` hook: the
    harness's, and the live CLI's through ``tests/api/contract_hooks.py``.)"""
    if case.operation.method.upper() != "POST" or not case.operation.path.startswith("/transport"):
        return case
    body = case.body
    if body is None or body == {}:
        body = case.body = {}
        target = body if case.operation.path.endswith("/replan") else body.setdefault("options", {})
        target["time_budget_s"] = BUDGET_CAP_S
        return case
    if isinstance(body, dict):  # the boundary cases hold up to MAX_PLAN_REQUESTS households
        for key in ("requests", "request_codes"):
            value = body.get(key)
            if isinstance(value, list) and PLAN_HOUSEHOLDS_CAP < len(value) <= MAX_PLAN_REQUESTS:
                body[key] = value[:PLAN_HOUSEHOLDS_CAP]
    for holder in (body, body.get("options") if isinstance(body, dict) else None):
        if isinstance(holder, dict):
            value = holder.get("time_budget_s")
            if isinstance(value, int | float) and not isinstance(value, bool) and 1 < value <= 300:
                holder["time_budget_s"] = BUDGET_CAP_S
    if isinstance(body, dict) and isinstance(body.get("options"), dict):
        body["options"].setdefault("time_budget_s", BUDGET_CAP_S)
    return case


def _config(
    headers: dict[str, str], examples: int, excluded: list[str], capped: dict[str, int]
) -> Any:
    shared = shared_config()
    data: dict[str, Any] = {
        **shared,
        "seed": SEED,
        "suppress-health-check": ["all"],
        "generation": {"max-examples": examples, "mode": "all", "database": "none"},
        "checks": {"enabled": True, **shared.get("checks", {})},
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
            "stateful": {
                **shared.get("phases", {}).get("stateful", {}),
                "enabled": True,
                "max-steps": max(10, examples),
            },
        },
        "headers": headers,
        "operations": [
            *shared.get("operations", []),
            *({"include-name": label, "enabled": False} for label in excluded),
            *(
                {"include-name": label, "generation": {"max-examples": n}}
                for label, n in capped.items()
            ),
        ],
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
) -> ContractReport:
    """Run every phase and every check against ``app`` as ``role`` (``headers`` sent),
    judged by the rules of :data:`CONFIG_PATH` (as the live CLI is).

    ``excluded`` operations (``"GET /path"``) are not called; ``capped`` ones get at most
    that many examples per phase.
    """
    counter = RequestCounter(app)
    config = _config(headers, examples, list(excluded), dict(capped or {}))
    schema = schemathesis.openapi.from_asgi("/openapi.json", counter, config=config)
    schema.hook("map_case")(cap_solver_budget)
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
