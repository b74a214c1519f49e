"""CLI commands for the changes people make to an action: done (reported implemented, or done at once when the
rules close in one step), drop, reopen, progress, extend, hold, reassign, not-mine, and ack for an escalation.

Each command is a few lines over engine.actions.workflow; heavy imports stay inside the functions.
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
    load_ruleset,
    make_console,
    open_session,
    parse_day,
    settings_of,
)


@app.command()
def done(
    ctx: typer.Context,
    action_id: Annotated[str, typer.Argument(metavar="ID")],
    note: Note = "",
    by: By = os.environ.get("USER", "cli"),
    occurrence: Annotated[
        str | None, typer.Option("--occurrence", help="For a recurring action: which occurrence (YYYY-MM-DD).")
    ] = None,
    link: Annotated[
        list[str] | None, typer.Option("--link", help="A link to the evidence (a document, a page); repeat for more.")
    ] = None,
    rating: Annotated[
        str, typer.Option("--rating", help="implemented, partially_implemented or not_implemented.")
    ] = "implemented",
) -> None:
    """Report an action (or one occurrence of a recurring action) implemented.

    Under two-step closure (the shipped rules) the verifier the rules name is asked to confirm it; then it is done.

    With [bold]closure: {steps: 1}[/] in the rules it is done at once.

    Example: [bold]planwatch done I.1a.1 --note "circulated 12 April" --link https://intranet.example.org/l.pdf[/]
    """
    from engine.actions.evidence import EvidenceError, check_link
    from engine.actions.followup import report_implemented, reporter_problem
    from engine.cli.commands.followup import check_by
    from engine.errors import UsageError
    from engine.read.queries import find_action

    try:
        links = [check_link(one) for one in link or ()]
    except EvidenceError as problem:
        raise UsageError(f"--link {problem}") from None

    # without a rules folder the defaults apply (two steps, the supervisor verifies); a broken one is an error
    rules = load_ruleset(ctx) if settings_of(ctx).rules_dir.exists() else None
    with open_session(ctx) as session:
        action = find_action(session, action_id)
        check_by(ctx, reporter_problem(session, action, by, what=f"report {action.ref} implemented"))
        day = parse_day(occurrence, "--occurrence") if occurrence else None
        decision = report_implemented(
            session,
            action,
            current_time(),
            who=by,
            via="cli",
            note=note,
            links=links,
            owner_rating=rating,
            occurrence=day,
            rules=rules,
        )
        verifier = decision.verifier.name if decision.verifier is not None else "the secretariat"
    subject = action.ref if decision.what == "the action" else f"{action.ref}, {decision.what},"
    if decision.report is None:
        word = "is now" if decision.changed else "was already"
        make_console().print(f"{subject} {word} [bold]done[/].")
        return
    word = "is" if decision.changed else "was already"
    make_console().print(f"{subject} {word} [bold]reported implemented[/]; {verifier} is asked to verify it.")


@app.command()
def drop(
    ctx: typer.Context,
    action_id: Annotated[str, typer.Argument(metavar="ID")],
    note: Note = "",
    by: By = os.environ.get("USER", "cli"),
) -> None:
    """Drop an action that will not be done: reminders stop, escalations close.
    Example: [bold]planwatch drop III.d.3 --note "superseded"[/]"""
    _change_status(ctx, action_id, "dropped", note, by)


@app.command()
def reopen(
    ctx: typer.Context,
    action_id: Annotated[str, typer.Argument(metavar="ID")],
    note: Note = "",
    by: By = os.environ.get("USER", "cli"),
) -> None:
    """Open a done or dropped action again, or take back a report of implementation still waiting for
    verification. Example: [bold]planwatch reopen I.1a.1[/]"""
    _change_status(ctx, action_id, "open", note, by)


def _change_status(ctx: typer.Context, action_id: str, status: str, note: str, by: str) -> None:
    from engine.actions.workflow import set_status
    from engine.read.queries import find_action

    with open_session(ctx) as session:
        action = find_action(session, action_id)
        changed = set_status(session, action, status, current_time(), who=by, via="cli", note=note)
    word = "is now" if changed else "was already"
    make_console().print(f"{action.ref} {word} [bold]{status}[/].")


@app.command("progress")
def progress_(
    ctx: typer.Context,
    action_id: Annotated[str, typer.Argument(metavar="ID")],
    note: Annotated[str, typer.Option("--note", help="What happened.")],
    at_risk: Annotated[bool, typer.Option("--at-risk", help="Say the date is at risk.")] = False,
    percent: Annotated[int | None, typer.Option("--percent", help="How far along it is, 0 to 100.")] = None,
    by: By = os.environ.get("USER", "cli"),
) -> None:
    """Report progress on an action (answers a check-in); each report is kept as a dated update.
    Example: [bold]planwatch progress II.3.5 --note "two workshops held" --percent 40[/]"""
    from engine.actions.followup import reporter_problem
    from engine.actions.workflow import progress
    from engine.cli.commands.followup import check_by
    from engine.read.queries import find_action

    with open_session(ctx) as session:
        action = find_action(session, action_id)
        check_by(ctx, reporter_problem(session, action, by, what=f"report progress on {action.ref}"))
        state = "at risk" if at_risk else "on track"
        progress(session, action, current_time(), who=by, via="cli", note=note, state=state, percent=percent)
    make_console().print(f"Progress on {action.ref} recorded.")


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

    with open_session(ctx) as session:
        action = find_action(session, action_id)
        extend_action(session, action, parse_day(to, "--to"), current_time(), who=by, via="cli", reason=reason)
    make_console().print(f"{action.ref} is now due {to}.")


@app.command()
def hold(
    ctx: typer.Context,
    action_id: Annotated[str, typer.Argument(metavar="ID")],
    reason: Annotated[str, typer.Option("--reason", help="Why it is on hold.")] = "",
    by: By = os.environ.get("USER", "cli"),
) -> None:
    """Put an action on hold: reminders stop until it is reopened.
    Example: [bold]planwatch hold III.d.2 --reason "awaiting EU mandate"[/]"""
    from engine.actions.workflow import hold as hold_action
    from engine.read.queries import find_action

    with open_session(ctx) as session:
        action = find_action(session, action_id)
        hold_action(session, action, current_time(), who=by, via="cli", reason=reason)
    make_console().print(f"{action.ref} is on hold.")


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
    from engine.errors import UsageError
    from engine.read.queries import find_action
    from engine.store.models import Owner

    with open_session(ctx) as session:
        action = find_action(session, action_id)
        person = session.get(Owner, owner)
        name = person.name if person is not None else owner
        if person is not None and action.owner_id == owner:
            raise UsageError(f"{name} already owns {action.ref}; nothing changed")
        reassign_action(session, action, owner, current_time(), who=by, via="cli", note=note)
    make_console().print(f"{action.ref} now belongs to {name}.")


@app.command("not-mine")
def not_mine_(
    ctx: typer.Context,
    action_id: Annotated[str, typer.Argument(metavar="ID")],
    note: Note = "",
    by: By = os.environ.get("USER", "cli"),
) -> None:
    """Hand an action back: the secretariat is told and it waits for a new owner.
    Example: [bold]planwatch not-mine I.2c.3[/]"""
    from engine.actions.workflow import not_mine
    from engine.read.queries import find_action

    with open_session(ctx) as session:
        action = find_action(session, action_id)
        not_mine(session, action, current_time(), who=by, via="cli", note=note)
    make_console().print(f"{action.ref} has no owner now; the secretariat will be told.")


@app.command()
def ack(
    ctx: typer.Context,
    escalation_id: Annotated[int, typer.Argument(metavar="ESCALATION")],
    note: Note = "",
    by: By = os.environ.get("USER", "cli"),
) -> None:
    """Acknowledge an escalation; its step stops repeating. Example: [bold]planwatch ack 12 --note "spoke to Mei"[/]"""
    from engine.actions.workflow import acknowledge, may_acknowledge
    from engine.errors import UsageError
    from engine.store.models import Escalation, Owner

    with open_session(ctx) as session:
        person = session.get(Owner, by)
        step = session.get(Escalation, escalation_id)
        if person is None and step is not None:
            raise UsageError(
                f"--by {by!r}: no one in the owners directory has this id; give your own id (`planwatch owners` "
                "lists them)"
            )
        if person is not None and step is not None and not may_acknowledge(session, step, by):
            sent = [session.get(Owner, r) for r in step.recipients]
            names = ", ".join(o.name if o is not None else r for o, r in zip(sent, step.recipients, strict=True))
            raise UsageError(
                f"{person.name} may not acknowledge escalation {escalation_id}: it was sent to {names or 'nobody'}, "
                "and only they or someone above them in the chain may acknowledge it"
            )
        entry = acknowledge(session, escalation_id, current_time(), who=by, note=note)
        who = session.get(Owner, entry.acknowledged_by or "")
        name = who.name if who is not None else entry.acknowledged_by
    make_console().print(f"Escalation {entry.id} ({entry.step} of {entry.occurrence}) acknowledged by {name}.")
