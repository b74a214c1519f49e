"""CLI commands about the plan: import, export, actions, show, owners, timeframe, review and set.

Each command is a few lines over the library; heavy imports stay inside the functions.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from engine.cli.common import (
    By,
    Note,
    app,
    current_time,
    emit_json,
    make_console,
    open_engine,
    open_session,
    parse_day,
    settings_of,
)
from engine.errors import UsageError

NO_PLAN = "No actions. Import a plan first: [bold]planwatch import PLAN[/]"


@app.command("import")
def import_(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Plan files (text or YAML) and owners files (YAML or CSV).")],
    tz: Annotated[
        str | None, typer.Option("--tz", help="The plan's IANA time zone, when its place does not tell.")
    ] = None,
    plan_id: Annotated[
        str | None, typer.Option("--plan-id", help="Id for a new plan (default: from its symbol).")
    ] = None,
    sheet: Annotated[
        str | None, typer.Option("--sheet", help="Spreadsheets: read only this sheet (default: every sheet).")
    ] = None,
    columns: Annotated[
        str | None,
        typer.Option("--columns", help='Spreadsheets: headings by field, e.g. "timeframe=Target date,title=Measure".'),
    ] = None,
    encoding: Annotated[
        str | None, typer.Option("--encoding", help="CSV: the file's encoding when not UTF-8, e.g. latin-1.")
    ] = None,
    plan_date: Annotated[
        str | None,
        typer.Option(
            "--date",
            help="Spreadsheets: the plan's date (YYYY-MM-DD) when the file has no date line; a date in the file wins.",
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Show what would be imported and what would change; store nothing."),
    ] = False,
) -> None:
    """Import a plan and/or an owners directory, in one transaction.

    Example: [bold]planwatch import plans/owners.yaml plans/gb276-tc2-implementation-plan.txt[/]

    Importing a revised plan again keeps action ids, owners and statuses, and says what changed.
    With [bold]--dry-run[/], print the Parts, issues and actions with their time frames and readings,
    what would need review and what would change against the stored plan, and store nothing.
    """
    from engine.cli.present import import_summary
    from engine.importing import OwnersReport, import_paths, sheet_options

    options = sheet_options(sheet, columns, encoding, plan_date)
    if dry_run:
        _preview(ctx, paths, tz, plan_id, options)
        return
    reports = import_paths(
        open_engine(ctx, ensure=False),
        paths,
        settings_of(ctx),
        current_time(),
        timezone=tz,
        plan_id=plan_id,
        sheet_options=options,
    )
    console = make_console()
    for report in reports:
        if isinstance(report, OwnersReport):
            _owners_summary(console, report)
        else:
            import_summary(console, report)
    console.print(
        "Next: [bold]planwatch actions[/] to see them, [bold]planwatch review[/] for time frames that need a decision."
    )


def _owners_summary(console: Any, report: Any, would: str = "") -> None:
    """Print what an owners import changed (or, with ``would``, would change)."""
    console.print(
        f"[bold]{report.path}[/]: {len(report.added)} owner(s) {would}added, {len(report.updated)} {would}updated, "
        f"{report.reassigned} action(s) {would}given an owner by rule."
    )
    for label, ids in (("added", report.added), ("updated", report.updated)):
        if ids and would:
            console.print(f"  {label}: {', '.join(ids)}", highlight=False)


def _preview(
    ctx: typer.Context, paths: list[Path], tz: str | None, plan_id: str | None, options: dict[str, Any]
) -> None:
    """Print what importing ``paths`` would store and change: the import itself, run and rolled back."""
    from engine.importing import Preview, preview_paths

    console = make_console()
    shown = preview_paths(
        _stored_engine(ctx),
        paths,
        settings_of(ctx),
        current_time(),
        timezone=tz,
        plan_id=plan_id,
        sheet_options=options,
    )
    for item in shown:
        if isinstance(item, Preview):
            _print_preview(console, item, tz)
        else:
            console.print(f"Preview of [bold]{item.path}[/] (an owners directory): nothing is stored.")
            _owners_summary(console, item, "would be ")
    console.print(f"Nothing was stored. To import: [bold]planwatch import {' '.join(map(str, paths))}[/]")


def _print_preview(console: Any, shown: Any, tz: str | None) -> None:
    from engine.importing import reading_text

    info, schedules = shown.doc.plan, shown.schedules
    zone = f"time zone {info.timezone}" + (f" (from {info.place!r})" if info.place and tz is None else "")
    console.print(f"Preview of [bold]{info.source or info.id}[/]: nothing is stored.")
    console.print(f"[bold]{info.id}[/]: {info.symbol} {info.title}".rstrip())
    counts = f"{len(shown.doc.actions)} actions, {len(shown.review)} to review"
    console.print(f"  dated {info.ref_date.isoformat()} · {zone} · {counts}")
    by_section = shown.rows_by_section()
    for section in shown.doc.sections:
        if section.level == "subheading":
            continue
        if section.level == "part":
            console.print(f"[bold]Part {section.number}[/] — {section.title}" if section.number else section.title)
        else:
            indent = "  " if section.level == "issue" else "    "
            console.print(f"{indent}[bold]{section.number}[/] {section.title}")
        subheading = ""
        for row in by_section.get(section.key, []):
            if row.subheading and row.subheading != subheading:
                subheading = row.subheading
                console.print(f"      [italic]{subheading}[/]")
            fields = schedules[row.ref]
            text = row.timeframe or f"(empty cell; proposed: {row.timeframe_proposed or '-'})"
            flag = " [yellow]needs review[/]" if fields.get("needs_review") else ""
            console.print(f"      {row.ref:<10} {text} → {reading_text(fields)}{flag}", highlight=False)
            if "(text not in source)" not in row.title:
                console.print(f"      {'':<10} [dim]{row.title}[/]", highlight=False)
    if shown.unknown_place:
        console.print(
            f"[bold]To review[/]: the plan's time zone: {shown.unknown_place!r} is not a place planwatch knows, so its "
            "times would be in UTC; choose its zone with --tz ZONE (such as Europe/Zurich)",
            highlight=False,
        )
    if shown.review:
        console.print(f"[bold]To review[/] ({len(shown.review)}):")
        for row in shown.review:
            console.print(f"  {row.ref}: {schedules[row.ref].get('reason') or ''}", highlight=False)
    _print_changes(console, shown.report)


def _stored_engine(ctx: typer.Context) -> Any:
    """Return the database to compare a preview with, or None when there is none yet.

    The database is only read: a SQLite file that does not exist is not created.
    """
    from sqlalchemy.engine import make_url

    url = make_url(settings_of(ctx).database_url)
    sqlite_file = url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
    if sqlite_file and not Path(url.database or "").exists():
        return None
    return open_engine(ctx, ensure=False)


def _print_changes(console: Any, report: Any) -> None:
    """Print the import's report, under "Against the stored plan", in the lines the import prints."""
    if report.created:
        console.print("Against the stored plan: a new plan (nothing of it is stored yet).")
    elif not report.changed:
        console.print("Against the stored plan: nothing would change.")
    else:
        console.print("Against the stored plan:")
    for label, refs in (
        (
            ("removed", report.removed),
            ("restored", report.restored),
            ("title changed", report.title_changed),
            ("schedule re-read", report.schedule_changed),
        )
        if report.created
        else (
            ("added", report.added),
            ("removed", report.removed),
            ("restored", report.restored),
            ("title changed", report.title_changed),
            ("schedule re-read", report.schedule_changed),
        )
    ):
        if refs:
            console.print(f"  {label}: {', '.join(refs)}", highlight=False)
    for ref, old, new in report.timeframe_changed:
        console.print(f"  time frame changed: {ref}: {old!r} → {new!r}", highlight=False)
    for ref, old_owner, new_owner in report.owner_changed:
        console.print(f"  owner changed: {ref}: {old_owner or '-'} → {new_owner or '-'}", highlight=False)
    for warning in report.warnings:
        console.print(f"  [yellow]warning[/]: {warning}", highlight=False)


@app.command()
def export(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="Where to write the YAML plan file ('-' for standard output).")],
    plan: Annotated[str | None, typer.Option("--plan", help="Plan id, when there are several.")] = None,
) -> None:
    """Write a plan as the YAML plan file people edit (owners, titles, schedule overrides).

    Example: [bold]planwatch export plan.yaml[/], edit it, then [bold]planwatch import plan.yaml[/]
    """
    from engine.read.export import export_plan

    with open_session(ctx) as session:
        text, plan_id = export_plan(session, plan)
    if str(path) == "-":
        sys.stdout.write(text)
        return
    from engine.files import write_atomic

    write_atomic(path, text)
    make_console().print(f"Wrote {plan_id} to {path}. Edit it, then run [bold]planwatch import {path}[/].")


@app.command()
def actions(
    ctx: typer.Context,
    owner: Annotated[str | None, typer.Option("--owner", help="Only this owner's actions.")] = None,
    status: Annotated[str | None, typer.Option("--status", help="open, in_progress, done, dropped or on_hold.")] = None,
    plan: Annotated[str | None, typer.Option("--plan", help="Only this plan.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List actions with owner, time frame as printed, how it was read, and status.

    Example: [bold]planwatch actions --owner pardev --status open[/]
    """
    from engine.cli.present import actions_table
    from engine.read.queries import ActionFilter, list_actions
    from engine.store.models import STATUSES

    if status is not None and status not in STATUSES:
        raise UsageError(f"--status: expected one of {', '.join(STATUSES)}, got {status!r}")
    with open_session(ctx) as session:
        rows = list_actions(session, ActionFilter(plan=plan, owner=owner, status=status))
    filtered = any(value is not None for value in (owner, status, plan))
    _print_actions(rows, as_json, actions_table, "No action matches these filters." if filtered else NO_PLAN)


def _print_actions(rows: list[Any], as_json: bool, table: Any, empty: str) -> None:
    from engine.read.queries import action_record

    if as_json:
        for row in rows:
            emit_json(action_record(row))
        return
    console = make_console()
    console.print(table(rows))
    if not rows:
        console.print(empty)


@app.command()
def show(
    ctx: typer.Context, action_id: Annotated[str, typer.Argument(metavar="ID", help="Action id, e.g. I.1a.2.")]
) -> None:
    """Show everything about one action: text, time frame and reading, owner, history.

    Example: [bold]planwatch show II.2.6[/]
    """
    from engine.cli.present import print_action_sheet
    from engine.errors import NotFoundError
    from engine.read.explain import find_removed, follow_up_lines, removed_note
    from engine.read.queries import action_record, find_action, history, owners_with_chains

    with open_session(ctx) as session:
        removed = ""
        try:
            action = find_action(session, action_id)
        except NotFoundError:
            gone = find_removed(session, action_id)
            if gone is None:
                raise
            action, removed = gone, removed_note(session, gone)
        chains = {o.id: (o, chain) for o, chain in owners_with_chains(session)}
        owner, chain = chains.get(action.owner_id or "", (None, []))
        console = make_console()
        if removed:
            console.print(f"[yellow]{removed}[/]", highlight=False)
        print_action_sheet(console, action, owner, chain, history(session, action), action_record(action))
        lines = follow_up_lines(session, action)
        if not any(line.startswith("Acceptance: ") for line in lines):
            lines.insert(0, "Acceptance: accepted.")  # said even when plain, as the secretariat recorded it
        for line in lines:
            console.print(line, highlight=False)


@app.command()
def owners(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False
) -> None:
    """List owners with their supervisor chains, away periods and deputies.

    Example: [bold]planwatch owners --json[/]
    """
    from engine.cli.present import owners_table
    from engine.read.queries import owners_with_chains

    with open_session(ctx) as session:
        rows = owners_with_chains(session)
    if as_json:
        for o, chain in rows:
            emit_json(
                {
                    "id": o.id,
                    "name": o.name,
                    "email": o.email,
                    "timezone": o.timezone,
                    "supervisor": o.supervisor_id,
                    "chain": chain,
                    "delegate": o.delegate_id,
                    "away_from": o.away_from.isoformat() if o.away_from else None,
                    "away_to": o.away_to.isoformat() if o.away_to else None,
                    "deputy": o.deputy_id,
                    "digest": o.digest,
                }
            )
        return
    make_console().print(owners_table(rows))
    if not rows:
        make_console().print("No owners yet. Import a directory: [bold]planwatch import plans/owners.yaml[/]")


@app.command()
def timeframe(
    text: Annotated[
        str | None, typer.Argument(help="The phrase; omit it to read one phrase per line from standard input.")
    ] = None,
    ref: Annotated[str, typer.Option("--ref", help="The plan's reference date, YYYY-MM-DD.")] = ...,  # type: ignore[assignment]
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the reading as JSON (JSON Lines for standard input).")
    ] = False,
    fy_start: Annotated[
        int | None, typer.Option("--fy-start", min=1, max=12, help="First month of the fiscal year.")
    ] = None,
    lang: Annotated[
        str | None,
        typer.Option("--lang", help="The phrase's language: en, fr or es (default: guessed from its words)."),
    ] = None,
) -> None:
    """Read a time-frame phrase the way planwatch does.

    Example: [bold]planwatch timeframe "First outputs by September 2000" --ref 1999-09-28 --json[/]
    or [bold]planwatch timeframe "Premier semestre 2000" --ref 1999-09-28 --lang fr[/]
    """
    from engine.timeframe import LANGUAGES, parse

    reference = parse_day(ref, "--ref")
    if lang is not None and lang not in LANGUAGES:
        raise UsageError(f"--lang: expected en, fr or es, got {lang!r}")
    phrases = [text] if text is not None else [line.rstrip("\r\n") for line in sys.stdin]
    for phrase in phrases:
        schedule = parse(phrase, reference, fy_start=fy_start, language=lang)
        if as_json:
            emit_json(schedule.as_json())
        else:
            make_console().print(
                f"[bold]{phrase!r}[/] → {schedule.kind}", json.dumps(schedule.as_json(), indent=2, ensure_ascii=False)
            )


@app.command()
def review(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False
) -> None:
    """List the actions whose time frame needs a human decision, with the reason, and the plans whose time zone
    was not recognised.

    Example: [bold]planwatch review[/], then [bold]planwatch set II.2.6 --after II.1.1[/]
    """
    from sqlmodel import select

    from engine.cli.present import review_table
    from engine.read.queries import ActionFilter, list_actions
    from engine.store.models import Plan

    with open_session(ctx) as session:
        rows = list_actions(session, ActionFilter(needs_review=True))
        some = bool(rows) or bool(list_actions(session, ActionFilter()))
        zones = session.exec(select(Plan.id, Plan.zone_review).where(Plan.zone_review != "").order_by(Plan.id)).all()
    if zones and not as_json:
        console = make_console()
        for plan_id, place in zones:
            console.print(
                f"[bold]{plan_id}[/]: its time zone was not recognised: the date line's place {place!r} has no time "
                "zone planwatch knows, so the plan's times are in UTC. Import the plan again with --tz ZONE "
                "(such as Europe/Zurich) to set it.",
                highlight=False,
            )
        if not rows:
            return
    _print_actions(
        rows, as_json, review_table, "Nothing to review: no time frame needs a decision." if some else NO_PLAN
    )


@app.command("set")
def set_(
    ctx: typer.Context,
    action_id: Annotated[str, typer.Argument(metavar="ID")],
    due: Annotated[str | None, typer.Option("--due", help="Due date, YYYY-MM-DD.")] = None,
    start: Annotated[str | None, typer.Option("--start", help="Start date, YYYY-MM-DD.")] = None,
    rrule: Annotated[str | None, typer.Option("--rrule", help="Recurrence, e.g. FREQ=YEARLY.")] = None,
    after: Annotated[str | None, typer.Option("--after", help="Due when this other action is due.")] = None,
    kind: Annotated[
        str | None,
        typer.Option("--kind", help="deadline, start, window, recurring, continuous, event or unscheduled."),
    ] = None,
    note: Note = "",
    by: By = os.environ.get("USER", "cli"),
) -> None:
    """Decide how an action's time frame is read; the decision is recorded and clears the review flag.

    Example: [bold]planwatch set III.d.2 --due 2000-12-31 --note "agreed with PARDEV"[/]
    """
    from engine.actions.workflow import set_schedule
    from engine.read.queries import find_action
    from engine.rules import events as event_rules

    values = _schedule_values(due=due, start=start, rrule=rrule, after=after, kind=kind)
    named = event_rules.load(settings_of(ctx).rules_dir / "events.yaml")
    with open_session(ctx) as session:
        action = find_action(session, action_id)
        was = action.kind
        set_schedule(session, action, values, current_time(), who=by, via="cli", note=note, events=named)
        from engine.read.queries import reading

        console = make_console()
        if action.kind != was:
            console.print(f"{action.ref} is now a {action.kind} (it was {was}).")
        console.print(f"{action.ref} is now read as: [green]{reading(action)}[/]")


def _schedule_values(**given: str | None) -> dict[str, Any]:
    from engine.importers.planyaml import ScheduleOverride

    values: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
    for key in ("due", "start"):
        if key in values:
            values[key] = parse_day(values[key], f"--{key}")
    try:
        checked = ScheduleOverride.model_validate(values)
    except ValueError as exc:
        first = exc.errors()[0] if hasattr(exc, "errors") else {"loc": ("?",), "msg": str(exc)}
        raise UsageError(
            f"--{first['loc'][0] if first['loc'] else 'value'}: {str(first['msg']).removeprefix('Value error, ')}"
        ) from None
    return checked.model_dump(exclude_none=True)
