"""Which terminals of a scenario move, and along what (``ground.motion``).

A terminal moves when the scenario's ``ground.tracks`` CSV names it (its waypoints, as given),
or when its speed is above zero and its ``motion`` (its own, for a listed terminal; its
population's, for a synthetic one) is not ``fixed``: a ``random-walk`` by default, staying in
the population's region.  Generated paths start at the terminal's place at the window's start
and are seeded from the scenario's seed, so a scenario and seed give the same paths on every
backend.
"""

from __future__ import annotations

import numpy as np

from leotwin.errors import InputError
from leotwin.ground.motion import Movers, OrbitGroup, PathGroup, orbit, random_walk, straight
from leotwin.ground.sites import load_tracks_csv
from leotwin.io.yamlfile import line_at
from leotwin.policy.schema import Terminal
from leotwin.sim.load import LoadedScenario
from leotwin.sim.scenario import Motion

#: seed streams (``numpy.random.SeedSequence`` entropy after the scenario's seed)
LISTED_STREAM, POPULATION_STREAM = 8, 9


def movers_of(loaded: LoadedScenario, terminals: list[Terminal], start_ns: int,
              end_ns: int) -> Movers:
    """The moving terminals among ``terminals`` (the listed ones, then each population's, in
    the order of ``sim.assemble.populations_of``) and their paths over [start, end]."""
    s = loaded.scenario
    index = {t.id: j for j, t in enumerate(terminals)}
    tracked: set[int] = set()
    groups: list[PathGroup | OrbitGroup] = []
    kinds: list[str] = []
    if s.ground.tracks is not None:
        path = loaded.path(s.ground.tracks)
        for track in load_tracks_csv(path):
            j = index.get(track.terminal_id)
            if j is None:
                raise InputError(f"terminal '{track.terminal_id}' of the tracks is not among "
                                 "the scenario's terminals (listed or of a population)",
                                 source=path, field="terminal_id")
            tracked.add(j)
            groups.append(PathGroup(np.array([j]), track.time_ns, track.lat_deg[None],
                                    track.lon_deg[None], track.alt_km[None]))
            kinds.append("track")
    lat = np.array([t.lat for t in terminals], dtype=np.float64)
    lon = np.array([t.lon for t in terminals], dtype=np.float64)
    alt = np.array([t.alt_m for t in terminals], dtype=np.float64) / 1000.0
    listed = len(s.terminals)
    for j, t in enumerate(s.terminals):
        if j in tracked or t.speed_kmh <= 0:
            continue
        rng = np.random.default_rng([s.seed, LISTED_STREAM, j])
        motion = t.motion or Motion()
        group = _generate(loaded, motion, np.array([j]), lat, lon, alt, t.speed_kmh, start_ns,
                          end_ns, rng, ("terminals", j, "motion"), None)
        if group is not None:
            groups.append(group)
            kinds.append(motion.path)
    a = listed
    for k, pop in enumerate(s.ground.populations):
        n = loaded.population_count(k)
        members = np.array([j for j in range(a, a + n) if j not in tracked], dtype=np.int64)
        a += n
        if pop.speed_kmh <= 0 or not len(members):
            continue
        rng = np.random.default_rng([s.seed, POPULATION_STREAM, k])
        motion = pop.motion or Motion()
        group = _generate(loaded, motion, members, lat, lon, alt, pop.speed_kmh, start_ns,
                          end_ns, rng, ("ground", "populations", k, "motion"), pop.region)
        if group is not None:
            groups.append(group)
            kinds.extend([motion.path] * len(members))
    # the columns in terminal order: a shard's movers are then a contiguous run of them
    movers = Movers(groups, kinds)
    order = np.argsort(movers.terminals, kind="stable")
    return _reorder(movers, order)


def _generate(loaded: LoadedScenario, motion: Motion, members: np.ndarray, lat, lon, alt,
              speed: float, start_ns: int, end_ns: int, rng: np.random.Generator,
              where: tuple, region: str | None) -> PathGroup | OrbitGroup | None:
    la, lo, al = lat[members], lon[members], alt[members]
    if motion.path == "fixed":
        return None
    if motion.path == "straight":
        heading = (rng.uniform(0.0, 360.0, len(members)) if motion.heading_deg is None
                   else np.full(len(members), motion.heading_deg))
        return straight(members, la, lo, al, speed, start_ns, end_ns, heading)
    if motion.path == "orbit":
        return orbit(members, la, lo, al, speed, start_ns, end_ns, rng,
                     radius_km=motion.radius_km)
    stay = motion.stay_in or region
    inside = None
    if stay is not None:
        try:
            zone = loaded.zone_engine.region(stay)
        except InputError:
            raise InputError(f"unknown region '{stay}'", source=loaded.source,
                             line=line_at(loaded.raw, (*where, "stay_in")),
                             field=".".join(map(str, (*where, "stay_in")))) from None
        inside = zone.contains
    return random_walk(members, la, lo, al, speed, start_ns, end_ns, rng, leg_km=motion.leg_km,
                       turn_deg=motion.turn_deg, heading_deg=motion.heading_deg, inside=inside)


def _reorder(movers: Movers, order: np.ndarray) -> Movers:
    """One group per run of columns that stays in one group, in ``order``."""
    if not len(movers) or np.array_equal(order, np.arange(len(order))):
        return movers
    owner = np.concatenate([np.full(len(g.terminals), i) for i, g in enumerate(movers.groups)])
    row = np.concatenate([np.arange(len(g.terminals)) for g in movers.groups])
    groups = []
    cut = np.flatnonzero(np.diff(owner[order])) + 1
    for run in np.split(order, cut):
        g = movers.groups[int(owner[run[0]])]
        groups.append(g.select(row[run]))
    return Movers(groups, [movers.kinds[i] for i in order])
