"""The ``planwatch`` command: thin Typer commands over the library.

Errors a user can fix print one line and exit 2; operational failures exit 1; anything
else is a bug (exit 3, traceback in the log). Heavy modules are imported inside commands
so ``planwatch --help`` stays fast.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from engine.errors import PlanwatchError, UsageError

if TYPE_CHECKING:
    from rich.console import Console
    from sqlalchemy.engine import Engine
    from sqlmodel import Session

    from engine.settings import Settings

app = typer.Typer(
    name="planwatch",
    help="Turn an implementation plan into reminders, calendar feeds and escalations.\n\n"
    "Start with:  planwatch import plans/gb276-tc2-implementation-plan.txt  then  planwatch actions",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
db_app = typer.Typer(help="Database schema: create and upgrade it.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@app.callback()
def _root(
    ctx: typer.Context,
    db: Annotated[
        Optional[str],
        typer.Option("--db", help="Database URL (default: $PLANWATCH_DATABASE_URL or sqlite:///planwatch.db)."),
    ] = None,  # noqa: UP045
    rules: Annotated[Optional[Path], typer.Option("--rules", help="Rules folder (default: rules/).")] = None,  # noqa: UP045
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    from engine.settings import Settings

    ctx.obj = Settings.from_environ(os.environ, database_url=db, rules_dir=rules, debug=debug or None)


def _settings(ctx: typer.Context) -> Settings:
    return ctx.find_root().obj  # type: ignore[no-any-return]


def _console() -> Console:
    from rich.console import Console

    if sys.stdout.isatty():
        return Console(highlight=False)
    # Piped or captured: no wrapping of lines, tables as wide as they need.
    return Console(highlight=False, soft_wrap=True, width=int(os.environ.get("COLUMNS", "160")))


def _now() -> Any:
    from engine.clock import SystemClock

    return SystemClock().now()


def _engine(ctx: typer.Context, *, ensure: bool = True) -> Engine:
    from engine.store import ensure_schema, make_engine

    engine = make_engine(_settings(ctx).database_url)
    ctx.call_on_close(engine.dispose)
    if ensure:
        ensure_schema(engine)
    return engine


@contextmanager
def _session(ctx: typer.Context) -> Iterator[Session]:
    from engine.store import transaction

    with transaction(_engine(ctx)) as session:
        yield session


def _emit_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")


@app.command("import")
def import_(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Plan files (text or YAML) and owners files (YAML or CSV).")],
    tz: Annotated[
        Optional[str], typer.Option("--tz", help="The plan's IANA time zone, when its place does not tell.")
    ] = None,  # noqa: UP045
    plan_id: Annotated[
        Optional[str], typer.Option("--plan-id", help="Id for a new plan (default: from its symbol).")
    ] = None,  # noqa: UP045
) -> None:
    """Import a plan and/or an owners directory, in one transaction.

    Example: [bold]planwatch import plans/owners.yaml plans/gb276-tc2-implementation-plan.txt[/]

    Importing a revised plan again keeps action ids, owners and statuses, and says what changed.
    """
    from engine.cli.present import import_summary
    from engine.importing import OwnersReport, import_paths

    reports = import_paths(_engine(ctx, ensure=False), paths, _settings(ctx), _now(), timezone=tz, plan_id=plan_id)
    console = _console()
    for report in reports:
        if isinstance(report, OwnersReport):
            console.print(
                f"[bold]{report.path}[/]: {len(report.added)} owner(s) added, {len(report.updated)} updated, {report.reassigned} action(s) given an owner by rule."
            )
        else:
            import_summary(console, report)
    console.print(
        "Next: [bold]planwatch actions[/] to see them, [bold]planwatch review[/] for time frames that need a decision."
    )


@app.command()
def export(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="Where to write the YAML plan file ('-' for standard output).")],
    plan: Annotated[Optional[str], typer.Option("--plan", help="Plan id, when there are several.")] = None,  # noqa: UP045
) -> None:
    """Write a plan as the YAML plan file people edit (owners, titles, schedule overrides).

    Example: [bold]planwatch export plan.yaml[/], edit it, then [bold]planwatch import plan.yaml[/]
    """
    from engine.read.export import export_plan

    with _session(ctx) as session:
        text, plan_id = export_plan(session, plan)
    if str(path) == "-":
        sys.stdout.write(text)
        return
    from engine.files import write_atomic

    write_atomic(path, text)
    _console().print(f"Wrote {plan_id} to {path}. Edit it, then run [bold]planwatch import {path}[/].")


@app.command()
def actions(
    ctx: typer.Context,
    owner: Annotated[Optional[str], typer.Option("--owner", help="Only this owner's actions.")] = None,  # noqa: UP045
    status: Annotated[
        Optional[str], typer.Option("--status", help="open, in_progress, done, dropped or on_hold.")
    ] = None,  # noqa: UP045
    plan: Annotated[Optional[str], typer.Option("--plan", help="Only this plan.")] = None,  # noqa: UP045
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List actions with owner, time frame as printed, how it was read, and status.

    Example: [bold]planwatch actions --owner pardev --status open[/]
    """
    from engine.cli.present import actions_table
    from engine.read.queries import ActionFilter, list_actions

    with _session(ctx) as session:
        rows = list_actions(session, ActionFilter(plan=plan, owner=owner, status=status))
    _print_actions(rows, as_json, actions_table)


def _print_actions(rows: list[Any], as_json: bool, table: Any) -> None:
    from engine.read.queries import action_record

    if as_json:
        for row in rows:
            _emit_json(action_record(row))
        return
    console = _console()
    console.print(table(rows))
    if not rows:
        console.print("No actions. Import a plan first: [bold]planwatch import PLAN[/]")


@app.command()
def show(
    ctx: typer.Context, action_id: Annotated[str, typer.Argument(metavar="ID", help="Action id, e.g. I.1a.2.")]
) -> None:
    """Show everything about one action: text, time frame and reading, owner, history.

    Example: [bold]planwatch show II.2.6[/]
    """
    from engine.cli.present import action_sheet
    from engine.read.queries import action_record, find_action, history, owners_with_chains

    with _session(ctx) as session:
        action = find_action(session, action_id)
        chains = {o.id: (o, chain) for o, chain in owners_with_chains(session)}
        owner, chain = chains.get(action.owner_id or "", (None, []))
        action_sheet(_console(), action, owner, chain, history(session, action), action_record(action))


def _complete(ctx: typer.Context, action_id: str, note: str, by: str, occurrence: str | None) -> None:
    from engine.actions.workflow import complete
    from engine.read.queries import find_action

    with _session(ctx) as session:
        action = find_action(session, action_id)
        what, changed = complete(
            session,
            action,
            _now(),
            who=by,
            via="cli",
            note=note,
            occurrence=_parse_date(occurrence, "--occurrence") if occurrence else None,
        )
    word = "is now" if changed else "was already"
    subject = action.ref if what == "the action" else f"{action.ref}, {what},"
    _console().print(f"{subject} {word} [bold]done[/].")


def _change_status(ctx: typer.Context, action_id: str, status: str, note: str, by: str) -> None:
    from engine.actions.workflow import set_status
    from engine.read.queries import find_action

    with _session(ctx) as session:
        action = find_action(session, action_id)
        changed = set_status(session, action, status, _now(), who=by, via="cli", note=note)
    word = "is now" if changed else "was already"
    _console().print(f"{action.ref} {word} [bold]{status}[/].")


Note = Annotated[str, typer.Option("--note", help="Why, in a sentence.")]
By = Annotated[str, typer.Option("--by", help="Who made the change (default: $USER).")]


@app.command()
def done(
    ctx: typer.Context,
    action_id: Annotated[str, typer.Argument(metavar="ID")],
    note: Note = "",
    by: By = os.environ.get("USER", "cli"),
    occurrence: Annotated[
        Optional[str], typer.Option("--occurrence", help="For a recurring action: which occurrence (YYYY-MM-DD).")
    ] = None,  # noqa: UP045
) -> None:
    """Mark an action (or one occurrence of a recurring action) done.

    Example: [bold]planwatch done I.1a.1 --note "circulated 12 April"[/]
    """
    _complete(ctx, action_id, note, by, occurrence)


@app.command()
def drop(
    ctx: typer.Context,
    action_id: Annotated[str, typer.Argument(metavar="ID")],
    note: Note = "",
    by: By = os.environ.get("USER", "cli"),
) -> None:
    """Drop an action that will not be done: reminders stop, escalations close. Example: [bold]planwatch drop III.d.3 --note "superseded"[/]"""
    _change_status(ctx, action_id, "dropped", note, by)


@app.command()
def reopen(
    ctx: typer.Context,
    action_id: Annotated[str, typer.Argument(metavar="ID")],
    note: Note = "",
    by: By = os.environ.get("USER", "cli"),
) -> None:
    """Open a done or dropped action again. Example: [bold]planwatch reopen I.1a.1[/]"""
    _change_status(ctx, action_id, "open", note, by)


@app.command()
def owners(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False
) -> None:
    """List owners with their supervisor chains. Example: [bold]planwatch owners --json[/]"""
    from engine.cli.present import owners_table
    from engine.read.queries import owners_with_chains

    with _session(ctx) as session:
        rows = owners_with_chains(session)
    if as_json:
        for o, chain in rows:
            _emit_json(
                {
                    "id": o.id,
                    "name": o.name,
                    "email": o.email,
                    "timezone": o.timezone,
                    "supervisor": o.supervisor_id,
                    "chain": chain,
                }
            )
        return
    _console().print(owners_table(rows))
    if not rows:
        _console().print("No owners yet. Import a directory: [bold]planwatch import plans/owners.yaml[/]")


def _parse_date(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option}: expected a date YYYY-MM-DD, got {value!r}") from None


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Create the schema or bring it to the newest revision. Example: [bold]planwatch db upgrade[/]"""
    from engine.store import upgrade

    before, after = upgrade(_engine(ctx, ensure=False))
    _console().print(
        f"Database at revision {after}" + (" (was already)." if before == after else f" (was {before or 'empty'}).")
    )


@db_app.command("backup")
def db_backup(ctx: typer.Context, path: Annotated[Path, typer.Argument(help="The new backup file.")]) -> None:
    """Copy the embedded database safely, even while the service runs. Example: [bold]planwatch db backup backups/2000-04-30.db[/]"""
    from engine.store.backup import backup_sqlite

    size = backup_sqlite(_engine(ctx, ensure=False), path)
    _console().print(f"Backed up to {path} ({size:,} bytes). Restore by pointing --db at it.")


@app.command()
def status(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False
) -> None:
    """Say whether the engine keeps up: last tick, lag, outbox pending and failed, nodes seen.

    Example: [bold]planwatch status --json[/]
    """
    from engine.read.status import engine_status

    report = engine_status(_engine(ctx), _now())
    if as_json:
        _emit_json(report.as_json())
        return
    last = report.last_tick.isoformat() if report.last_tick else "never (is `planwatch run` running?)"
    _console().print(
        f"Last tick: {last}\nOutbox: {report.pending} pending, {report.failed} failed"
        + (
            f", oldest due {report.oldest_pending.isoformat()} (lag {report.lag_seconds:.0f} s)"
            if report.oldest_pending
            else ""
        )
        + f"\nNodes seen in the last 10 minutes: {', '.join(n for n, _ in report.nodes) or 'none'}"
    )


@app.command()
def demo(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="Folder for the demo database and output.")] = Path("out"),
    plans_dir: Annotated[Path, typer.Option("--plans", help="Folder with the example plan and owners.")] = Path(
        "plans"
    ),
) -> None:
    """Play the example plan's life (1999-2001) in a fresh embedded database; messages go to out/maildir.

    Example: [bold]planwatch demo[/] (what [bold]make demo[/] runs)
    """
    from engine.demo import run_demo

    run_demo(_console(), out, plans_dir, _settings(ctx), _now())


# The engine's commands live in their own module; importing it registers them on ``app``.
import engine.cli.commands.engine  # noqa: E402
import engine.cli.commands.feeds  # noqa: E402
import engine.cli.commands.mail  # noqa: E402
import engine.cli.commands.plan  # noqa: E402
import engine.cli.commands.web  # noqa: E402, F401
from engine.cli.commands.rules import rules_app  # noqa: E402 (the sub-app imports only typer at the top)

app.add_typer(rules_app, name="rules")


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI and map errors to messages and exit codes."""
    sys.exit(run(argv))


def run(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (2 bad input, 1 operational, 3 bug, 130 interrupted)."""
    try:
        result = app(args=argv, prog_name="planwatch", standalone_mode=False)
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
            _log_traceback()
        return exc.exit_code
    except Exception as exc:
        path = _log_traceback()
        if "--debug" in (argv or sys.argv) or os.environ.get("PLANWATCH_DEBUG"):
            traceback.print_exc()
        sys.stderr.write(f"planwatch: unexpected error (a bug): {type(exc).__name__}: {exc}; details in {path}\n")
        return 3
    return result if isinstance(result, int) else 0


def _one_line(exc: PlanwatchError) -> str:
    from engine.errors import ValidationErrors

    text = str(exc)
    return text if exc.location is not None or isinstance(exc, ValidationErrors) else f"planwatch: {text}"


def _log_traceback() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "planwatch"
    path = base / "planwatch.log"
    try:
        base.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as log:
            log.write(traceback.format_exc() + "\n")
    except OSError:
        pass
    return path
