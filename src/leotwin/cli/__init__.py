"""The ``leotwin`` command.

Exit codes: 0 success, 2 bad input (one line on standard error naming the file, line or field
and what was expected; no traceback, no output file), 1 internal error.
"""

from __future__ import annotations

import os
import sys

import typer

from leotwin.cli.controlplane import app as _controlplane_app
from leotwin.cli.controlplane import audit_app as _audit_group
from leotwin.cli.controlplane import tokens_app as _tokens_group
from leotwin.cli.ground import app as _ground_app
from leotwin.cli.ground import regions_app as _regions_app
from leotwin.cli.network import app as _network_app
from leotwin.cli.orbits import app as _orbits_app
from leotwin.cli.policy import app as _policy_app
from leotwin.cli.policy import policy_app as _policy_group
from leotwin.cli.scenarios import app as _scenario_app
from leotwin.cli.scenarios import scenarios_app as _scenarios_group
from leotwin.cli.traffic import app as _traffic_app
from leotwin.errors import InputError
from leotwin.io.atomic import write_problem
from leotwin.io.text import control_character

app = typer.Typer(
    name="leotwin",
    help="leotwin: a digital twin of a Starlink-style satellite-internet service.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
for sub in (_orbits_app, _ground_app, _network_app, _traffic_app, _policy_app, _scenario_app,
            _controlplane_app):
    for command in sub.registered_commands:
        app.registered_commands.append(command)
app.add_typer(_regions_app, name="regions")
app.add_typer(_policy_group, name="policy")
app.add_typer(_scenarios_group, name="scenarios")
app.add_typer(_tokens_group, name="tokens")
app.add_typer(_audit_group, name="audit")


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the command and map errors to exit codes (never a traceback for input)."""
    command = typer.main.get_command(app)
    try:
        _check_arguments(sys.argv[1:] if argv is None else argv)
        result = command.main(args=argv, prog_name="leotwin", standalone_mode=False)
    except InputError as exc:
        print(f"leotwin: error: {exc}", file=sys.stderr)
        return 2
    except (typer.Abort, KeyboardInterrupt):
        print("leotwin: interrupted; no output was written", file=sys.stderr)
        return 130
    except typer.Exit as exc:
        if exc.exit_code == 130:  # typer turns KeyboardInterrupt into Exit(130)
            print("leotwin: interrupted; no output was written", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:
        return 0
    except Exception as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # bare `leotwin` or `leotwin CMD`
            ctx = getattr(exc, "ctx", None)
            print(ctx.get_help() if ctx else "", file=sys.stdout)
            return 0
        if getattr(exc, "exit_code", None) == 2 and hasattr(exc, "format_message"):
            # a usage error from the option parser (typer's vendored click UsageError)
            ctx = getattr(exc, "ctx", None)
            hint = f" (see '{ctx.command_path} --help')" if ctx else ""
            message = " ".join(exc.format_message().split())
            print(f"leotwin: error: {message}{hint}", file=sys.stderr)
            return 2
        if type(exc).__name__ == "OperationalError" and "locked" in str(exc):
            # SQLite waited its busy timeout for another process's write to end
            print("leotwin: error: --db: the database is locked by another process (a "
                  "running 'leotwin serve' writing, or another command): try again when it is "
                  "done", file=sys.stderr)
            return 2
        cause = write_problem(exc)
        if cause is not None:  # disk full, read-only media, permission: the user can fix it
            where = getattr(exc, "filename", None)
            print(f"leotwin: error: {where + ': ' if where else ''}{cause}", file=sys.stderr)
            return 2
        if os.environ.get("LEOTWIN_DEBUG"):
            raise
        print(f"leotwin: internal error: {type(exc).__name__}: {exc} "
              "(set LEOTWIN_DEBUG=1 for a traceback, and please report it)", file=sys.stderr)
        return 1
    if result == 130:  # click returns typer's Exit(130) for Ctrl-C instead of raising it
        print("leotwin: interrupted; no output was written", file=sys.stderr)
    return result if isinstance(result, int) else 0


def _check_arguments(args: list[str]) -> None:
    """No control character in any argument (a NUL would be cut off by the C code below us)."""
    for k, arg in enumerate(args):
        what = control_character(str(arg))
        if what:
            name, _, value = str(arg).partition("=")
            option = name if name.startswith("--") and value else (
                str(args[k - 1]) if k and str(args[k - 1]).startswith("--") else
                f"argument {k + 1}")
            raise InputError(f"{what} in the value: expected printable characters only",
                             source=option)


def run() -> None:  # pragma: no cover - console-script shim
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    run()
