"""Network: inter-satellite links, per-instant graphs, latency-optimal routing and RTT."""

from leotwin.network.isl import TOPOLOGIES, check_topology, nearest_k, plus_grid
from leotwin.network.routing import Geometry, Router

__all__ = ["TOPOLOGIES", "Geometry", "Router", "check_topology", "nearest_k", "plus_grid"]
