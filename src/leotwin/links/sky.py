"""Each ground site's serving satellite at one instant, for many sites at once.

For every site (a terminal, or the centre of an H3 service cell standing for the terminals in
it) :meth:`SiteSky.best` returns the satellite the assignment rule picks at a slot start
(``network.access``): the highest one above the site's mask (``highest-elevation``), or the one
with the shortest path to the site's PoP (``least-latency``: slant range plus the PoP's
distance from that satellite), −1 where none is above the mask.  Ties go to the lowest
satellite index, as in ``network.access``.

Two exact methods, chosen from the inputs only (so every backend takes the same one):

* **dense**, for sites inside one region: the K satellites that can reach the region × the M
  sites, ρ·û = s·û − g·û and |ρ|² = |s|² − 2 s·g + |g|² as (K×3)·(3×M) products (as
  ``analysis.counting`` counts cells), then the one mask test of ``links.elevation``;
* **tiles**, for sites spread over the globe: the sites cut into tiles of
  :data:`TILE_DEG` of latitude and longitude, each tile by the dense method over the satellites
  in its own reach (10x faster than the KD-tree for 53,000 sites worldwide, 9,448 satellites);
* **KD-tree**, for spread sites that fall in one tile: the candidate pairs of
  ``links.visibility.VisibilityIndex``, then the same test.

Elevations are compared as sign(ρ·û)·(ρ·û)²/|ρ|² = ±sin²(el), monotonic in el on visible pairs.
"""

from __future__ import annotations

import numpy as np

from leotwin.geodesy import LEO_CEILING_KM, WGS84
from leotwin.links.elevation import above_mask
from leotwin.links.visibility import VisibilityIndex

#: expected satellites in reach of the sites above which the KD-tree beats the dense product
#: (the threshold of ``analysis.counting``: dense 4.6 vs KD 16 ms per instant for Ukraine)
DENSE_MAX_SATELLITES = 400
#: satellite × site elements per dense block (temporaries of 256 KiB: they stay in cache,
#: 3x faster than 16-MiB blocks for 13,640 sites)
BLOCK_ELEMENTS = 1 << 15
#: side of the tiles of a sky over sites too spread for one dense block (deg)
TILE_DEG = 10.0


class SiteSky:
    """Fixed sites (ECEF km, geodetic up, mask per site); see the module docstring.

    ``site_pop``: each site's PoP (an index into the ``to_pop`` maps of :meth:`best`), for
    ``least-latency``.
    """

    def __init__(self, site_ecef: np.ndarray, site_up: np.ndarray, mask_deg,
                 site_pop: np.ndarray | None = None):
        self.index = VisibilityIndex(site_ecef, site_up, mask_deg)
        g = self.index.site_ecef
        u = self.index.site_up
        self.m = len(g)
        self.site_pop = (np.zeros(self.m, np.int64) if site_pop is None
                         else np.asarray(site_pop, np.int64))
        self.gt = np.ascontiguousarray(g.T)
        self.ut = np.ascontiguousarray(u.T)
        self.g_dot_u = (g * u).sum(axis=1)
        self.g2 = (g * g).sum(axis=1)
        self.sin2 = self.index.sin_mask ** 2
        self._tiles: list[tuple[np.ndarray, SiteSky]] | None = None
        if self.m:
            units = g / np.linalg.norm(g, axis=1)[:, None]
            centre = units.mean(axis=0)
            norm = np.linalg.norm(centre)
            self.centre = centre / norm if norm > 1e-9 else np.array([0.0, 0.0, 1.0])
            self.angle = float(np.arccos(np.clip(units @ self.centre, -1, 1)).max())
        else:
            self.centre, self.angle = np.array([0.0, 0.0, 1.0]), 0.0

    def dense(self, n_sats: int) -> bool:
        """Whether the dense method is the cheaper one for a constellation of ``n_sats``."""
        reach = 2.0 * np.arcsin(min(self.index.cap_chord(WGS84.a_km + LEO_CEILING_KM) / 2, 1.0))
        expected = n_sats * (1.0 - np.cos(min(reach + self.angle, np.pi))) / 2.0
        return bool(expected <= DENSE_MAX_SATELLITES)

    def near(self, r: np.ndarray) -> np.ndarray:
        """(N, t) which satellites of positions ``r`` (N, t, 3) may be above some site's mask
        (a superset, from the sites' spherical cap; NaN positions never)."""
        radius = np.linalg.norm(r, axis=-1)
        finite = np.isfinite(radius)
        top = float(radius[finite].max()) if finite.any() else WGS84.a_km + LEO_CEILING_KM
        reach = 2.0 * np.arcsin(min(self.index.cap_chord(top) / 2.0, 1.0)) + self.angle
        with np.errstate(invalid="ignore"):
            return (r @ self.centre) >= np.cos(min(reach, np.pi)) * radius

    def best(self, sat: np.ndarray, dense: bool, to_pop: dict[int, np.ndarray] | None = None,
             near: np.ndarray | None = None) -> np.ndarray:
        """(M,) the serving satellite of each site at ITRF positions ``sat`` (N, 3), −1 where
        none is above the mask; ``to_pop`` (PoP → distance km from each satellite) selects
        ``least-latency``.  ``near``: the satellites :meth:`near` kept at this instant."""
        out = np.full(self.m, -1, dtype=np.int64)
        if not self.m or not len(sat):
            return out
        idx = np.flatnonzero(near) if near is not None else np.arange(len(sat))
        if not dense and near is None and self.m > 1:
            tiles = self.tiles()
            if len(tiles) > 1:
                for cols, tile in tiles:  # each by the dense method over its own reach
                    out[cols] = tile.best(sat, True, to_pop, tile.near(sat[:, None])[:, 0])
                return out
        if dense:
            block = max(1, BLOCK_ELEMENTS // max(1, len(idx)))
            for a in range(0, self.m, block):
                out[a:a + block] = self._dense(sat[idx], idx, slice(a, min(self.m, a + block)),
                                               to_pop)
            return out
        si, gi, _el, rng = self.index.pairs(sat)
        if to_pop is None:
            rho = sat[si] - self.index.site_ecef[gi]
            up = (rho * self.index.site_up[gi]).sum(axis=1)
            score = -(np.sign(up) * up * up / (rng * rng))  # minimised: highest first
        else:
            score = rng + _pop_distance(to_pop, self.site_pop[gi], si)
        # per site the lowest score, and of equal ones the lowest satellite: the pairs come
        # by satellite, so a stable sort by site keeps each site's satellites in order
        if not len(gi):
            return out
        order = np.argsort(gi, kind="stable")
        gi, si, score = gi[order], si[order], score[order]
        starts = np.flatnonzero(np.r_[True, gi[1:] != gi[:-1]])
        group = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(gi)]))
        hit = np.flatnonzero(score == np.minimum.reduceat(score, starts)[group])
        first = hit[np.r_[True, group[hit][1:] != group[hit][:-1]]]
        out[gi[first]] = si[first]
        return out

    def visible(self, sat: np.ndarray, dense: bool, near: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Every (satellite, site) pair above the site's mask at ITRF positions ``sat``
        (N, 3): (sat index, site index, sin(elevation), slant range km), ordered by site, then
        satellite — by the dense products over the ``near`` satellites when ``dense``, else the
        KD-tree pairs of ``links.visibility``."""
        if not dense and near is None and self.m > 1 and len(self.tiles()) > 1:
            parts = []
            for cols, tile in self.tiles():  # each by the dense method over its own reach
                si, gi, sin_el, rng = tile.visible(sat, True, tile.near(sat[:, None])[:, 0])
                parts.append((si, cols[gi], sin_el, rng))
            si, gi, sin_el, rng = (np.concatenate(x) for x in zip(*parts, strict=True))
            order = np.lexsort((si, gi))
            return si[order], gi[order], sin_el[order], rng[order]
        if not dense or near is None:
            si, gi, el, rng = self.index.pairs(sat)
            order = np.lexsort((si, gi))
            return si[order], gi[order], np.sin(np.radians(el[order])), rng[order]
        idx = np.flatnonzero(near)
        s = sat[idx]
        out: list[list[np.ndarray]] = [[], [], [], []]
        block = max(1, BLOCK_ELEMENTS // max(1, len(idx)))
        for a in range(0, self.m, block):
            part = slice(a, min(self.m, a + block))
            up, r2 = self._products(s, part)
            k, g = np.nonzero(above_mask(up, r2, self.sin2[part]).T)
            rng = np.sqrt(r2.T[k, g])
            out[0].append(idx[g])  # (k, g): site k of the block, satellite g of ``near``
            out[1].append(a + k)
            out[2].append(up.T[k, g] / rng)
            out[3].append(rng)
        si, gi, sin_el, rng = (np.concatenate(x) for x in out)
        return si.astype(np.int64), gi.astype(np.int64), sin_el, rng

    def tiles(self) -> list[tuple[np.ndarray, SiteSky]]:
        """The sites by tile of :data:`TILE_DEG` (the site indices and a sky of their own)."""
        if self._tiles is None:
            g, u = self.index.site_ecef, self.index.site_up
            units = g / np.linalg.norm(g, axis=1)[:, None]
            lat = np.degrees(np.arcsin(np.clip(units[:, 2], -1, 1)))
            lon = np.degrees(np.arctan2(units[:, 1], units[:, 0]))
            key = (np.floor((lat + 90) / TILE_DEG) * 1000 + np.floor((lon + 180) / TILE_DEG))
            tiles, inverse = np.unique(key, return_inverse=True)
            order = np.argsort(inverse.ravel(), kind="stable")
            cuts = np.cumsum(np.bincount(inverse.ravel(), minlength=len(tiles)))[:-1]
            self._tiles = []
            for cols in np.split(order, cuts):
                tile = SiteSky(g[cols], u[cols], self.index.mask_deg[cols], self.site_pop[cols])
                tile._tiles = []  # a tile is not cut again
                self._tiles.append((cols, tile))
        return self._tiles

    def _products(self, s: np.ndarray, cols: slice) -> tuple[np.ndarray, np.ndarray]:
        """(K, M) ρ·û and |ρ|² of satellites ``s`` (K, 3) and the sites ``cols``, as
        (K×3)·(3×M) products (module docstring)."""
        up = s @ self.ut[:, cols]
        up -= self.g_dot_u[cols]
        r2 = s @ self.gt[:, cols]
        r2 *= -2.0
        r2 += (s * s).sum(axis=1)[:, None]
        r2 += self.g2[cols]
        return up, r2

    def _dense(self, s: np.ndarray, idx: np.ndarray, cols: slice,
               to_pop: dict[int, np.ndarray] | None) -> np.ndarray:
        out = np.full(cols.stop - cols.start, -1, dtype=np.int64)
        if not len(s):
            return out
        up, r2 = self._products(s, cols)
        vis = above_mask(up, r2, self.sin2[cols])
        seen = vis.any(axis=0)
        if to_pop is None:
            score = np.where(vis, up * up / r2, -np.inf)  # sin²(el) where visible (ρ·û > 0)
            pick = score.argmax(axis=0)  # first maximum: the lowest satellite index
        else:
            cost = np.sqrt(r2)
            cost += _pop_distance(to_pop, self.site_pop[cols][None, :], idx[:, None])
            pick = np.where(vis, cost, np.inf).argmin(axis=0)
            # every visible satellite at an infinite cost: the lowest visible one (the rule
            # then still serves, and the path check finds no route)
            stuck = seen & ~np.isfinite(cost[pick, np.arange(len(pick))])
            pick[stuck] = vis[:, stuck].argmax(axis=0)
        out[seen] = idx[pick[seen]]
        return out


def _pop_distance(to_pop: dict[int, np.ndarray], pop: np.ndarray, sat: np.ndarray
                  ) -> np.ndarray:
    """Distance (km) from satellite ``sat`` to PoP ``pop``, elementwise (broadcasting)."""
    pops = sorted(to_pop)
    table = np.stack([np.asarray(to_pop[p], dtype=np.float64) for p in pops])
    row = np.searchsorted(pops, pop)
    return table[row, sat]

