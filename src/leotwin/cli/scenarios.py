"""``leotwin run`` and ``leotwin scenarios list|show|new``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from leotwin.data import builtin_scenarios
from leotwin.errors import InputError
from leotwin.extras import require
from leotwin.io.atomic import check_writable
from leotwin.sim.load import load_scenario

app = typer.Typer()
scenarios_app = typer.Typer(help="Built-in scenarios: list, show (YAML), new (a template).",
                            no_args_is_help=True)
DEFAULT_SCENARIO = "ukraine-2026"


class _Bar:
    """A rich progress bar on standard error (only on a terminal)."""

    def __init__(self):
        self.progress = None

    def start(self, chunks: int, satellites: int, instants: int, estimate=None,
              terminals: int = 0) -> None:
        if not sys.stderr.isatty():
            return
        from leotwin.io.budget import human_bytes

        size = (f"; estimated {human_bytes(estimate.out_bytes)} out, "
                f"{human_bytes(estimate.memory_bytes)} memory") if estimate else ""
        self.terminals = max(terminals, 1)
        self.progress = Progress(TextColumn("[bold]run"), BarColumn(bar_width=20),
                                 TextColumn("{task.completed:,.0f}/{task.total:,.0f} "
                                            "{task.fields[unit]}"),
                                 _Rate(self.terminals), TextColumn("ETA"),
                                 TimeRemainingColumn(),
                                 TextColumn(f"{satellites:,} satellites × {terminals:,} "
                                            f"terminals{size}"),
                                 console=Console(stderr=True))
        self.progress.start()
        self.task = self.progress.add_task("run", total=instants, unit="instants")

    def advance(self, instants: int = 1) -> None:
        if self.progress:
            self.progress.advance(self.task, instants)

    def decide(self, shards: int) -> None:
        """The second pass begins: decisions in ``shards`` shards of terminals."""
        if self.progress:
            self.shards = self.progress.add_task("decide", total=shards, unit="shards of terminals")

    def decided(self) -> None:
        if self.progress:
            self.progress.advance(self.shards, 1)

    def stop(self) -> None:
        if self.progress:
            self.progress.stop()


class _Rate(ProgressColumn):
    """Terminal-instants per second (instants per second × terminals)."""

    def __init__(self, terminals: int):
        super().__init__()
        self.terminals = terminals

    def render(self, task) -> Text:
        if task.fields.get("unit") != "instants":
            return Text("")
        speed = task.finished_speed or task.speed
        if not speed:
            return Text("… terminal-instants/s")
        return Text(f"{speed * self.terminals:,.0f} terminal-instants/s")


@app.command()
def run(
    scenario: Annotated[str, typer.Argument(help="Scenario file or built-in name.")
                        ] = DEFAULT_SCENARIO,
    out: Annotated[Path | None, typer.Option(help="Results directory (default: "
                                                  "results/<scenario>).")] = None,
    backend: Annotated[str, typer.Option(help="serial, process or dask.")] = "serial",
    workers: Annotated[int, typer.Option(help="Workers for process/dask.", min=1, max=64)] = 2,
    dask_scheduler: Annotated[str | None, typer.Option(
        help="Address of an existing Dask scheduler (default: a LocalCluster).")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing results directory.")
                         ] = False,
    report: Annotated[bool | None, typer.Option(
        "--report/--no-report", help="Write report.html (default: the scenario's "
                                     "outputs.report; needs leotwin[report]).")] = None,
    ignore_free_space: Annotated[bool, typer.Option(
        help="Start even when the estimated output exceeds the free disk space (never when "
             "it exceeds the memory available).")] = False,
    start: Annotated[str | None, typer.Option(
        help="Run from this instant instead of the scenario's time.start (ISO 8601 UTC).")
                     ] = None,
    duration: Annotated[str | None, typer.Option(
        help="Run for this span instead of the scenario's time.duration (e.g. 1h: a quick "
             "look at a big scenario).")] = None,
) -> None:
    """Run a scenario end to end and write one results directory atomically:
    summary.json, coverage/rtt/decisions/cells/terminals/policy_log (+positions,
    decision_instants) .parquet, report.html.
    """
    loaded = load_scenario(scenario).with_window(start, duration)
    for warning in loaded.policy.warnings:
        Console(stderr=True, highlight=False, soft_wrap=True).print(f"warning: {warning}")
    target = out or Path("results") / loaded.scenario.name
    if out is None:
        target.parent.mkdir(exist_ok=True)
    if target.exists() and not overwrite:
        raise InputError(f"'{target}' exists: choose another --out or pass --overwrite",
                         source="--out")
    check_writable(target.parent / (target.name + ".check"))
    import signal

    from leotwin.sim.runner import run_scenario

    def _terminate(signum, frame):  # SIGTERM behaves like Ctrl-C: clean up, leave nothing
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    bar = _Bar()
    try:
        summary = run_scenario(loaded, target, backend=backend, workers=workers,
                               scheduler=dask_scheduler, overwrite=overwrite, progress=bar,
                               report=report, ignore_free_space=ignore_free_space)
    finally:
        bar.stop()
    e = summary["enforcement"]
    Console(stderr=True, highlight=False, soft_wrap=True).print(
        f"{summary['scenario']}: {summary['terminals']:,} terminals × {summary['instants']:,} "
        f"instants on {summary['satellites']:,} satellites ({summary['backend']}) in "
        f"{summary['seconds']:.1f} s, peak RSS {summary['peak_rss_mib']:.0f} MiB; unauthorized "
        f"blocked {_pct(e['unauthorized_blocked'])}, collateral civilian "
        f"{_pct(e['collateral_civilian'])}, authorized {_pct(e['collateral_authorized'])}\n"
        f"results: {target}/" + (f" — open {target}/report.html"
                                 if (target / "report.html").exists() else ""))


def _pct(x) -> str:
    return "—" if x is None else f"{100 * x:.1f} %"


@scenarios_app.command("list")
def scenarios_list() -> None:
    """The built-in scenarios with their descriptions."""
    table = Table(title="built-in scenarios (leotwin scenarios show NAME)")
    table.add_column("name")
    table.add_column("description")
    for name, path in sorted(builtin_scenarios().items()):
        loaded = load_scenario(path)
        table.add_row(name + (" (default)" if name == DEFAULT_SCENARIO else ""),
                      loaded.scenario.description)
    Console(width=max(120, Console().width)).print(table)


@scenarios_app.command("show")
def scenarios_show(name: Annotated[str, typer.Argument(help="Built-in scenario name.")]) -> None:
    """Print a built-in scenario's YAML (usable as a file: leotwin scenarios show X > x.yaml)."""
    paths = builtin_scenarios()
    if name not in paths:
        raise InputError(f"unknown scenario '{name}': expected one of {', '.join(sorted(paths))}",
                         source="NAME")
    sys.stdout.write(paths[name].read_text())


TEMPLATE = '''\
# A leotwin scenario. Validate: leotwin policy check FILE   Run: leotwin run FILE
name: {name}
description: what this scenario asks, in one sentence
sources: [FACTS.md section 4]       # where its assumptions come from
seed: 1                             # synthetic populations are drawn from it

time: {{start: 2026-02-09T18:00:00Z, duration: 6h, step: 60s}}
constellation: {{builtin: starlink-gen1}}   # or {{tle: file.tle}} / {{omm: file.json}}

ground:
  regions: [UA]                     # coverage on H3 cells of these regions (ISO codes or zones)
  h3_res: 5
  min_elevation_deg: 25
  populations:                      # synthetic terminals, seeded
    - {{region: UA, count: 200, prefix: CIV, plan: residential, actual_user: civilian}}
  gateways: bundled                 # or a CSV: id,lat_deg,lon_deg[,alt_m]
  pops: bundled

network:
  isl: plus-grid                    # plus-grid, none, nearest-k
  rtt_terminals: [KYIV-1]           # routed to their PoP every instant
  rule: highest-elevation           # or least-latency (scheduler, every 15 s at :12/:27/:42/:57)

regions:                            # custom zones (polygon [lon, lat] ring, geojson file or cells)
  zone_a: {{polygon: [[36, 47], [39, 47], [39, 49], [36, 49], [36, 47]]}}

terminals:
  - {{id: KYIV-1, plan: roam, lat: 50.45, lon: 30.52, actual_user: authorized,
     whitelisted: [UA]}}

policy:
  log:
    - id: example-cap
      requested_at: 2026-02-01
      requested_by: a ministry
      decided_by: the operator
      decision: granted
      reason: why it was asked
      change: {{speed_cap: {{region: UA, max_kmh: 75}}}}
  detection:
    - {{rule: denied_for, reasons: [REGION_INACTIVE], minutes: 30, delay_minutes: 60}}

outputs: {{positions: false, report: true}}
'''


@scenarios_app.command("new")
def scenarios_new(
    name: Annotated[str, typer.Argument(help="Scenario name; writes NAME.yaml.")],
    out: Annotated[Path | None, typer.Option(help="File to write (default NAME.yaml).")] = None,
) -> None:
    """Write a commented scenario template."""
    target = out or Path(f"{name}.yaml")
    if target.exists():
        raise InputError(f"'{target}' exists: choose another name or --out", source="--out")
    from leotwin.io.atomic import atomic_output

    with atomic_output(target) as tmp:
        tmp.write_text(TEMPLATE.format(name=name))
    load_scenario(target)  # the template is valid
    Console(stderr=True).print(f"wrote {target}; run it with: leotwin run {target}")


@app.command()
def diff(
    run_a: Annotated[Path, typer.Argument(help="Results directory A.")],
    run_b: Annotated[Path, typer.Argument(help="Results directory B.")],
    out: Annotated[Path | None, typer.Option(help="HTML report (default: diff.html in B).")
                   ] = None,
) -> None:
    """What changed between two runs: cells (coverage, policy status), terminals (decisions),
    routed terminals (RTT); a table and a map."""
    require("report", "leotwin diff")
    from leotwin.analysis.diff import diff_html, diff_runs
    from leotwin.export.check import check_run
    from leotwin.io.atomic import atomic_output

    check_run(run_a)
    check_run(run_b)
    d = diff_runs(run_a, run_b)
    target = out or Path(run_b) / "diff.html"
    with atomic_output(target) as tmp:
        tmp.write_text(diff_html(d), encoding="utf-8")
    counts = ", ".join(f"{v} {k}" for k, v in d["counts"].items() if v)
    routed = "; ".join(f"{r['terminal_id']} {_ms(r['median_rtt_ms_a'])} → "
                       f"{_ms(r['median_rtt_ms_b'])}" for r in d["routed"])
    Console(highlight=False, soft_wrap=True).print(
        f"{d['scenario_a']} → {d['scenario_b']}: cells: {counts or 'no change'}; "
        f"{len(d['terminals'])} terminals changed service; median RTT of routed terminals "
        f"(allowed instants): {routed or '—'}\nreport: {target}")


def _ms(x) -> str:
    return "—" if x is None else f"{x:.1f} ms"


@app.command()
def export(
    run: Annotated[Path, typer.Argument(help="Results directory.")],
    format: Annotated[str, typer.Option("--format", help="geojson, czml, kml, oem or csv.")],
    table: Annotated[str | None, typer.Option(help="Table for csv: coverage, rtt, decisions, "
                                                   "decision_instants, cells, terminals, "
                                                   "policy_log, positions.")] = None,
    out: Annotated[Path | None, typer.Option(help="Output file (default: in RUN).")] = None,
) -> None:
    """Export a run: GeoJSON of cells and terminals, CZML/OEM satellite ephemerides, KML, CSV."""
    from leotwin.export.runs import export_run

    if format == "czml":
        require("export", "--format czml")
    target = export_run(run, format, out, table)
    Console(stderr=True, highlight=False).print(f"wrote {target}")
