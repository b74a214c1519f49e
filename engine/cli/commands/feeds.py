"""CLI commands for calendar feeds: ``feeds build|url|revoke|rotate``.

Importing this module registers them on ``engine.cli.common.app``; heavy modules (SQLAlchemy,
icalendar) are imported inside the commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from engine.cli.common import app, current_time, make_console, open_engine, open_session, settings_of
from engine.errors import UsageError

if TYPE_CHECKING:
    from engine.calendars.build import Feed
    from engine.calendars.feeds import Link

feeds_app = typer.Typer(
    help="Calendar feeds: write them as files, and manage subscribers' secret links.", no_args_is_help=True
)
app.add_typer(feeds_app, name="feeds")


@feeds_app.command("build")
def build(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="Folder for the .ics files.")] = Path("calendars"),
) -> None:
    """Write every feed (each owner, each supervisor's team, each plan and Part) as .ics files.

    Example: [bold]planwatch feeds build --out calendars/[/] (only changed files are rewritten)
    """
    from engine.calendars.feeds import FeedService
    from engine.clock import FixedClock

    service = FeedService(open_engine(ctx), settings_of(ctx), FixedClock(current_time()))
    written = service.write_all(out)
    changed = sum(1 for _, was_changed in written if was_changed)
    make_console().print(f"{len(written)} feed(s) in {out}/, {changed} rewritten, {len(written) - changed} unchanged.")


def _feed(owner: str, team: bool, plan: str | None, part: str | None) -> Feed:
    from engine.calendars.build import Feed

    if part is not None and plan is None:
        raise UsageError("--part needs --plan: e.g. --plan gb276-tc2 --part II")
    if team and plan is not None:
        raise UsageError("choose one of --team and --plan")
    if plan is not None:
        return Feed("part", plan, part) if part is not None else Feed("plan", plan)
    return Feed("team" if team else "owner", owner)


def _print_links(ctx: typer.Context, links: list[Link]) -> None:
    base = settings_of(ctx).base_url
    for link in links:
        web, webcal = link.urls(base)
        typer.echo(f"{link.feed.id}\n  {web}\n  {webcal}")


@feeds_app.command("url")
def url(
    ctx: typer.Context,
    owner: Annotated[str, typer.Argument(metavar="OWNER", help="The subscriber (an owner id).")],
    team: Annotated[
        bool, typer.Option("--team", help="The feed of everyone below OWNER, with their open escalations.")
    ] = False,
    plan: Annotated[str | None, typer.Option("--plan", help="A whole plan's feed, by plan id.")] = None,
    part: Annotated[str | None, typer.Option("--part", help="One Part of --plan, e.g. II.")] = None,
) -> None:
    """Give OWNER a secret link to a feed and print its https:// and webcal:// addresses (shown once).

    Example: [bold]planwatch feeds url pardev[/], or [bold]planwatch feeds url ed-devcoop --team[/]
    """
    from engine.calendars.feeds import issue

    with open_session(ctx) as session:
        link = issue(session, owner, _feed(owner, team, plan, part), current_time())
    _print_links(ctx, [link])


@feeds_app.command("revoke")
def revoke(ctx: typer.Context, owner: Annotated[str, typer.Argument(metavar="OWNER")]) -> None:
    """Revoke every feed link of OWNER: their calendars stop updating (404).

    Example: [bold]planwatch feeds revoke ro-lima[/]
    """
    from engine.calendars.feeds import revoke as revoke_links

    with open_session(ctx) as session:
        feeds = revoke_links(session, owner, current_time())
    make_console().print(
        f"Revoked {len(feeds)} link(s) of {owner}" + (f": {', '.join(f.id for f in feeds)}." if feeds else ".")
    )


@feeds_app.command("rotate")
def rotate(ctx: typer.Context, owner: Annotated[str, typer.Argument(metavar="OWNER")]) -> None:
    """Replace OWNER's feed links by new ones (the old ones stop working) and print them.

    Example: [bold]planwatch feeds rotate pardev[/]
    """
    from engine.calendars.feeds import rotate as rotate_links

    with open_session(ctx) as session:
        links = rotate_links(session, owner, current_time())
    _print_links(ctx, links)
