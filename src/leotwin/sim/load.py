"""Load a scenario (a built-in name or a file) and check it completely before anything runs."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from pydantic import ValidationError

from leotwin.data import resolve_scenario
from leotwin.errors import InputError
from leotwin.io.text import read_text
from leotwin.io.yamlfile import line_at, load_yaml
from leotwin.orbits.catalog import CATALOG
from leotwin.orbits.omm import load_omm
from leotwin.orbits.satellites import SatelliteSet
from leotwin.orbits.tle import load_tle
from leotwin.policy.engine import PolicyEngine
from leotwin.policy.load import LoadedPolicy, check_meaning, plans_of, region_known
from leotwin.policy.schema import PolicyFile
from leotwin.sim.scenario import Scenario
from leotwin.timegrid.grid import TimeGrid, parse_time


@dataclass
class LoadedScenario:
    scenario: Scenario
    policy: LoadedPolicy
    source: str
    raw: object

    @property
    def folder(self) -> Path:
        return Path(self.source).parent

    def path(self, text: str) -> Path:
        """A file named in the scenario, relative to the scenario's folder."""
        p = Path(text)
        return p if p.is_absolute() else self.folder / p

    @cached_property
    def satellite_file(self) -> SatelliteSet | None:
        """The satellites of the scenario's TLE or OMM file (None for built-in or Walker
        constellations), read once: the pre-flight check and the run share them."""
        c = self.scenario.constellation
        if c.tle is None and c.omm is None:
            return None
        return load_tle(self.path(c.tle)) if c.tle else load_omm(self.path(str(c.omm)))

    @cached_property
    def zone_engine(self) -> PolicyEngine:
        """An engine over the scenario's own policy, its zones built (GeoJSON read) once."""
        return PolicyEngine(self.policy)

    def population_count(self, k: int) -> int:
        """How many terminals population ``k`` holds (``national``: its region's cited total,
        ``ground.populations``)."""
        pop = self.scenario.ground.populations[k]
        if pop.count != "national":
            return int(pop.count)
        from leotwin.ground.populations import national_terminals

        region = self.zone_engine.region(pop.national_region or pop.region)
        where = ("ground", "populations", k, "count")
        try:
            total = national_terminals([region.iso_a2, region.code, pop.region],
                                       ".".join(map(str, where)))
        except InputError as exc:
            raise InputError(exc.message, source=self.source, line=line_at(self.raw, where),
                             field=".".join(map(str, where))) from None
        return max(1, round(total * pop.share))

    def with_window(self, start: str | None = None, duration: str | None = None
                    ) -> LoadedScenario:
        """The same scenario over another window (``leotwin run --start/--duration``): the
        values given replace the scenario's ``time.start``/``time.duration``; its step, slots
        and policy are kept.  Errors name the option."""
        if start is None and duration is None:
            return self
        t = self.scenario.time
        window = t.model_copy(update={"start": start or t.start,
                                      "duration": duration or t.duration})
        grid = TimeGrid.from_span(window.start, window.duration, window.step)
        if grid.count < 2:
            raise InputError("the window holds fewer than two instants of the scenario's step "
                             f"({t.step}): expected a longer --duration", source="--duration")
        return LoadedScenario(self.scenario.model_copy(update={"time": window}), self.policy,
                              self.source, self.raw)

    def grid(self) -> TimeGrid:
        t = self.scenario.time
        try:
            return TimeGrid.from_span(t.start, t.duration, t.step)
        except InputError as exc:
            key = {"--start": "start", "--duration": "duration", "--step": "step"}.get(
                exc.source or "", "step")
            raise InputError(exc.message, source=self.source,
                             line=line_at(self.raw, ("time", key)), field=f"time.{key}") from None


def _error(exc: ValidationError, raw, source) -> InputError:
    err = exc.errors()[0]
    loc = tuple(err["loc"])
    msg = err["msg"].removeprefix("Value error, ")
    cause = err.get("ctx", {}).get("error")
    if isinstance(cause, InputError):  # raised by a model's own checks (a Walker shell's)
        msg = cause.message
    if err["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
        msg = f"unknown key '{loc[-1]}': check its spelling and place"
    elif err["type"] == "literal_error":
        msg = f"{msg}, got {err.get('input')!r}"
    return InputError(msg, source=source, line=line_at(raw, loc),
                      field=".".join(str(p) for p in loc))


def _registry(raw: dict) -> object:
    """The scenario's terminals as registry entries: without their ``motion`` (a scenario's
    key; ``Scenario`` has validated it)."""
    terminals = raw.get("terminals")
    if not isinstance(terminals, list):
        return terminals if terminals is not None else []
    return [{k: v for k, v in t.items() if k != "motion"} if isinstance(t, dict) else t
            for t in terminals]


def load_scenario(ref: str | Path) -> LoadedScenario:
    path = resolve_scenario(ref)
    raw = load_yaml(read_text(path), str(path))
    if not isinstance(raw, dict):
        raise InputError("expected a YAML mapping with name, time and constellation",
                         source=path, line=1)
    for key in ("time", "constellation"):
        if key not in raw:
            raise InputError(f"missing section '{key}'", source=path, line=1, field=key)
    try:
        scenario = Scenario.model_validate(raw)
        policy_doc = PolicyFile.model_validate({**raw, "policy": raw.get("policy") or {},
                                                "terminals": _registry(raw)})
    except ValidationError as exc:
        raise _error(exc, raw, str(path)) from None
    policy = LoadedPolicy(policy_doc, str(path), raw)
    check_meaning(policy)
    loaded = LoadedScenario(scenario, policy, str(path), raw)
    _check(loaded)
    return loaded


def _check(loaded: LoadedScenario) -> None:
    s, src, raw = loaded.scenario, loaded.source, loaded.raw
    c = s.constellation
    if c.builtin is not None and c.builtin not in CATALOG:
        raise InputError(f"unknown constellation '{c.builtin}': expected one of "
                         f"{', '.join(CATALOG)}", source=src,
                         line=line_at(raw, ("constellation", "builtin")),
                         field="constellation.builtin")
    for key in ("tle", "omm"):
        value = getattr(c, key)
        if value is not None and not loaded.path(value).is_file():
            raise InputError(f"file '{value}' not found (paths are relative to the scenario)",
                             source=src, line=line_at(raw, ("constellation", key)),
                             field=f"constellation.{key}")
    doc = loaded.policy.doc
    for k, region in enumerate(s.ground.regions):
        if not region_known(doc, region):
            raise InputError(f"unknown region '{region}': expected an ISO code, a country name "
                             "or a zone declared under regions", source=src,
                             line=line_at(raw, ("ground", "regions", k)),
                             field=f"ground.regions.{k}")
    plans = plans_of(doc)
    accounts = {a.id for a in doc.policy.accounts}
    for k, pop in enumerate(s.ground.populations):
        where = ("ground", "populations", k)
        for attr in ("region", "registered_region"):
            name = getattr(pop, attr)
            if name is not None and not region_known(doc, name):
                raise InputError(f"unknown region '{name}'", source=src,
                                 line=line_at(raw, (*where, attr)),
                                 field=f"ground.populations.{k}.{attr}")
        if pop.register_at is not None:
            try:
                parse_time(pop.register_at)
            except InputError as exc:
                raise InputError(exc.message, source=src,
                                 line=line_at(raw, (*where, "register_at")),
                                 field=f"ground.populations.{k}.register_at") from None
        if pop.plan not in plans:
            raise InputError(f"unknown plan '{pop.plan}'", source=src,
                             line=line_at(raw, (*where, "plan")),
                             field=f"ground.populations.{k}.plan")
        if pop.account is not None and pop.account not in accounts:
            raise InputError(f"unknown account '{pop.account}'", source=src,
                             line=line_at(raw, (*where, "account")),
                             field=f"ground.populations.{k}.account")
    _check_motion(loaded)
    _check_capacity(loaded, plans)
    ids = {t.id for t in s.terminals}
    for k, t in enumerate(s.terminals):
        if t.lat is None or t.lon is None:
            raise InputError(f"terminal {t.id} needs lat and lon to take part in a run",
                             source=src, line=line_at(raw, ("terminals", k)),
                             field=f"terminals.{k}")
    for k, tid in enumerate(s.network.rtt_terminals):
        if tid not in ids:
            raise InputError(f"rtt terminal '{tid}' is not among the scenario's terminals",
                             source=src, line=line_at(raw, ("network", "rtt_terminals", k)),
                             field=f"network.rtt_terminals.{k}")
    grid = loaded.grid()
    if grid.count < 2:
        raise InputError("the time step is as long as the window or longer: expected at least "
                         "two instants", source=src, line=line_at(raw, ("time", "step")),
                         field="time.step")


def _check_motion(loaded: LoadedScenario) -> None:
    """Regions named by ``motion.stay_in`` exist; the tracks file reads (its terminals are
    matched when the run assembles them, ``sim.movers``)."""
    s, src, raw, doc = loaded.scenario, loaded.source, loaded.raw, loaded.policy.doc
    named: list[tuple[tuple, object]] = [(("terminals", k, "motion"), t.motion)
                                         for k, t in enumerate(s.terminals)]
    named += [(("ground", "populations", k, "motion"), p.motion)
              for k, p in enumerate(s.ground.populations)]
    for where, motion in named:
        stay = getattr(motion, "stay_in", None)
        if stay is not None and not region_known(doc, stay):
            raise InputError(f"unknown region '{stay}'", source=src,
                             line=line_at(raw, (*where, "stay_in")),
                             field=".".join(map(str, (*where, "stay_in"))))
    if s.ground.tracks is not None:
        from leotwin.ground.sites import load_tracks_csv

        if not loaded.path(s.ground.tracks).is_file():
            raise InputError(f"file '{s.ground.tracks}' not found (paths are relative to the "
                             "scenario)", source=src, line=line_at(raw, ("ground", "tracks")),
                             field="ground.tracks")
        load_tracks_csv(loaded.path(s.ground.tracks))


def _check_capacity(loaded: LoadedScenario, plans) -> None:
    """The capacity section names known satellite profiles and plans."""
    from leotwin.traffic.supply import PROFILES

    cap, src, raw = loaded.scenario.capacity, loaded.source, loaded.raw
    if cap is None:
        return
    named: list[tuple[tuple[str, ...], str]] = [(("capacity", "profile"), cap.profile)]
    named += [(("capacity", "profiles_by_shell", k), v) for k, v in cap.profiles_by_shell.items()]
    for where, name in named:
        if name not in PROFILES:
            raise InputError(f"unknown satellite profile '{name}': expected one of "
                             f"{', '.join(PROFILES)}", source=src, line=line_at(raw, where),
                             field=".".join(map(str, where)))
    for name in cap.plans:
        if name not in plans:
            raise InputError(f"unknown plan '{name}'", source=src,
                             line=line_at(raw, ("capacity", "plans", name)),
                             field=f"capacity.plans.{name}")
