"""The OpenAPI document says what the server does, for every role: schemathesis, all checks,
all phases (examples, coverage, fuzzing, stateful), 0 failures.

Each role calls the API with its own key (anonymous: none) on a writable copy of the demo
database. Two sizes:

- the suite's bounded run: each role on the operations it exists for (:data:`FOCUS`),
  one example per operation and phase, a few hundred requests per role;
- ``make contract`` (``GEOGRID_CONTRACT_EXAMPLES`` set): every operation for every role,
  that many examples per operation and phase, at least 2,000 requests per role.

The printed line of each role gives its requests and failures (``tests/api/contract.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Engine, text

from geogrid.access import Role
from geogrid.api.app import create_app
from geogrid.settings import Settings
from geogrid.workspace import Workspace
from geogrid.workspace.credentials import issue_key
from tests.api.contract import contract_examples, run_contract
from tests.conftest import DEMO, DEMO_WORKER_GRID, bearer, database_copy

if TYPE_CHECKING:
    from tests.conftest import TestServer

ROLES = ["anonymous", *(role.value for role in Role)]
# The bounded run's operations for each role: what the role exists for, and some refusals.
FOCUS = {
    "anonymous": [
        "GET /",
        "GET /conformance",
        "GET /health",
        "GET /collections",
        "GET /collections/{collection_id}",
        "GET /collections/{collection_id}/items/{feature_id}",
        "GET /locate",
        "GET /open311/v2/discovery.json",
        "GET /open311/v2/services.json",
        "POST /open311/v2/requests.json",
    ],
    "app": [
        "GET /locate",
        "GET /collections/{collection_id}/items",
        "POST /collections/{collection_id}/items",
        "GET /collections/{collection_id}/items/{feature_id}",  # the link from POST
        "POST /open311/v2/requests.json",
        "GET /open311/v2/requests.json",
        "GET /open311/v2/requests/{request_id}.json",
        "GET /collections/{collection_id}/tiles/WebMercatorQuad/{z}/{x}/{y}",
        "GET /collections/{collection_id}/tiles/WebMercatorQuad/tilejson.json",
        "GET /tileMatrixSets/WebMercatorQuad",
        "GET /maps/vector/style.json",
    ],
    "grid_worker": [
        "GET /transport/requests",
        "GET /transport/requests/{code}",
        "GET /maps/grids/{code}.html",
        "GET /collections/{collection_id}/items",
        "GET /audit",
        "POST /addresses/corrections",
        "GET /open311/v2/requests.json",
        "POST /events/{event_id}/acknowledge",
        "POST /events/{event_id}/close",
        "GET /events/report",
    ],
    "planner": [
        "POST /addresses/corrections",
        "GET /addresses/corrections",
        "DELETE /addresses/corrections/{correction_id}",
        "POST /collections/{collection_id}/items",
        "GET /collections/{collection_id}/items/{feature_id}",
        "PUT /collections/{collection_id}/items/{feature_id}",
        "PATCH /collections/{collection_id}/items/{feature_id}",
        "DELETE /collections/{collection_id}/items/{feature_id}",
        "GET /events/report",
        "GET /open311/v2/requests.json",
    ],
    "dispatcher": [
        "GET /transport/plans/{plan_id}",
        "GET /maps/transport/{plan_id}.html",
        "GET /transport/requests",
        "GET /collections/{collection_id}/items/{feature_id}",
        "GET /coverage/gaps",
        "POST /open311/v2/requests.json",
        "GET /open311/v2/requests.json",
        "GET /open311/v2/requests/{request_id}.json",
        "POST /events/{event_id}/acknowledge",
        "POST /events/{event_id}/update",
        "POST /events/{event_id}/close",
        "POST /events/{event_id}/reassign",
        "POST /events/scan",
        "GET /events/map.html",
    ],
    "admin": [
        "GET /audit",
        "POST /coverage/plan",
        "GET /collections/{collection_id}/items",
        "POST /collections/{collection_id}/items",
        "GET /collections/{collection_id}/items/{feature_id}",  # the link from POST
        "PUT /events/services/{service_code}",
        "GET /open311/v2/services.json",
    ],
}
# Each valid example runs the solver (a second) and draws the routes on the roads.
SOLVER = ["POST /transport/plans", "POST /transport/plans/{plan_id}/replan"]
SOLVER_EXAMPLES = 8


# Every valid plan or re-plan routes all the waiting households on the roads (162 in the
# demo: 5-15 s each on a busy machine, two thirds of it drawing routes), and the stateful
# phase makes hundreds. The contract's copy keeps every sixth of them waiting (27); the
# others are marked moved and stay readable. The solver's scale has its own tests and
# benchmarks; here it is the API's answers that are checked.
KEEP_WAITING_EVERY = 6


@pytest.fixture(scope="module")
def contract_db(pg_server: TestServer, demo_db: Engine) -> Iterator[Engine]:
    """Return an engine on a writable copy of the demo database (dropped afterwards), with
    one waiting household in :data:`KEEP_WAITING_EVERY`."""
    demo_db.dispose()
    with database_copy(pg_server, DEMO) as engine:
        with engine.begin() as conn:
            moved = conn.execute(
                text("UPDATE transfer_requests SET status = 'moved' WHERE id % :k <> 0"),
                {"k": KEEP_WAITING_EVERY},
            ).rowcount
            waiting = conn.execute(
                text("SELECT count(*) FROM transfer_requests WHERE status = 'waiting'")
            ).scalar_one()
        assert moved > 0
        assert 10 <= waiting <= 50, waiting
        yield engine


@pytest.mark.slow
@pytest.mark.timeout(3600)  # make contract's long runs; the suite's take seconds
@pytest.mark.parametrize("role", ROLES)
def test_the_api_does_what_its_schema_says(contract_db: Engine, role: str) -> None:
    settings = Settings(warm_up=False)
    workspace = Workspace(contract_db, settings)
    headers = {}
    if role != "anonymous":
        grid = DEMO_WORKER_GRID if role == Role.GRID_WORKER else None
        headers = bearer(issue_key(workspace, f"contract {role}", role, grid).key)
    app = create_app(settings, workspace=workspace)
    examples = contract_examples()
    excluded: list[str] = []
    capped = dict.fromkeys(SOLVER, SOLVER_EXAMPLES)
    if examples is None:  # the bounded run
        examples = 1
        labels = [
            f"{method.upper()} {path}"
            for path, ops in app.openapi()["paths"].items()
            for method in ops
        ]
        excluded += [label for label in labels if label not in FOCUS[role]]
    report = run_contract(
        app,
        role,
        headers,
        examples=examples,
        excluded=excluded,
        capped=capped,
    )
    print(report.line(), "slowest:", report.slow.most_common(3))
    assert not report.errors, "\n".join(report.errors)
    assert not report.failures, "\n\n".join(report.failures.values())
