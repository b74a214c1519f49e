"""CLI commands of follow-up: accept, verify, delay and to-verify (``done`` reports an action implemented when the
rules close in two steps; it lives with the other workflow commands).

Each command is a few lines over engine.actions.followup; heavy imports stay inside the functions.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from engine.cli.common import (
    By,
    Note,
    app,
    current_time,
    emit_json,
    load_ruleset,
    make_console,
    open_session,
    parse_day,
)

Occurrence = Annotated[
    str | None, typer.Option("--occurrence", help="For a recurring action: which occurrence (YYYY-MM-DD).")
]
STATES = {"--partially": "partially_accepted", "--not": "not_accepted", "--under-consideration": "under_consideration"}
Rating = Annotated[
    str,
    typer.Option("--rating", help="implemented, partially_implemented or not_implemented (default: implemented)."),
]


def check_by(ctx: typer.Context, problem: str | None) -> None:
    """Refuse a ``--by`` given on the command line that names someone who may not do this (``problem`` says why);
    without ``--by`` the login name is recorded, as the person at the console."""
    from engine.errors import UsageError

    source = ctx.get_parameter_source("by")
    if problem is not None and (source is None or source.name != "DEFAULT"):
        raise UsageError(problem)


@app.command()
def accept(
    ctx: typer.Context,
    action_id: Annotated[str, typer.Argument(metavar="ID")],
    partially: Annotated[
        bool, typer.Option("--partially", help="Accepted in part (say which part with --reason).")
    ] = False,
    not_: Annotated[bool, typer.Option("--not", help="Not accepted; --reason is required.")] = False,
    pending: Annotated[
        bool, typer.Option("--under-consideration", help="Not decided yet: no reminders meanwhile.")
    ] = False,
    reason: Annotated[str, typer.Option("--reason", help="Why (required with --not).")] = "",
    by: By = os.environ.get("USER", "cli"),
) -> None:
    """Record whether a recommendation is accepted: by default only accepted and partially accepted actions get
    reminders and escalations.

    Example: [bold]planwatch accept III.d.3 --not --reason "outside the Office's mandate"[/]
    """
    from engine.actions.followup import WORDS, set_acceptance, staff_problem
    from engine.errors import UsageError
    from engine.read.queries import find_action

    chosen = [
        name for name, on in (("--partially", partially), ("--not", not_), ("--under-consideration", pending)) if on
    ]
    if len(chosen) > 1:
        raise UsageError(f"{' and '.join(chosen)} exclude each other; give one of them (or none: accepted)")
    state = (
        "partially_accepted"
        if partially
        else "not_accepted"
        if not_
        else "under_consideration"
        if pending
        else "accepted"
    )
    with open_session(ctx) as session:
        action = find_action(session, action_id)
        check_by(ctx, staff_problem(session, by, what=f"record whether {action.ref} is accepted"))
        changed = set_acceptance(session, action, state, current_time(), who=by, via="cli", note=reason)
    word = "is now" if changed else "was already"
    make_console().print(f"{action.ref} {word} [bold]{WORDS[state]}[/].")


@app.command()
def verify(
    ctx: typer.Context,
    action_id: Annotated[str, typer.Argument(metavar="ID")],
    return_: Annotated[
        bool, typer.Option("--return", help="Return the report to its owner instead; --comment says why.")
    ] = False,
    comment: Annotated[str, typer.Option("--comment", help="What you saw, or what is missing.")] = "",
    rating: Rating = "implemented",
    occurrence: Occurrence = None,
    by: By = os.environ.get("USER", "cli"),
) -> None:
    """Confirm an owner's report that an action is implemented (it becomes done), or return it with a comment.

    Only the verifier the rules name, or the secretariat, may.

    Example: [bold]planwatch verify I.1a.1 --by ed-devcoop --comment "letter seen"[/]

    Example: [bold]planwatch verify I.1a.1 --return --comment "attach the letter"[/]
    """
    from engine.actions.followup import pending_report, return_report
    from engine.actions.followup import verify as verify_report
    from engine.errors import UsageError
    from engine.read.queries import find_action

    with open_session(ctx) as session:
        action = find_action(session, action_id)
        label = parse_day(occurrence, "--occurrence").isoformat() if occurrence else None
        report = pending_report(session, action, label)
        if report is None:
            raise UsageError(
                f"{action.ref} has no report waiting for verification; `planwatch to-verify` lists those that do"
            )
        what = f"{action.ref}, occurrence {report.occurrence}," if report.occurrence else action.ref
        if return_:
            return_report(session, report, current_time(), who=by, via="cli", comment=comment)
            said = f"{what} is returned to its owner, who is told why."
        else:
            verify_report(session, report, current_time(), who=by, via="cli", comment=comment, rating=rating)
            said = f"{what} is verified: [bold]done[/]."
    make_console().print(said)


@app.command()
def delay(
    ctx: typer.Context,
    action_id: Annotated[str, typer.Argument(metavar="ID")],
    cause: Annotated[str, typer.Argument(metavar="CAUSE", help="One of the rules' delay_causes.")],
    note: Note = "",
    by: By = os.environ.get("USER", "cli"),
) -> None:
    """Say why an action is late, with one of the causes the rules list (the report groups overdue actions by it).

    Example: [bold]planwatch delay II.3.1 "awaiting a decision" --note "budget committee meets in May"[/]
    """
    from engine.actions.followup import reporter_problem, set_delay_cause
    from engine.read.queries import find_action

    causes = load_ruleset(ctx).delay_causes
    with open_session(ctx) as session:
        action = find_action(session, action_id)
        check_by(ctx, reporter_problem(session, action, by, what=f"say why {action.ref} is late"))
        changed = set_delay_cause(session, action, cause, current_time(), who=by, via="cli", note=note, causes=causes)
    word = "is now" if changed else "was already"
    make_console().print(f"The cause of delay of {action.ref} {word} [bold]{cause}[/].")


@app.command("to-verify")
def to_verify(
    ctx: typer.Context,
    verifier: Annotated[
        str | None, typer.Option("--for", help="Whose queue (an owner id; default: every report waiting).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List the reports of implementation waiting for verification, oldest first.

    Example: [bold]planwatch to-verify --for ed-devcoop[/]
    """
    from sqlmodel import select

    from engine.actions.followup import pending_reports
    from engine.errors import UsageError
    from engine.store.models import Owner

    with open_session(ctx) as session:
        if verifier is not None and session.get(Owner, verifier) is None:
            raise UsageError(f"--for {verifier!r}: no one in the owners directory has this id (`planwatch owners`)")
        people = {o.id: o.name for o in session.exec(select(Owner)).all()}
        rows: list[dict[str, object]] = [
            {
                "action": action.ref,
                "occurrence": report.occurrence,
                "reported_at": report.reported_at.isoformat().replace("+00:00", "Z"),
                "reported_by": people.get(report.reported_by, report.reported_by),
                "verifier": people.get(report.verifier_id or "", "the secretariat"),
                "note": report.note,
                "links": list(report.links or []),
            }
            for report, action in pending_reports(session, verifier)
        ]
    _show_queue(rows, as_json)


def _show_queue(rows: list[dict[str, object]], as_json: bool) -> None:
    if as_json:
        for row in rows:
            emit_json(row)
        return
    console = make_console()
    if not rows:
        console.print("No report is waiting for verification.")
        return
    for row in rows:
        what = f"{row['action']} ({row['occurrence']})" if row["occurrence"] else str(row["action"])
        note = f': "{row["note"]}"' if row["note"] else ""
        console.print(
            f"{what}  reported {str(row['reported_at'])[:10]} by {row['reported_by']}{note}  → {row['verifier']}"
        )
