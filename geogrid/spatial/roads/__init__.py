"""Roads: topology, the frozen road graph, and routing on it.

Pure functions and small classes on GeoDataFrames and arrays (EPSG:4326 in and out;
metric work in the graph's local projection). The workspace builds one
:class:`~geogrid.spatial.roads.network.RoadNetwork` from the roads table and caches it;
coverage and transport read it through the public graph contract of
:class:`~geogrid.spatial.roads.graph.RoadGraph`.

Modules, from the bottom up (each imports only those above it):

- :mod:`.topology` — node ids for edge ends, geodesic lengths, travel costs;
- :mod:`.routable` — the routable columns the loader stores (:func:`roads_with_topology`)
  and the profiles (``car``, ``foot``) a graph can be built for;
- :mod:`.engine` — the array engine: CSR graphs, locations, ports, Dijkstra;
- :mod:`.graph` — :class:`~.graph.RoadGraph`, the frozen graph object (arrays, projection,
  weighted graphs, snapping, locations and ports), and :class:`~.graph.Snapped`;
- :mod:`.routes`, :mod:`.servicearea` — shortest paths and service areas on a graph;
- :mod:`.network` — :class:`~.network.RoadNetwork`: a graph that answers matrices,
  paths and service areas;
- :mod:`.synthetic` — synthetic street lattices for tests and benchmarks.

The names of :mod:`.routable` (the loader's entry points and the profiles) are also
importable from here; importing the package loads no routing.
"""

from geogrid.spatial.roads.routable import (
    PROFILES,
    WALKING_SPEED_KMH,
    Profile,
    car_costs,
    profile_costs,
    profile_flags,
    require_wgs84,
    roads_with_topology,
)

__all__ = [
    "PROFILES",
    "WALKING_SPEED_KMH",
    "Profile",
    "car_costs",
    "profile_costs",
    "profile_flags",
    "require_wgs84",
    "roads_with_topology",
]
