"""Transport to isolation: households to sites, and vehicle trips with a real solver.

The pure core of the "how do the transfer vehicles get people to isolation sites"
question. The caller (the workspace) snaps homes, sites and depots to the road network,
builds a travel-time matrix (and a distance matrix) over them and converts datetimes to
seconds from a day start; this package does the rest on arrays and dataclasses:

- :func:`assign_sites`: each household whole to one accepting site within capacity,
  least total travel (an exact MIP);
- :func:`plan_transport`: sites, then routes (VROOM by default, OR-Tools on request)
  with one household per trip, disinfection after each drop, shifts, ready times and a
  time budget, minimising the last arrival, then the driving;
- :func:`replan`: keep the trips under way and plan the rest again.
"""

from geogrid.spatial.transport.assign import SiteAssignment, assign_sites
from geogrid.spatial.transport.model import (
    RISK_CLASSES,
    UNSERVED_REASONS,
    IsolationSite,
    PlanSummary,
    Probe,
    RiskClass,
    Stop,
    StopKind,
    TransferRequest,
    TransportInputError,
    TransportPlan,
    TransportSettings,
    Unserved,
    UnservedReason,
    Vehicle,
    VehicleRoute,
)
from geogrid.spatial.transport.plan import plan_transport, replan

__all__ = [
    "RISK_CLASSES",
    "UNSERVED_REASONS",
    "IsolationSite",
    "PlanSummary",
    "Probe",
    "RiskClass",
    "SiteAssignment",
    "Stop",
    "StopKind",
    "TransferRequest",
    "TransportInputError",
    "TransportPlan",
    "TransportSettings",
    "Unserved",
    "UnservedReason",
    "Vehicle",
    "VehicleRoute",
    "assign_sites",
    "plan_transport",
    "replan",
]
