"""The reduce step of the decision pass: conditions that need several terminals.

A ``cluster`` detection rule holds for a terminal when at least ``min_terminals`` terminals
(itself included) stand within ``radius_km`` (chord distance at the surface) of it, inside
``zone`` when one is given (``policy.run.place_condition``).  It depends on every terminal's
position, so the shards of terminals (``sim.shards``) cannot compute it alone: it is reduced
over all terminals here and handed to each shard.

With fixed terminals only it is one array.  With moving terminals it changes over time, and
is computed instant by instant without redoing the fixed part: the fixed terminals' KD-tree
and neighbour counts are built once, and each instant adds, from the movers' side only, the
movers' neighbours among the fixed terminals and among themselves (``scipy.spatial.cKDTree``).
Stored is what differs from the fixed terminals' own condition, instant by instant.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from leotwin.geodesy import geodetic_to_ecef
from leotwin.ground.motion import Movers
from leotwin.policy.engine import PolicyEngine
from leotwin.policy.run import place_condition

#: mover × instant positions computed at once (bounds the temporaries)
MOVER_ELEMENTS = 1 << 19


@dataclass
class ClusterTimeline:
    """One rule's condition over all K terminals at every instant."""

    base: np.ndarray  # (K,) bool: the condition with no mover counted (movers False)
    #: per instant, (terminal indices, their condition) where it differs from ``base``
    changes: list[tuple[np.ndarray, np.ndarray]] | None = None

    def at(self, t: int, a: int = 0, b: int | None = None) -> np.ndarray:
        """The condition of terminals a … b−1 at instant ``t``."""
        b = len(self.base) if b is None else b
        out = self.base[a:b].copy()
        if self.changes is not None:
            idx, val = self.changes[t]
            lo, hi = np.searchsorted(idx, [a, b])
            out[idx[lo:hi] - a] = val[lo:hi]
        return out


def place_conditions(engine: PolicyEngine, lat: np.ndarray, lon: np.ndarray, ids: list[str],
                     movers: Movers | None = None, time_ns: np.ndarray | None = None
                     ) -> dict[int, ClusterTimeline]:
    """Each ``cluster`` rule's condition over all terminals (rule index → timeline).  With
    ``movers``, at every instant of ``time_ns``; ``lat``/``lon`` then give the fixed
    terminals' places (the movers' entries are not read)."""
    out = {}
    for j, rule in enumerate(engine.doc.policy.detection):
        if rule.rule != "cluster":
            continue
        if movers is None or not len(movers) or time_ns is None:
            out[j] = ClusterTimeline(place_condition(engine, rule, lat, lon, ids))
        else:
            out[j] = _timeline(engine, rule, lat, lon, movers, time_ns)
    return out


def _inside(engine: PolicyEngine, rule, lat, lon) -> np.ndarray:
    if rule.zone is None:
        return np.ones(len(lat), dtype=bool)
    loc = engine.locate(lat, lon)
    return engine.member(loc, engine.region_key(rule.zone))[loc.inverse]


def _timeline(engine: PolicyEngine, rule, lat, lon, movers: Movers, time_ns: np.ndarray
              ) -> ClusterTimeline:
    k = len(lat)
    moving = np.zeros(k, dtype=bool)
    cols = movers.terminals
    moving[cols] = True
    fixed = np.flatnonzero(~moving)
    inside_f = fixed[_inside(engine, rule, lat[fixed], lon[fixed])]
    xyz_f = geodetic_to_ecef(lat[inside_f], lon[inside_f], 0 * lat[inside_f])
    tree_f = cKDTree(xyz_f)
    counts_f = (tree_f.query_ball_point(xyz_f, rule.radius_km, return_length=True)
                if len(inside_f) else np.zeros(0, np.int64))
    base = np.zeros(k, dtype=bool)
    base[inside_f] = counts_f >= rule.min_terminals
    n = rule.min_terminals
    changes = []
    per = max(1, MOVER_ELEMENTS // max(1, len(cols)))
    for t0 in range(0, len(time_ns), per):
        mlat, mlon, _alt, _speed = movers.at(time_ns[t0:t0 + per])
        for i in range(len(mlat)):
            inside = _inside(engine, rule, mlat[i], mlon[i])
            m_in = np.flatnonzero(inside)
            xyz_m = geodetic_to_ecef(mlat[i, m_in], mlon[i, m_in], 0 * mlat[i, m_in])
            count_m = np.zeros(len(m_in), dtype=np.int64)
            extra_f = np.zeros(len(inside_f), dtype=np.int64)
            if len(m_in):
                count_m += cKDTree(xyz_m).query_ball_point(xyz_m, rule.radius_km,
                                                           return_length=True)
                if len(inside_f):
                    near = tree_f.query_ball_point(xyz_m, rule.radius_km)
                    count_m += np.fromiter((len(x) for x in near), np.int64, len(near))
                    hits = np.fromiter((f for x in near for f in x), np.int64)
                    extra_f = np.bincount(hits, minlength=len(inside_f))
            flip_f = (counts_f + extra_f >= n) & ~base[inside_f]
            idx = np.concatenate([inside_f[flip_f], cols[m_in[count_m >= n]]])
            order = np.argsort(idx)
            changes.append((idx[order].astype(np.int64), np.ones(len(idx), dtype=bool)))
    return ClusterTimeline(base, changes)
