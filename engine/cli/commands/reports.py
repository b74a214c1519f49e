"""CLI commands that read what happened: escalations, why and report (the outbox is in ``mail``).

Each command is a few lines over engine.read; heavy imports stay inside the functions.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from engine.cli.common import app, emit_json, load_ruleset, make_console, open_session, parse_day, settings_of
from engine.errors import UsageError


@app.command()
def escalations(
    ctx: typer.Context,
    supervisor: Annotated[
        str | None, typer.Option("--supervisor", help="Only the actions of people below this supervisor.")
    ] = None,
    open_only: Annotated[bool, typer.Option("--open", help="Only those not acknowledged or resolved.")] = False,
    since: Annotated[str | None, typer.Option("--since", help="Only from this day (YYYY-MM-DD).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV with a header line.")] = False,
) -> None:
    """Review the escalation log (a supervisor sees everyone below them).

    Example: [bold]planwatch escalations --supervisor ed-devcoop --open[/]
    """
    from engine.cli.present import escalations_table
    from engine.read.escalations import EscalationFilter, escalation_log

    flt = EscalationFilter(
        supervisor=supervisor, open_only=open_only, since=parse_day(since, "--since") if since else None
    )
    with open_session(ctx) as session:
        rows = escalation_log(session, flt)
    if as_json:
        for row in rows:
            emit_json(row)
    elif as_csv:
        from engine.read.csv_text import csv_chunks

        fields = list(rows[0]) if rows else ["id"]
        cells = ([json.dumps(v) if isinstance(v, list) else v for v in map(r.get, fields)] for r in rows)
        sys.stdout.writelines(csv_chunks(fields, cells, lineterminator="\n"))
    else:
        make_console().print(escalations_table(rows))


@app.command()
def why(ctx: typer.Context, action_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """Say which policy applies to an action, and every message sent or skipped for it, with the reason.

    Example: [bold]planwatch why I.1a.1[/]
    """
    from engine.cli.present import outbox_table
    from engine.errors import NotFoundError
    from engine.read.explain import explain_policy, find_removed, outbox_rows, removed_note
    from engine.read.queries import find_action

    with open_session(ctx) as session:
        try:
            action = find_action(session, action_id)
        except NotFoundError:
            if (gone := find_removed(session, action_id)) is None:
                raise
            action = gone
            make_console().print(removed_note(session, action), highlight=False)
        else:
            make_console().print(explain_policy(session, action, load_ruleset(ctx)))
        make_console().print(
            outbox_table(outbox_rows(session, None, action_id=action.id), title=f"Messages about {action.ref}")
        )


@app.command()
def report(
    ctx: typer.Context,
    as_of: Annotated[str, typer.Option("--as-of", help="The day the report describes (YYYY-MM-DD).")],
    fmt: Annotated[
        str | None, typer.Option("--format", help="html or md (default: from the --out suffix, else md).")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file instead of standard output.")] = None,
    plan: Annotated[str | None, typer.Option("--plan", help="Plan id, when there are several.")] = None,
) -> None:
    """Write the progress report: per Part and issue, done, on track, overdue, extended, unscheduled.

    The HTML report uses report/report.html.j2 from $PLANWATCH_USER_TEMPLATES when that folder has one.

    Example: [bold]planwatch report --as-of 2000-12-31 --format html --out report.html[/]
    """
    from engine.files import write_atomic
    from engine.read.export import choose_plan
    from engine.read.report import build_report, recurrence_rules, render_html, render_markdown
    from engine.settings import template_folders

    if fmt is not None and fmt not in {"html", "md"}:
        raise UsageError(f"--format: expected html or md, got {fmt!r}")
    fmt = _report_format(fmt, out)
    with open_session(ctx) as session:
        plan_id = choose_plan(session, plan)
        data = build_report(session, plan_id, parse_day(as_of, "--as-of"))
        if fmt == "html":
            folders = [str(f) for f in template_folders(settings_of(ctx))]
            text = render_html(data, folders=folders, rrules=recurrence_rules(session, plan_id))
        else:
            text = render_markdown(data)
    if out is None:
        sys.stdout.write(text)
        return
    write_atomic(out, text)
    make_console().print(f"Wrote the report as of {as_of} to {out}.")


SUFFIXES = {".html": "html", ".htm": "html", ".md": "md", ".markdown": "md"}


def _report_format(fmt: str | None, out: Path | None) -> str:
    """Return the report's format: --format, else the one --out's suffix names, else Markdown."""
    implied = SUFFIXES.get(out.suffix.lower()) if out is not None else None
    if fmt is not None and implied is not None and fmt != implied:
        raise UsageError(f"--out: {out} names a {implied} file but --format is {fmt}; make them agree")
    return fmt or implied or "md"
