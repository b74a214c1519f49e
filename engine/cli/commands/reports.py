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
    kind: Annotated[
        str,
        typer.Argument(
            metavar="[progress|implementation]",
            help="progress (the default): states per Part and issue; implementation: the report a governing body"
            " reads (rates, overdue by age and cause, ratings, extensions, changes since --since).",
        ),
    ] = "progress",
    since: Annotated[
        str | None,
        typer.Option("--since", help="implementation only: compare with this earlier day (the previous report)."),
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="html or md; implementation also csv (one row per action) or docx (a Word paper, needs --out)."
            " Default: from the --out suffix, else md.",
        ),
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file instead of standard output.")] = None,
    plan: Annotated[str | None, typer.Option("--plan", help="Plan id, when there are several.")] = None,
    lang: Annotated[
        str | None,
        typer.Option("--lang", help="The report's language: en, fr or es (default: the plan's language)."),
    ] = None,
) -> None:
    """Write the progress report, or the implementation report a governing body reads.

    progress: per Part and issue, what is done, on track, overdue, extended or unscheduled.

    implementation: the implementation rate by Part, unit and owner; overdue actions by age and cause of delay;
    the owner's rating beside the verifier's; extensions; what changed since --since; the long-overdue list.

    Both are read from the recorded history as it stood at the end of --as-of: an earlier day's report comes out
    the same whenever it is made. $PLANWATCH_USER_TEMPLATES may hold report/report.html.j2 and
    report/implementation.html.j2 of its own.

    Example: [bold]planwatch report --as-of 2000-12-31 --format html --out report.html[/]

    Example: [bold]planwatch report implementation --as-of 2001-12-31 --since 2001-06-30 --out paper.docx[/]

    Example: [bold]planwatch report --as-of 2000-12-31 --lang fr --out rapport.html[/]
    """
    from engine.languages import language_of, language_problem

    if kind not in {"progress", "implementation"}:
        raise UsageError(f"report: expected progress or implementation, got {kind!r}")
    if lang is not None and language_problem(lang):
        raise UsageError(f"--lang: {language_problem(lang)}")
    if kind == "implementation":
        _implementation(ctx, as_of, since, fmt, out, plan, lang)
        return
    if since is not None:
        raise UsageError("--since compares two days of the implementation report: planwatch report implementation")
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
        language = language_of(lang, data.plan.language)
        if fmt == "html":
            folders = [str(f) for f in template_folders(settings_of(ctx))]
            text = render_html(data, folders=folders, rrules=recurrence_rules(session, plan_id), language=language)
        else:
            text = render_markdown(data, language)
    if out is None:
        sys.stdout.write(text)
        return
    write_atomic(out, text)
    make_console().print(f"Wrote the report as of {as_of} to {out}.")


def _implementation(
    ctx: typer.Context,
    as_of: str,
    since: str | None,
    fmt: str | None,
    out: Path | None,
    plan: str | None,
    lang: str | None = None,
) -> None:
    """Write the implementation report in the format asked for."""
    from engine.files import write_atomic
    from engine.languages import language_of
    from engine.read.export import choose_plan
    from engine.read.implementation import build_implementation
    from engine.settings import template_folders

    if fmt is not None and fmt not in IMPLEMENTATION_FORMATS:
        raise UsageError(f"--format: expected html, md, csv or docx, got {fmt!r}")
    fmt = _report_format(fmt, out, IMPLEMENTATION_SUFFIXES)
    if fmt == "docx" and out is None:
        raise UsageError("--format docx: a Word document needs a file; add --out PAPER.docx")
    day = parse_day(as_of, "--as-of")
    earlier = parse_day(since, "--since") if since else None
    if earlier is not None and earlier >= day:
        raise UsageError(f"--since {earlier} is not before --as-of {day}; give the earlier report's day")
    with open_session(ctx) as session:
        data = build_implementation(session, choose_plan(session, plan), day, earlier)
        language = language_of(lang, data.plan.language)
    content = _implementation_content(data, fmt, tuple(str(f) for f in template_folders(settings_of(ctx))), language)
    if out is None:
        assert isinstance(content, str)
        sys.stdout.write(content)
        return
    write_atomic(out, content)
    make_console().print(f"Wrote the implementation report as of {as_of} to {out}.")


def _implementation_content(data: object, fmt: str, folders: tuple[str, ...], language: str = "en") -> str | bytes:
    from engine.read.implementation import ImplementationReport
    from engine.read.implementation_docx import render_docx
    from engine.read.implementation_text import render_csv, render_html, render_markdown

    assert isinstance(data, ImplementationReport)
    if fmt == "docx":
        return render_docx(data, language)
    if fmt == "csv":
        return "".join(render_csv(data, language))
    return render_html(data, folders, language) if fmt == "html" else render_markdown(data, language)


SUFFIXES = {".html": "html", ".htm": "html", ".md": "md", ".markdown": "md"}
IMPLEMENTATION_SUFFIXES = {**SUFFIXES, ".csv": "csv", ".docx": "docx"}
IMPLEMENTATION_FORMATS = ("html", "md", "csv", "docx")


def _report_format(fmt: str | None, out: Path | None, suffixes: dict[str, str] = SUFFIXES) -> str:
    """Return the report's format: --format, else the one --out's suffix names, else Markdown."""
    implied = suffixes.get(out.suffix.lower()) if out is not None else None
    if fmt is not None and implied is not None and fmt != implied:
        raise UsageError(f"--out: {out} names a {implied} file but --format is {fmt}; make them agree")
    return fmt or implied or "md"
