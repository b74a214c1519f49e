"""CLI commands that run the engine: tick, run, simulate, status, demo, and ``db upgrade|backup``.

Each command is a few lines over the library; heavy imports stay inside the functions.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from engine.cli.common import (
    app,
    current_time,
    emit_json,
    load_ruleset,
    make_console,
    make_renderer,
    open_engine,
    parse_day,
    parse_instant,
    settings_of,
)
from engine.errors import UsageError

if TYPE_CHECKING:
    from rich.console import Console
    from sqlalchemy.engine import Engine

db_app = typer.Typer(help="Database schema: create and upgrade it.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@app.command()
def tick(
    ctx: typer.Context,
    now: Annotated[str | None, typer.Option("--now", help="Run as if it were this time (ISO, with zone).")] = None,
) -> None:
    """Run one tick: plan what is due, bundle digests, deliver the outbox (to the Maildir).

    Example: [bold]planwatch tick --now 2000-04-28T09:00Z[/]
    """
    from engine.channels import channel_for
    from engine.drive.tick import run_tick
    from engine.store.state import set_state

    at = parse_instant(now, "--now") if now else current_time()
    rules = load_ruleset(ctx)  # a rules folder that cannot be read stops the tick before the database is touched
    engine = open_engine(ctx)
    report = run_tick(engine, rules, channel_for(settings_of(ctx)), make_renderer(ctx), at)
    set_state(engine, "last_tick", at.isoformat(), current_time())  # `planwatch status` tells when a tick last ran
    p, d = report.planned, report.dispatched
    console = make_console()
    console.print(
        f"{at.isoformat()}: planned {p.actions} action(s): {p.pending} to send, {p.held} held for digests, "
        f"{p.suppressed} skipped, {p.escalations} escalation(s); "
        f"sent {d.sent}, failed {d.failed}, retrying {d.retried}."
    )
    if not p.actions:
        _say_when_before_the_import(console, engine, at)


def _say_when_before_the_import(console: Console, engine: Engine, at: datetime) -> None:
    """Say so when ``at`` is before the plan's import and nothing can come due that early."""
    from engine.read.queries import import_and_first_fire

    with engine.connect() as conn:
        imported, first = import_and_first_fire(conn)
    # Played past (simulate --commit) can leave cursors before the import: then an early tick is right to be quiet.
    if imported is None or at >= imported or (first is not None and first < imported):
        return
    console.print(
        f"Nothing came due: {at.isoformat()} is before the plan was imported ({imported.isoformat()}), "
        "and the engine plans from the import on. To play the plan's earlier life, run "
        "[bold]planwatch simulate --from DAY --until DAY[/] (add --commit to keep what it sends)."
    )


@app.command()
def run(
    ctx: typer.Context,
    interval: Annotated[float, typer.Option("--interval", help="Seconds between ticks.", min=0.05)] = 60.0,
    log_json: Annotated[
        bool, typer.Option("--log-json", help="Log one JSON object per line to standard error.")
    ] = False,
    ops_listen: Annotated[
        str | None,
        typer.Option("--ops-listen", help="Also serve /healthz and /metrics on this HOST:PORT (e.g. 127.0.0.1:9100)."),
    ] = None,
) -> None:
    """Run the service: a tick every minute (APScheduler as the metronome) until Ctrl-C or SIGTERM.

    Example: [bold]planwatch run[/], or [bold]planwatch run --ops-listen 127.0.0.1:9100[/]
    """
    from engine.drive.service import run_service
    from engine.logs import configure

    address = _host_port(ops_listen, "--ops-listen") if ops_listen else None
    configure(as_json=log_json)
    if address is not None:
        _serve_ops(ctx, *address)
    run_service(settings_of(ctx), interval=interval, console=None if log_json else make_console())


def _host_port(value: str, option: str) -> tuple[str, int]:
    """Read ``HOST:PORT`` given to ``option``; a usage error names the option otherwise."""
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"{option}: expected HOST:PORT such as 127.0.0.1:9100, got {value!r}")
    return host.strip("[]"), int(port)


def _serve_ops(ctx: typer.Context, host: str, port: int) -> None:
    """Serve ``/healthz`` and ``/metrics`` on ``host:port`` from a thread of this process."""
    import threading

    import uvicorn

    from engine.web.ops import ops_app

    config = uvicorn.Config(
        ops_app(settings_of(ctx), open_engine(ctx)), host=host, port=port, log_level="warning", access_log=False
    )
    threading.Thread(target=uvicorn.Server(config).run, name="planwatch-ops", daemon=True).start()


@app.command()
def simulate(
    ctx: typer.Context,
    start: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD).")],
    until: Annotated[str, typer.Option("--until", help="Last day (YYYY-MM-DD).")],
    replay: Annotated[Path | None, typer.Option("--replay", help="Events to replay (YAML).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per notification.")] = False,
    commit: Annotated[bool, typer.Option("--commit", help="Run on the real database, not a scratch copy.")] = False,
) -> None:
    """Play the plan's life with a simulated clock and print every notification it sends.

    Example: [bold]planwatch simulate --from 1999-09-28 --until 2001-12-31 --replay plans/progress.yaml[/]
    """
    from engine.drive.rehearse import run_simulation

    begin, end = parse_day(start, "--from"), parse_day(until, "--until")
    if begin > end:
        raise UsageError(f"--until: expected a day on or after --from ({begin.isoformat()}), got {end.isoformat()}")
    rules = load_ruleset(ctx)  # before the database: a missing rules folder creates no database file
    result = run_simulation(
        open_engine(ctx),
        settings_of(ctx),
        rules,
        make_renderer(ctx),
        begin,
        end,
        replay,
        commit=commit,
        show_progress=not as_json,
    )
    if as_json:
        for item in result.notifications:
            emit_json(item)
        if result.unrenderable:
            typer.echo(_unrenderable_line(result.unrenderable), err=True)
        return
    from engine.cli.present import simulation_table

    console = make_console()
    console.print(simulation_table(result.notifications, width=console.width))
    make_console().print(
        f"{len(result.notifications)} notification(s) in {result.ticks} ticks; {result.replayed} event(s) replayed."
    )
    if result.unrenderable:
        make_console().print(_unrenderable_line(result.unrenderable), markup=False)
    if result.already_sent:
        make_console().print(
            f"{result.already_sent} message(s) of this period were already sent before (an earlier run with "
            "--commit or the service) and are not listed again."
        )


def _unrenderable_line(rows: list[dict[str, Any]]) -> str:
    """Say how many messages were not sent because their template could not be rendered, and why."""
    templates = ", ".join(sorted({str(r["template"]) for r in rows}))
    first = rows[0]
    return (
        f"{len(rows)} message(s) not sent: their template could not be rendered ({templates}); first, "
        f"{first['type']} about {first['action'] or '-'} to {first['recipient']}: {first['error']}. "
        "`planwatch rules check` names the rule."
    )


@app.command()
def status(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False
) -> None:
    """Say whether the engine keeps up: last tick, lag, outbox pending and failed, nodes seen.

    Example: [bold]planwatch status --json[/]
    """
    from engine.read.status import engine_status

    report = engine_status(open_engine(ctx), current_time())
    if as_json:
        emit_json(report.as_json())
        return
    last = report.last_tick.isoformat() if report.last_tick else "never (is `planwatch run` running?)"
    make_console().print(
        f"Last tick: {last}\nOutbox: {report.pending} pending, {report.failed} failed"
        + (
            f", oldest due {report.oldest_pending.isoformat()} (lag {report.lag_seconds:.0f} s)"
            if report.oldest_pending
            else ""
        )
        + f"\nNodes seen in the last 10 minutes: {', '.join(n for n, _ in report.nodes) or 'none'}",
        markup=False,
    )
    if report.paused:
        make_console().print(
            f"Mail delivery is PAUSED since {report.paused['since']} (next try {report.paused['until']}); "
            f"nothing is marked failed meanwhile. The server said: {report.paused['reason']}",
            markup=False,
        )
    if report.failure_burst:
        burst = report.failure_burst
        make_console().print(
            f"{burst['count']} messages failed at once at {burst['at']}; the last said: {burst['last_error']}",
            markup=False,
        )


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Create the schema or bring it to the newest revision. Example: [bold]planwatch db upgrade[/]"""
    from engine.store import upgrade

    before, after = upgrade(open_engine(ctx, ensure=False))
    make_console().print(
        f"Database at revision {after}" + (" (was already)." if before == after else f" (was {before or 'empty'}).")
    )


@db_app.command("backup")
def db_backup(ctx: typer.Context, path: Annotated[Path, typer.Argument(help="The new backup file.")]) -> None:
    """Copy the embedded database safely, even while the service runs.
    Example: [bold]planwatch db backup backups/2000-04-30.db[/]"""
    from engine.store.backup import backup_sqlite

    size = backup_sqlite(open_engine(ctx, ensure=False), path)
    make_console().print(f"Backed up to {path} ({size:,} bytes). Restore by pointing --db at it.")


@app.command()
def demo(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="Folder for the demo database and output.")] = Path("out"),
    plans_dir: Annotated[
        Path,
        typer.Option(
            "--plans", help="Folder with the example plan and owners (default: plans/ here, else the shipped example)."
        ),
    ] = Path("plans"),
) -> None:
    """Play the example plan's life (1999-2001) in a fresh embedded database; messages go to out/maildir.

    Example: [bold]planwatch demo[/] (what [bold]make demo[/] runs)
    """
    from engine.cli.demo import run_demo

    run_demo(make_console(), out, plans_dir, settings_of(ctx), current_time())
