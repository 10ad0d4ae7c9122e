"""schemathesis hooks for the live CLI, named by ``schemathesis.toml`` (``hooks``).

The in-process harness (:mod:`tests.api.contract`) applies the same function to its own
schema; this module registers it globally, for the CLI only.
"""

from __future__ import annotations

import schemathesis

from tests.api.contract import cap_solver_budget

schemathesis.hook("map_case")(cap_solver_budget)
