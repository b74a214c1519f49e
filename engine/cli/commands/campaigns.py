"""CLI commands for update campaigns: ``campaign start`` asks every owner for an update, ``campaign status``
shows who answered.

Importing this module registers them on ``engine.cli.common.app``; the library is imported inside the commands.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from engine.cli.common import By, app, current_time, load_ruleset, make_console, open_session, parse_day, settings_of

campaign_app = typer.Typer(
    help="Update campaigns: ask every owner to update their open actions at once, and see who answered.",
    no_args_is_help=True,
)
app.add_typer(campaign_app, name="campaign")
Plan = Annotated[str | None, typer.Option("--plan", help="The plan (needed when there are several).")]


@campaign_app.command("start")
def start(
    ctx: typer.Context,
    within: Annotated[int, typer.Option("--within", help="Ask about actions due within this many days.")] = 45,
    respond_by: Annotated[str | None, typer.Option("--respond-by", help="Answer by this day (YYYY-MM-DD).")] = None,
    note: Annotated[str, typer.Option("--note", help="A sentence for the owners, shown in the message.")] = "",
    no_overdue: Annotated[bool, typer.Option("--no-overdue", help="Leave out the overdue actions.")] = False,
    plan: Plan = None,
    by: By = os.environ.get("USER", "cli"),
) -> None:
    """Ask every owner with open actions due within --within days (and overdue ones) to update them all; each gets
    one message with a link per action and one to a page that updates them all at once.

    Example: [bold]planwatch campaign start --within 45 --respond-by 2000-06-15 --note "for the interim report"[/]
    """
    from engine.actions.campaigns import campaign_progress, pick_plan, start_campaign

    day = parse_day(respond_by, "--respond-by") if respond_by else None
    with open_session(ctx) as session:
        chosen = pick_plan(session, plan)
        made = start_campaign(
            session,
            chosen,
            current_time(),
            who=by,
            within_days=within,
            include_overdue=not no_overdue,
            respond_by=day,
            note=note,
            rules=load_ruleset(ctx) if settings_of(ctx).rules_dir.exists() else None,
        )
        asked = campaign_progress(session, made)
    actions = sum(len(a.actions) for a in asked)
    make_console().print(
        f"Campaign {made.id} ({made.title}): {len(asked)} owner(s) asked about {actions} action(s); "
        f"each message goes out in its owner's working day. See who answered with: planwatch campaign status {made.id}"
    )


@campaign_app.command("status")
def status(
    ctx: typer.Context,
    campaign_id: Annotated[
        int | None, typer.Argument(metavar="[ID]", help="The campaign (default: the newest).")
    ] = None,
) -> None:
    """Show a campaign's owners: what they were asked about, whether and when they answered.

    Example: [bold]planwatch campaign status[/] (the newest campaign), [bold]planwatch campaign status 3[/]
    """
    from rich.table import Table

    from engine.actions.campaigns import campaign_progress, find_campaign

    with open_session(ctx) as session:
        campaign = find_campaign(session, campaign_id)
        answers = campaign_progress(session, campaign)
    done = sum(1 for a in answers if a.answered_at is not None)
    table = Table(
        title=f"Campaign {campaign.id}: {campaign.title} ({campaign.plan_id}), {done} of {len(answers)} answered"
    )
    for column in ("Owner", "Asked about", "Answered (UTC)", "Updates"):
        table.add_column(column)
    for a in answers:
        when = a.answered_at.strftime("%Y-%m-%d %H:%M") if a.answered_at else "not yet"
        table.add_row(a.name, ", ".join(a.actions), when, str(a.updated))
    make_console().print(table)


@campaign_app.command("close")
def close(
    ctx: typer.Context,
    campaign_id: Annotated[int, typer.Argument(metavar="ID", help="The campaign to close.")],
) -> None:
    """Close a campaign: updates given from now on no longer count as answers to it.

    Example: [bold]planwatch campaign close 3[/]
    """
    from engine.actions.campaigns import close_campaign, find_campaign

    with open_session(ctx) as session:
        campaign = find_campaign(session, campaign_id)
        changed = close_campaign(session, campaign, current_time())
    make_console().print(f"Campaign {campaign.id} is {'now' if changed else 'already'} closed.")
