"""Schemathesis against the API's own OpenAPI schema, in-process (ASGI, no network).

Every operation of the schema is called with generated requests, valid and invalid, a
bounded number of each, with an admin key. Each answer must be no 5xx, a documented
status code, a documented content type, and a body and headers that match the schema.
The examples follow the hypothesis profile: the same on every run by default,
fresh ones with ``--hypothesis-profile=explore`` (see ``tests/conftest.py``).

The database is a copy of the demo database made for this module (cloned from its
template), so generated writes never touch the shared, read-only ``demo_db``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.config import SchemathesisConfig
from sqlalchemy import Engine

from geogrid.api.app import create_app
from geogrid.settings import Settings
from geogrid.workspace import Workspace
from geogrid.workspace.credentials import issue_key
from tests.api.contract import shared_config
from tests.conftest import DEMO, database_copy

if TYPE_CHECKING:
    from tests.conftest import TestServer

# Operations not generated here, each with the reason and where it is tested instead.
EXCLUDED = {
    ("POST", "/transport/plans"): (
        "each example runs the vehicle-routing solver for up to its time budget (seconds); "
        "tests/api/test_transport.py plans with real fleets"
    ),
}
# (GET /maps/grids/{code}.pdf, printed by headless Chromium, is disabled for every
# schemathesis run by schemathesis.toml, with its reason: it is not among the operations.)
EXAMPLES = 10  # per operation and mode (valid, invalid)
REQUEST_TIMEOUT_S = 300
# Operations given fewer examples, each with the reason.
CAPPED = {
    ("GET", "/grids/validate"): (
        3,
        "without a parent it checks the topology of every grid of the county (seconds); "
        "tests/api/test_grids_validate.py checks its answers",
    ),
}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def schema_db(pg_server: TestServer, demo_db: Engine) -> Iterator[Engine]:
    """Return an engine on a writable copy of the demo database (dropped afterwards)."""
    demo_db.dispose()
    with database_copy(pg_server, DEMO) as engine:
        yield engine


@pytest.fixture(scope="module")
def schema_app(schema_db: Engine) -> tuple[FastAPI, dict[str, str]]:
    settings = Settings(warm_up=False)
    workspace = Workspace(schema_db, settings)
    key = issue_key(workspace, "schemathesis", "admin").key
    return create_app(settings, workspace=workspace), {"Authorization": f"Bearer {key}"}


def _exercise(
    operation: schemathesis.APIOperation, mode: GenerationMode, auth: dict, examples: int
) -> None:
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: the report names the case
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: schemathesis.Case) -> None:
        # A re-plan runs the solver for seconds; a busy machine must not turn that into a
        # read time-out (schemathesis' default is 10 s).
        response = case.call(headers=auth, timeout=REQUEST_TIMEOUT_S)
        case.validate_response(response, checks=CHECKS, headers=auth)

    run()


def test_every_operation_answers_as_documented(
    schema_app: tuple[FastAPI, dict[str, str]],
) -> None:
    app, auth = schema_app
    # the repository's judgments, wherever pytest runs from (its hooks do not apply here)
    config = SchemathesisConfig.from_dict(shared_config())
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    seen: set[tuple[str, str]] = set()
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        label = (operation.method.upper(), operation.path)
        seen.add(label)
        if label in EXCLUDED:
            continue
        started = time.perf_counter()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _exercise(operation, mode, auth, CAPPED.get(label, (EXAMPLES,))[0])
            except Unsatisfiable:  # no parameters and no body: nothing can be invalid
                assert mode is GenerationMode.NEGATIVE, label
            except (Exception, BaseExceptionGroup) as exc:  # schemathesis' FailureGroup
                failures.append(f"{label[0]} {label[1]} ({mode.value}): {exc}")
        print(f"{label[0]:6} {label[1]:48} {time.perf_counter() - started:6.1f} s")
    assert not failures, "\n\n".join(failures)
    assert set(EXCLUDED) | set(CAPPED) <= seen, "an exception names an operation that is gone"
    assert len(seen) - len(EXCLUDED) >= 18  # every route of the API was exercised
