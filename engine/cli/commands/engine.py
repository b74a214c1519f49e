"""CLI commands of the engine: tick, run, simulate, outbox, escalations, preview, why, workflow.

Each command is a few lines over the library; heavy imports stay inside the functions.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from engine.cli.main import (
    By,
    Note,
    _console,
    _emit_json,
    _engine,
    _now,
    _parse_date,
    _session,
    _settings,
    app,
)
from engine.errors import UsageError

if TYPE_CHECKING:
    from engine.mail.render import Renderer
    from engine.rules.loader import RuleSet


def _rules(ctx: typer.Context) -> RuleSet:
    from engine.rules.loader import load_rules

    return load_rules(_settings(ctx).rules_dir)


def _renderer(ctx: typer.Context) -> Renderer:
    from engine.mail.compose import renderer_for

    return renderer_for(_settings(ctx))


def _parse_instant(value: str, option: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{option}: expected a date or an ISO time like 2000-04-28T09:00Z, got {value!r}") from None
    if parsed.tzinfo is None:
        if "T" in value or " " in value:
            raise UsageError(f"{option}: give a time zone, e.g. {value}Z or {value}+02:00")
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


@app.command()
def tick(
    ctx: typer.Context,
    now: Annotated[Optional[str], typer.Option("--now", help="Run as if it were this time (ISO, with zone).")] = None,
) -> None:  # noqa: UP045
    """Run one tick: plan what is due, bundle digests, deliver the outbox (to the Maildir).

    Example: [bold]planwatch tick --now 2000-04-28T09:00Z[/]
    """
    from engine.channels import channel_for
    from engine.drive.tick import run_tick

    at = _parse_instant(now, "--now") if now else _now()
    report = run_tick(_engine(ctx), _rules(ctx), channel_for(_settings(ctx)), _renderer(ctx), at)
    p, d = report.planned, report.dispatched
    _console().print(
        f"{at.isoformat()}: planned {p.actions} action(s): {p.pending} to send, {p.held} held for digests, "
        f"{p.suppressed} skipped, {p.escalations} escalation(s); sent {d.sent}, failed {d.failed}, retrying {d.retried}."
    )


@app.command()
def run(
    ctx: typer.Context,
    interval: Annotated[float, typer.Option("--interval", help="Seconds between ticks.", min=0.05)] = 60.0,
    log_json: Annotated[
        bool, typer.Option("--log-json", help="Log one JSON object per line to standard error.")
    ] = False,
) -> None:
    """Run the service: a tick every minute (APScheduler as the metronome) until Ctrl-C or SIGTERM.

    Example: [bold]planwatch run[/]
    """
    from engine.drive.service import run_service
    from engine.logs import configure

    configure(as_json=log_json)
    run_service(_settings(ctx), interval=interval, console=None if log_json else _console())


@app.command()
def simulate(
    ctx: typer.Context,
    start: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD).")],
    until: Annotated[str, typer.Option("--until", help="Last day (YYYY-MM-DD).")],
    replay: Annotated[Optional[Path], typer.Option("--replay", help="Events to replay (YAML).")] = None,  # noqa: UP045
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per notification.")] = False,
    commit: Annotated[bool, typer.Option("--commit", help="Run on the real database, not a scratch copy.")] = False,
) -> None:
    """Play the plan's life with a simulated clock and print every notification it sends.

    Example: [bold]planwatch simulate --from 1999-09-28 --until 2001-12-31 --replay plans/progress.yaml[/]
    """
    from engine.drive.rehearse import run_simulation

    begin, end = _parse_date(start, "--from"), _parse_date(until, "--until")
    result = run_simulation(
        _engine(ctx),
        _settings(ctx),
        _rules(ctx),
        _renderer(ctx),
        begin,
        end,
        replay,
        commit=commit,
        show_progress=not as_json,
    )
    if as_json:
        for item in result.notifications:
            _emit_json(item)
        return
    from engine.cli.present import simulation_table

    _console().print(simulation_table(result.notifications))
    _console().print(
        f"{len(result.notifications)} notification(s) in {result.ticks} ticks; {result.replayed} event(s) replayed."
    )


@app.command()
def outbox(
    ctx: typer.Context,
    status: Annotated[
        Optional[str], typer.Option("--status", help="pending, sent, failed, suppressed, held or digested.")
    ] = None,  # noqa: UP045
    pending: Annotated[bool, typer.Option("--pending", help="Only pending messages.")] = False,
    failed: Annotated[bool, typer.Option("--failed", help="Only failed messages.")] = False,
    sent: Annotated[bool, typer.Option("--sent", help="Only sent messages.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List the outbox: every message planned, with its status and reason.

    Example: [bold]planwatch outbox --failed[/]
    """
    from engine.cli.present import outbox_table
    from engine.read.explain import outbox_rows

    wanted = status or ("pending" if pending else "failed" if failed else "sent" if sent else None)
    with _session(ctx) as session:
        rows = outbox_rows(session, wanted)
    if as_json:
        for row in rows:
            _emit_json(row)
        return
    _console().print(outbox_table(rows))


@app.command()
def escalations(
    ctx: typer.Context,
    supervisor: Annotated[
        Optional[str], typer.Option("--supervisor", help="Only the actions of people below this supervisor.")
    ] = None,  # noqa: UP045
    open_only: Annotated[bool, typer.Option("--open", help="Only those not acknowledged or resolved.")] = False,
    since: Annotated[Optional[str], typer.Option("--since", help="Only from this day (YYYY-MM-DD).")] = None,  # noqa: UP045
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV with a header line.")] = False,
) -> None:
    """Review the escalation log (a supervisor sees everyone below them).

    Example: [bold]planwatch escalations --supervisor ed-devcoop --open[/]
    """
    from engine.cli.present import escalations_table
    from engine.read.escalations import EscalationFilter, escalation_log

    flt = EscalationFilter(
        supervisor=supervisor, open_only=open_only, since=_parse_date(since, "--since") if since else None
    )
    with _session(ctx) as session:
        rows = escalation_log(session, flt)
    if as_json:
        for row in rows:
            _emit_json(row)
    elif as_csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]) if rows else ["id"], lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: (json.dumps(v) if isinstance(v, list) else v) for k, v in r.items()} for r in rows)
    else:
        _console().print(escalations_table(rows))


@app.command()
def ack(
    ctx: typer.Context,
    escalation_id: Annotated[int, typer.Argument(metavar="ESCALATION")],
    note: Note = "",
    by: By = os.environ.get("USER", "cli"),
) -> None:
    """Acknowledge an escalation; its step stops repeating. Example: [bold]planwatch ack 12 --note "spoke to Mei"[/]"""
    from engine.actions.workflow import acknowledge

    with _session(ctx) as session:
        entry = acknowledge(session, escalation_id, _now(), who=by, note=note)
    _console().print(
        f"Escalation {entry.id} ({entry.step} of {entry.occurrence}) acknowledged by {entry.acknowledged_by}."
    )


@app.command()
def preview(
    ctx: typer.Context,
    day: Annotated[str, typer.Option("--date", help="The day to preview (YYYY-MM-DD).")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    render: Annotated[bool, typer.Option("--render", help="Show each message as it would be sent.")] = False,
    action: Annotated[
        Optional[str], typer.Option("--action", help="Only messages about this action (with --render).")
    ] = None,  # noqa: UP045
) -> None:
    """List everything that would be sent on a day and why, without sending or recording anything.

    Example: [bold]planwatch preview --date 2000-04-28[/], or [bold]planwatch preview --date 2000-03-31 --render --action I.1a.1[/]
    """
    from engine.cli.present import simulation_table

    if render or action:
        from engine.mail.compose import renderer_for
        from engine.mail.preview import preview_rendered, print_rendered

        rows = preview_rendered(
            _engine(ctx), _settings(ctx), _rules(ctx), renderer_for(_settings(ctx)), _parse_date(day, "--date"), action
        )
        if not as_json:
            print_rendered(_console(), rows)
            return
    else:
        from engine.drive.rehearse import preview_day

        rows = preview_day(_engine(ctx), _settings(ctx), _rules(ctx), _renderer(ctx), _parse_date(day, "--date"))
    if as_json:
        for row in rows:
            _emit_json(row)
        return
    _console().print(simulation_table(rows, title=f"Would be sent on {day}"))


@app.command()
def why(ctx: typer.Context, action_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """Say which policy applies to an action, and every message sent or skipped for it, with the reason.

    Example: [bold]planwatch why I.1a.1[/]
    """
    from engine.cli.present import outbox_table
    from engine.read.explain import explain_policy, outbox_rows
    from engine.read.queries import find_action

    with _session(ctx) as session:
        action = find_action(session, action_id)
        _console().print(explain_policy(session, action, _rules(ctx)))
        _console().print(
            outbox_table(outbox_rows(session, None, action_id=action.id), title=f"Messages about {action.ref}")
        )


@app.command()
def extend(
    ctx: typer.Context,
    action_id: Annotated[str, typer.Argument(metavar="ID")],
    to: Annotated[str, typer.Option("--to", help="The new due date (YYYY-MM-DD).")],
    reason: Annotated[str, typer.Option("--reason", help="Why the extension was granted.")] = "",
    by: By = os.environ.get("USER", "cli"),
) -> None:
    """Grant an extension: the action is due later; reminders follow, the change is logged.

    Example: [bold]planwatch extend II.3.1 --to 2000-09-30 --by ed-devcoop --reason "budget delay"[/]
    """
    from engine.actions.workflow import extend as extend_action
    from engine.read.queries import find_action

    with _session(ctx) as session:
        action = find_action(session, action_id)
        extend_action(session, action, _parse_date(to, "--to"), _now(), who=by, via="cli", reason=reason)
    _console().print(f"{action.ref} is now due {to}.")


@app.command("progress")
def progress_(
    ctx: typer.Context,
    action_id: Annotated[str, typer.Argument(metavar="ID")],
    note: Annotated[str, typer.Option("--note", help="What happened.")],
    at_risk: Annotated[bool, typer.Option("--at-risk", help="Say the date is at risk.")] = False,
    by: By = os.environ.get("USER", "cli"),
) -> None:
    """Report progress on an action (answers a check-in). Example: [bold]planwatch progress II.3.5 --note "two workshops held"[/]"""
    from engine.actions.workflow import progress
    from engine.read.queries import find_action

    with _session(ctx) as session:
        action = find_action(session, action_id)
        progress(session, action, _now(), who=by, via="cli", note=note, state="at risk" if at_risk else "on track")
    _console().print(f"Progress on {action.ref} recorded.")


@app.command()
def hold(
    ctx: typer.Context,
    action_id: Annotated[str, typer.Argument(metavar="ID")],
    reason: Annotated[str, typer.Option("--reason", help="Why it is on hold.")] = "",
    by: By = os.environ.get("USER", "cli"),
) -> None:
    """Put an action on hold: reminders stop until it is reopened. Example: [bold]planwatch hold III.d.2 --reason "awaiting EU mandate"[/]"""
    from engine.actions.workflow import hold as hold_action
    from engine.read.queries import find_action

    with _session(ctx) as session:
        action = find_action(session, action_id)
        hold_action(session, action, _now(), who=by, via="cli", reason=reason)
    _console().print(f"{action.ref} is on hold.")


@app.command()
def reassign(
    ctx: typer.Context,
    action_id: Annotated[str, typer.Argument(metavar="ID")],
    owner: Annotated[str, typer.Argument(metavar="OWNER")],
    note: Note = "",
    by: By = os.environ.get("USER", "cli"),
) -> None:
    """Give an action to another owner. Example: [bold]planwatch reassign II.3.3 hrd[/]"""
    from engine.actions.workflow import reassign as reassign_action
    from engine.read.queries import find_action

    with _session(ctx) as session:
        action = find_action(session, action_id)
        reassign_action(session, action, owner, _now(), who=by, via="cli", note=note)
    _console().print(f"{action.ref} now belongs to {owner}.")


@app.command("not-mine")
def not_mine_(
    ctx: typer.Context,
    action_id: Annotated[str, typer.Argument(metavar="ID")],
    note: Note = "",
    by: By = os.environ.get("USER", "cli"),
) -> None:
    """Hand an action back: the secretariat is told and it waits for a new owner. Example: [bold]planwatch not-mine I.2c.3[/]"""
    from engine.actions.workflow import not_mine
    from engine.read.queries import find_action

    with _session(ctx) as session:
        action = find_action(session, action_id)
        not_mine(session, action, _now(), who=by, via="cli", note=note)
    _console().print(f"{action.ref} has no owner now; the secretariat will be told.")


@app.command()
def report(
    ctx: typer.Context,
    as_of: Annotated[str, typer.Option("--as-of", help="The day the report describes (YYYY-MM-DD).")],
    fmt: Annotated[str, typer.Option("--format", help="html or md.")] = "md",
    out: Annotated[Optional[Path], typer.Option("--out", help="Write to this file instead of standard output.")] = None,  # noqa: UP045
    plan: Annotated[Optional[str], typer.Option("--plan", help="Plan id, when there are several.")] = None,  # noqa: UP045
) -> None:
    """Write the progress report: per Part and issue, done, on track, overdue, extended, unscheduled.

    Example: [bold]planwatch report --as-of 2000-12-31 --format html --out report.html[/]
    """
    from engine.files import write_atomic
    from engine.read.export import choose_plan
    from engine.read.report import build_report, recurrence_rules, render_html, render_markdown

    if fmt not in {"html", "md"}:
        raise UsageError(f"--format: expected html or md, got {fmt!r}")
    with _session(ctx) as session:
        plan_id = choose_plan(session, plan)
        data = build_report(session, plan_id, _parse_date(as_of, "--as-of"))
        text = render_html(data, rrules=recurrence_rules(session, plan_id)) if fmt == "html" else render_markdown(data)
    if out is None:
        sys.stdout.write(text)
        return
    write_atomic(out, text)
    _console().print(f"Wrote the report as of {as_of} to {out}.")
