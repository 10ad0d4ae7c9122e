"""The road graph: one frozen object that routes, service areas, coverage and transport read.

A :class:`RoadGraph` holds the roads as arrays (nodes, edges, costs, geometry in EPSG:4326
and in a local metric projection) and as a directed graph in ``scipy.sparse`` CSR
matrices, one per weight: travel time in seconds (``"time"``) and length in metres
(``"length"``), for one profile (``car``: one-way roads are open in their geometry's
direction only; ``foot``: walkable edges both ways; see
:mod:`geogrid.spatial.roads.routable`). Node ids are the ``source``/``target`` ids stored
in the database, so answers can be compared one to one with pgRouting.
:class:`geogrid.spatial.roads.network.RoadNetwork` is a RoadGraph that also answers
matrices, paths and service areas; the array engine under both is
:mod:`geogrid.spatial.roads.engine`.

Points snapped onto roads (:meth:`RoadGraph.snap`) act as virtual nodes that split
their edge: the cost from a point at ``fraction`` of an edge to its end is
``(1 - fraction) * cost``, and a route may start or end part-way along an edge.

A snapped point that lies on a node *is* that node, whatever edge it snapped to: when it is
at most :data:`NODE_TOLERANCE_M` (1 mm) along the edge from the edge's start, it routes as
the start node; within 1 mm of the end, as the end node (the nearer one when the edge is
shorter than 2 mm). So a place at the start of a one-way street can leave by every road
at that junction, not only along that street, and matrices, paths and service areas give
the node's answers there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Literal, Self, SupportsIndex

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pyproj
import shapely
from scipy.spatial import cKDTree

from geogrid.errors import IngestError, NotFoundError
from geogrid.spatial._geometry import line_array
from geogrid.spatial._projection import LocalProjection
from geogrid.spatial.roads import engine
from geogrid.spatial.roads._snapping import EdgePieces
from geogrid.spatial.roads.routable import Profile, profile_costs, roads_with_topology

__all__ = ["NODE_TOLERANCE_M", "Place", "RoadGraph", "Snapped", "Weight"]

Weight = Literal["time", "length"]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

NODE_TOLERANCE_M = 1e-3
"""A snapped point this close to an edge's end (metres along the edge) routes as that node."""


@dataclass(frozen=True, eq=False)
class Snapped:
    """Points placed on their nearest road edge.

    Attributes
    ----------
    edge
        Position of the nearest edge in the network (the roads frame's row), or -1 when
        no edge lies within the search distance.
    fraction
        Where the point falls along the edge: 0 at its first vertex, 1 at its last, as
        a share of the edge's length (NaN when not snapped).
    distance_m
        Distance from the point to the edge in metres (inf when not snapped).
    lon, lat
        The snapped position on the edge, EPSG:4326.
    """

    edge: IntArray
    fraction: FloatArray
    distance_m: FloatArray
    lon: FloatArray
    lat: FloatArray

    def __len__(self) -> int:
        return len(self.edge)

    def __getitem__(self, index: SupportsIndex | slice | npt.ArrayLike) -> Snapped:
        """Return the selected points (always as arrays, even for one index)."""
        pick = np.atleast_1d(np.arange(len(self))[index])  # type: ignore[index]
        return Snapped(
            self.edge[pick],
            self.fraction[pick],
            self.distance_m[pick],
            self.lon[pick],
            self.lat[pick],
        )


Place = int | Sequence[int] | npt.NDArray[np.integer] | Snapped
"""Origins or destinations: node ids, or points from :meth:`RoadGraph.snap`."""


class RoadGraph:
    """A directed road graph with travel-time and length weights, frozen.

    Build it with :meth:`from_geodataframe`. Edges are addressed by their position in
    the roads frame, nodes by their ids. Frozen: attributes cannot be set and the arrays
    are read-only, so one graph is safely shared between threads and callers.

    The attributes and the methods :meth:`weighted`, :meth:`locations`, :meth:`ports`
    and :meth:`edges_at` are the road-graph contract that routes, service areas,
    coverage and transport build on; nothing outside this class reads its private
    members. Nodes have an *index* ``0 .. n_nodes - 1`` (their position in
    ``node_ids``), which is how the array engine (:mod:`geogrid.spatial.roads.engine`) and
    the ``*_index`` arrays address them.

    Parameters
    ----------
    geometry
        LineStrings in EPSG:4326, one per edge.
    source, target
        Node ids at each edge's first and last vertex (any integers).
    length_m
        Edge lengths in metres.
    cost_s, reverse_cost_s
        Travel times along and against the geometry, pgRouting style: negative means
        that direction is closed.
    code
        Edge codes; defaults to the positions as strings.
    profile
        The way of moving the costs are for (``car`` or ``foot``, see
        :mod:`geogrid.spatial.roads.routable`); a label only.

    Attributes
    ----------
    lines, lines_xy
        Edge geometries: LineStrings in EPSG:4326, and the same in :attr:`projection`
        (metres).
    source, target
        Node id at each edge's first and last vertex.
    source_index, target_index
        The same nodes as indices into ``node_ids``.
    length_m, cost_s, reverse_cost_s, code
        Per edge, as given (negative cost: that direction is closed).
    node_ids
        Sorted node ids.
    node_lon, node_lat, node_x, node_y
        Node positions, EPSG:4326 and in :attr:`projection` (metres).
    projection
        The local metric projection (Transverse Mercator around the nodes) used for
        snapping, cutting and buffering.
    profile
        ``car`` or ``foot``: whose costs these are.

    Examples
    --------
    Two streets in a row, the second one-way towards the east:

    >>> import geopandas as gpd
    >>> from shapely import LineString
    >>> roads = gpd.GeoDataFrame(
    ...     {"code": ["a", "b"], "road_class": ["residential", "residential"],
    ...      "speed_kmh": [36.0, 36.0], "oneway": [False, True]},
    ...     geometry=[LineString([(120.0, 28.0), (120.001, 28.0)]),
    ...               LineString([(120.001, 28.0), (120.002, 28.0)])],
    ...     crs=4326,
    ... )
    >>> graph = RoadGraph.from_geodataframe(roads)
    >>> graph.node_ids.tolist(), graph.source_index.tolist(), graph.target_index.tolist()
    ([1, 2, 3], [0, 1], [1, 2])
    >>> time = graph.weighted("time")
    >>> time.along.round(2).tolist(), time.against.round(2).tolist()
    ([9.84, 9.84], [9.84, inf])

    A place at the start of the one-way street is node 2 (index 1), not a point on it:

    >>> graph.locations(graph.snapped_from_fractions([1], [0.0])).node.tolist()
    [1]
    """

    def __init__(
        self,
        geometry: npt.ArrayLike,
        source: npt.ArrayLike,
        target: npt.ArrayLike,
        length_m: npt.ArrayLike,
        cost_s: npt.ArrayLike,
        reverse_cost_s: npt.ArrayLike,
        code: npt.ArrayLike | None = None,
        profile: Profile = "car",
    ) -> None:
        self.profile = profile
        self.lines = line_array(geometry)
        m = len(self.lines)
        source_a = np.asarray(source).reshape(-1)
        target_a = np.asarray(target).reshape(-1)
        arrays = [
            np.asarray(a, dtype=float).reshape(-1) for a in (length_m, cost_s, reverse_cost_s)
        ]
        if any(len(a) != m for a in (source_a, target_a, *arrays)):
            raise ValueError("geometry, source, target and costs must have the same length")
        if m and not (
            np.issubdtype(source_a.dtype, np.integer) and np.issubdtype(target_a.dtype, np.integer)
        ):
            raise IngestError("source and target must be integer node ids", column="source")
        self.length_m, self.cost_s, self.reverse_cost_s = arrays
        self.source = source_a.astype(np.int64)
        self.target = target_a.astype(np.int64)
        self.code = np.arange(m).astype(str) if code is None else np.asarray(code, dtype=object)
        ends = np.concatenate([self.source, self.target])
        self.node_ids, first = np.unique(ends, return_index=True)
        self.source_index = np.searchsorted(self.node_ids, self.source)
        self.target_index = np.searchsorted(self.node_ids, self.target)
        first_xy = np.concatenate(
            [shapely.get_coordinates(shapely.get_point(self.lines, i)) for i in (0, -1)]
        )
        self.node_lon = first_xy[first, 0] if m else np.empty(0)
        self.node_lat = first_xy[first, 1] if m else np.empty(0)
        self.projection = LocalProjection.around(self.node_lon, self.node_lat)
        self.lines_xy = self.projection.lines_to_xy(self.lines)
        self.node_x, self.node_y = self.projection.lonlat_to_xy(self.node_lon, self.node_lat)
        open_f, open_b = self.cost_s >= 0, self.reverse_cost_s >= 0
        n = len(self.node_ids)
        self._graphs = {
            "time": engine.WeightedGraph.build(
                self.source_index,
                self.target_index,
                np.where(open_f, self.cost_s, np.inf),
                np.where(open_b, self.reverse_cost_s, np.inf),
                n,
            ),
            "length": engine.WeightedGraph.build(
                self.source_index,
                self.target_index,
                np.where(open_f, self.length_m, np.inf),
                np.where(open_b, self.length_m, np.inf),
                n,
            ),
        }
        for value in vars(self).values():
            if isinstance(value, np.ndarray):
                value.flags.writeable = False
        self._frozen = True

    def __setattr__(self, name: str, value: object) -> None:
        if getattr(self, "_frozen", False):
            raise AttributeError(f"{type(self).__name__} is frozen: cannot set {name!r}")
        super().__setattr__(name, value)

    @classmethod
    def from_geodataframe(
        cls, roads: gpd.GeoDataFrame, *, profile: Profile = "car", tolerance_m: float = 0.5
    ) -> Self:
        """Build the graph of one profile from a roads frame in EPSG:4326.

        Uses the frame's ``source``, ``target``, ``length_m``, ``cost`` and
        ``reverse_cost`` columns where present (as stored by the loader) and computes the
        missing ones with :func:`geogrid.spatial.roads.routable.roads_with_topology`. Every
        row is an edge (positions match the frame's rows); edges the profile may not use
        are closed both ways and points never snap onto them
        (:func:`geogrid.spatial.roads.routable.profile_costs`).

        Examples
        --------
        A street and a footway (class ``path``), closed to cars:

        >>> from shapely import LineString
        >>> roads = gpd.GeoDataFrame(
        ...     {"road_class": ["residential", "path"]}, crs=4326,
        ...     geometry=[LineString([(120.0, 28.0), (120.0, 28.002)]),
        ...               LineString([(120.0, 28.0), (120.002, 28.002)])])
        >>> car = RoadGraph.from_geodataframe(roads)
        >>> foot = RoadGraph.from_geodataframe(roads, profile="foot")
        >>> [bool(g.cost_s[1] >= 0) for g in (car, foot)], foot.profile
        ([False, True], 'foot')

        Raises
        ------
        UnknownCRSError
            The frame is not in EPSG:4326.
        InvalidGeometryError
            A geometry is not a non-empty LineString.
        """
        full = roads_with_topology(roads, tolerance_m=tolerance_m)
        cost, reverse_cost = profile_costs(full, profile)
        return cls(
            geometry=full.geometry.to_numpy(),
            source=full["source"].to_numpy(),
            target=full["target"].to_numpy(),
            length_m=full["length_m"].to_numpy(),
            cost_s=cost,
            reverse_cost_s=reverse_cost,
            code=full["code"].to_numpy() if "code" in full else None,
            profile=profile,
        )

    # -- size -------------------------------------------------------------------------

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_ids)

    @property
    def n_edges(self) -> int:
        """Number of edges (roads frame rows)."""
        return len(self.lines)

    @property
    def memory_bytes(self) -> int:
        """Approximate memory held: arrays exactly, geometries estimated."""
        arrays = [
            self.length_m,
            self.cost_s,
            self.reverse_cost_s,
            self.source,
            self.target,
            self.node_ids,
            self.source_index,
            self.target_index,
            self.node_lon,
            self.node_lat,
            self.node_x,
            self.node_y,
        ]
        n_coords = int(shapely.get_num_coordinates(self.lines).sum())
        geometry = 2 * (16 * n_coords + 120 * self.n_edges)  # lon/lat and projected copies
        return (
            sum(a.nbytes for a in arrays)
            + sum(g.nbytes for g in self._graphs.values())
            + geometry
            + 8 * self.n_edges
        )

    @property
    def metric_crs(self) -> pyproj.CRS:
        """The local Transverse Mercator used for snapping, cutting and buffering."""
        return self.projection.crs

    # -- snapping ---------------------------------------------------------------------

    @cached_property
    def edge_tree(self) -> shapely.STRtree:
        """An R-tree of the projected edges, for queries by area."""
        return shapely.STRtree(self.lines_xy)

    @cached_property
    def _pieces(self) -> EdgePieces:
        """Straight pieces of the edges the profile may use (closed ones have none)."""
        usable = (self.cost_s >= 0) | (self.reverse_cost_s >= 0)
        return EdgePieces.from_lines(np.where(usable, self.lines_xy, shapely.LineString()))

    @cached_property
    def _node_tree(self) -> cKDTree:
        return cKDTree(np.column_stack([self.node_x, self.node_y]))

    def snap(
        self, lon: npt.ArrayLike, lat: npt.ArrayLike, max_distance_m: float | None = None
    ) -> Snapped:
        """Place points (EPSG:4326) on their nearest edge open to the profile.

        Among equally near edges (a point nearest to a junction) the lower edge position
        wins. The place is the same either way, and so is every route from or to it: a
        point within :data:`NODE_TOLERANCE_M` of a node routes as that node.

        Parameters
        ----------
        lon, lat
            Coordinates in degrees, scalars or arrays of equal length.
        max_distance_m
            Points farther than this from every edge stay unsnapped (``edge == -1``);
            routing from or to them gives inf.

        Returns
        -------
        Snapped
            Nearest edge, fraction along it and distance to it, per point.
        """
        lon_a = np.atleast_1d(np.asarray(lon, dtype=float))
        lat_a = np.atleast_1d(np.asarray(lat, dtype=float))
        if lon_a.shape != lat_a.shape or lon_a.ndim != 1:
            raise ValueError("lon and lat must be 1-d and of the same length")
        k = len(lon_a)
        out = Snapped(
            np.full(k, -1, np.int64),
            np.full(k, np.nan),
            np.full(k, np.inf),
            np.full(k, np.nan),
            np.full(k, np.nan),
        )
        if k == 0 or self.n_edges == 0:
            return out
        x, y = self.projection.lonlat_to_xy(lon_a, lat_a)
        found = self._pieces.nearest(x, y, max_distance_m)
        rows = found.rows
        out.edge[rows] = found.edge
        out.fraction[rows] = found.fraction
        out.distance_m[rows] = found.distance_m
        out.lon[rows], out.lat[rows] = self.projection.xy_to_lonlat(found.x, found.y)
        return out

    def snapped_from_fractions(self, edge: npt.ArrayLike, fraction: npt.ArrayLike) -> Snapped:
        """Return points given as edge positions and fractions along them (distance 0).

        Examples
        --------
        >>> import geopandas as gpd
        >>> from shapely import LineString
        >>> roads = gpd.GeoDataFrame({"road_class": ["service"]}, crs=4326,
        ...     geometry=[LineString([(120.0, 28.0), (120.002, 28.0)])])
        >>> net = RoadGraph.from_geodataframe(roads)
        >>> p = net.snapped_from_fractions([0], [0.25])
        >>> round(float(p.lon[0]), 6), float(p.fraction[0])
        (120.0005, 0.25)
        """
        edge_a = np.atleast_1d(np.asarray(edge, dtype=np.int64))
        frac = np.clip(np.atleast_1d(np.asarray(fraction, dtype=float)), 0.0, 1.0)
        if edge_a.shape != frac.shape or np.any((edge_a < 0) | (edge_a >= self.n_edges)):
            raise ValueError("edge and fraction must match, and edges must exist")
        on = shapely.get_coordinates(
            shapely.line_interpolate_point(self.lines_xy[edge_a], frac, normalized=True)
        )
        lon, lat = self.projection.xy_to_lonlat(on[:, 0], on[:, 1])
        return Snapped(edge_a, frac, np.zeros(len(edge_a)), lon, lat)

    def nearest_node(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[IntArray, FloatArray]:
        """Return the id of the nearest node to each point and the distance in metres."""
        x, y = self.projection.lonlat_to_xy(np.atleast_1d(lon), np.atleast_1d(lat))
        if self.n_nodes == 0:
            return np.full(len(x), -1, np.int64), np.full(len(x), np.inf)
        dist, idx = self._node_tree.query(np.column_stack([x, y]))
        return self.node_ids[idx], np.asarray(dist, dtype=float)

    # -- the graph contract -----------------------------------------------------------

    def weighted(self, weight: str) -> engine.WeightedGraph:
        """Return the CSR graph of one weight, ``"time"`` (seconds) or ``"length"`` (metres).

        Raises
        ------
        ValueError
            Another weight.
        """
        try:
            return self._graphs[weight]
        except KeyError:
            raise ValueError(f"weight must be 'time' or 'length', got {weight!r}") from None

    @cached_property
    def _incidence(self) -> tuple[IntArray, IntArray]:
        """Return CSR-style ``(indptr, edges)``: the edges touching each node."""
        ends = np.concatenate([self.source_index, self.target_index])
        order = np.argsort(ends, kind="stable")
        indptr = np.zeros(self.n_nodes + 1, dtype=np.int64)
        np.cumsum(np.bincount(ends, minlength=self.n_nodes), out=indptr[1:])
        return indptr, np.tile(np.arange(self.n_edges), 2)[order]

    def edges_at(self, nodes: IntArray) -> IntArray:
        """Return the sorted edges touching any of ``nodes`` (internal indices)."""
        indptr, edges = self._incidence
        lo, hi = indptr[nodes], indptr[nodes + 1]
        counts = hi - lo
        offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        return np.unique(edges[np.repeat(lo, counts) + offsets])

    def locations(self, places: Place) -> engine.Locations:
        """Turn node ids or snapped points into locations for the array engine.

        A snapped point within :data:`NODE_TOLERANCE_M` of its edge's start or end
        becomes that node (see the module docstring); an unsnapped point is nowhere.

        Raises
        ------
        NotFoundError
            A node id or a snapped edge this network does not have.
        ValueError
            Places that are neither integers nor :class:`Snapped`.
        """
        if isinstance(places, Snapped):
            edge = places.edge.astype(np.int64)
            if np.any(edge >= self.n_edges):
                raise NotFoundError("snapped points refer to edges this network does not have")
            fraction = np.nan_to_num(places.fraction.astype(float))
            node = np.full(len(places), -1, np.int64)
            on = np.flatnonzero(edge >= 0)
            e, f = edge[on], fraction[on]
            at_start = (f * self.length_m[e] <= NODE_TOLERANCE_M) & (f <= 0.5)
            at_end = ((1 - f) * self.length_m[e] <= NODE_TOLERANCE_M) & (f > 0.5)
            node[on[at_start]] = self.source_index[e[at_start]]
            node[on[at_end]] = self.target_index[e[at_end]]
            return engine.Locations(node, np.where(node >= 0, -1, edge), fraction)
        ids = np.atleast_1d(np.asarray(places))
        if ids.size and not np.issubdtype(ids.dtype, np.integer):
            raise ValueError("origins and destinations must be node ids (integers) or Snapped")
        ids = ids.astype(np.int64).reshape(-1)
        pos = np.searchsorted(self.node_ids, ids)
        if self.n_nodes:
            missing = self.node_ids[np.minimum(pos, self.n_nodes - 1)] != ids
        else:
            missing = np.ones(len(ids), bool)
        if np.any(missing):
            bad = ids[missing]
            raise NotFoundError(
                f"no node with id {int(bad[0])} in the road network",
                details={"node_ids": bad[:20].tolist()},
            )
        k = len(ids)
        return engine.Locations(pos.astype(np.int64), np.full(k, -1, np.int64), np.zeros(k))

    def ports(
        self, locs: engine.Locations, graph: engine.WeightedGraph, leaving: bool
    ) -> engine.Ports:
        """Return where one leaves the locations (``leaving``) or arrives at them, at what cost.

        See :func:`geogrid.spatial.roads.engine.ports`.
        """
        return engine.ports(locs, graph, self.source_index, self.target_index, leaving)
