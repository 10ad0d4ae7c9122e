"""Wrap the checker's plain instances in the package's input types, and plan them."""

from __future__ import annotations

from typing import Any

from geogrid.spatial.transport import (
    IsolationSite,
    TransferRequest,
    TransportPlan,
    TransportSettings,
    Vehicle,
    plan_transport,
)
from tests.spatial.transport.transport_checker import Instance


def model_inputs(
    inst: Instance,
) -> tuple[list[TransferRequest], list[Vehicle], list[IsolationSite]]:
    """Return requests, vehicles and sites of ``inst`` as the package's dataclasses."""
    requests = [TransferRequest(**r) for r in inst.requests]
    vehicles = [
        Vehicle(**{**v, "risk_classes": frozenset(v["risk_classes"])}) for v in inst.vehicles
    ]
    sites = [
        IsolationSite(**{**s, "risk_classes": frozenset(s["risk_classes"])}) for s in inst.sites
    ]
    return requests, vehicles, sites


def plan(inst: Instance, **settings: Any) -> TransportPlan:
    """Plan ``inst`` with ``TransportSettings(**settings)``."""
    requests, vehicles, sites = model_inputs(inst)
    return plan_transport(
        requests, vehicles, sites, inst.duration_s, inst.distance_m, TransportSettings(**settings)
    )
