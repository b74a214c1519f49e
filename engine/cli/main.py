"""The ``planwatch`` command: the entry point, and errors mapped to messages and exit codes.

Errors a user can fix print one line and exit 2; operational failures exit 1; anything
else is a bug (exit 3, traceback in the log). The commands live in engine.cli.commands,
one module per group; importing a module registers its commands on ``app``.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

import typer

from engine.cli.common import app
from engine.errors import PlanwatchError

# The command groups, one module each, in the order ``planwatch --help`` lists them. Each module
# imports only engine.cli.common (and the library, inside its commands); importing it registers
# its commands on ``app``. To add a group, add its line here.
# isort: off
from engine.cli.commands import project  # noqa: F401
from engine.cli.commands import plan  # noqa: F401
from engine.cli.commands import workflow  # noqa: F401
from engine.cli.commands import followup  # noqa: F401
from engine.cli.commands import engine  # noqa: F401
from engine.cli.commands import reports  # noqa: F401
from engine.cli.commands import mail  # noqa: F401
from engine.cli.commands import feeds  # noqa: F401
from engine.cli.commands import web  # noqa: F401
from engine.cli.commands import rules  # noqa: F401
from engine.cli.commands import campaigns  # noqa: F401
# isort: on

__all__ = ["app", "main", "run"]


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI and map errors to messages and exit codes."""
    sys.exit(run(argv))


def run(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (2 bad input, 1 operational, 3 bug, 130 interrupted)."""
    try:
        chosen = _app_for(sys.argv[1:] if argv is None else argv)
        result = chosen(args=argv, prog_name="planwatch", standalone_mode=False)
    except typer.Exit as exc:
        return exc.exit_code
    except typer.TyperException as exc:  # usage errors from the command-line parser
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        else:
            sys.stderr.write(f"planwatch: {exc.format_message()}\n")
        return exc.exit_code
    except (KeyboardInterrupt, typer.Abort):
        sys.stderr.write("Interrupted.\n")
        return 130
    except PlanwatchError as exc:
        sys.stderr.write(_one_line(exc) + "\n")
        if exc.exit_code != 2:
            _log_traceback(argv)
        return exc.exit_code
    except Exception as exc:
        path = _log_traceback(argv)
        if "--debug" in (argv or sys.argv) or os.environ.get("PLANWATCH_DEBUG"):
            traceback.print_exc()
        sys.stderr.write(f"planwatch: unexpected error (a bug): {type(exc).__name__}: {exc}; details in {path}\n")
        return 3
    return result if isinstance(result, int) else 0


# The root options that take a value (engine.cli.common._root): the word after one is not a command.
ROOT_VALUE_OPTIONS = ("--db", "--rules")
ROOT_FLAGS = ("--debug",)


def _app_for(argv: list[str]) -> typer.Typer:
    """Return the app with only the command (or group) that ``argv`` names, or the whole app.

    Typer builds the command line of every registered command on each run, reading all their
    annotations; a run that names its command needs that one only. Anything else (no command,
    --help, an unknown word, an option it does not know here) gets the whole app, so help and
    usage errors are as they were.
    """
    words = iter(argv)
    for word in words:
        if word in ROOT_VALUE_OPTIONS:
            next(words, None)
        elif word.startswith(tuple(f"{option}=" for option in ROOT_VALUE_OPTIONS)) or word in ROOT_FLAGS:
            continue
        elif word.startswith("-"):
            return app
        else:
            return _only(word)
    return app


def _only(name: str) -> typer.Typer:
    import copy

    from typer.main import get_command_name

    commands = [c for c in app.registered_commands if (c.name or get_command_name(_callback_name(c))) == name]
    groups = [g for g in app.registered_groups if g.name == name]
    if len(commands) + len(groups) != 1:
        return app
    chosen = copy.copy(app)  # a shallow copy: the shared app keeps all its commands for the next run
    chosen.registered_commands, chosen.registered_groups = commands, groups
    return chosen


def _callback_name(command: typer.models.CommandInfo) -> str:
    return getattr(command.callback, "__name__", "")


def _one_line(exc: PlanwatchError) -> str:
    from engine.errors import ValidationErrors

    text = str(exc)
    return text if exc.location is not None or isinstance(exc, ValidationErrors) else f"planwatch: {text}"


def _log_traceback(argv: list[str] | None) -> Path:
    """Append the traceback to the log, after a line with the time (UTC) and the command line."""
    import re
    import shlex

    from engine.clock import SystemClock
    from engine.languages import cache_folder

    when = SystemClock().now().isoformat(timespec="seconds").replace("+00:00", "Z")
    words = ["planwatch", *(sys.argv[1:] if argv is None else argv)]
    # A database or SMTP URL may carry a password: the log keeps the user and host only.
    command = shlex.join(re.sub(r"(://[^/:@\s]*):[^/@\s]*@", r"\1:***@", word) for word in words)
    base = cache_folder()
    path = base / "planwatch.log"
    try:
        base.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as log:
            log.write(f"--- {when} {command}\n{traceback.format_exc()}\n")
    except OSError:
        pass
    return path
