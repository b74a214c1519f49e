"""CLI commands for calendar feeds: ``feeds build|url|revoke|rotate`` and ``serve``.

Importing this module registers them on ``engine.cli.app``; heavy modules (SQLAlchemy,
icalendar, FastAPI, uvicorn) are imported inside the commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from engine.cli.main import _console, _engine, _now, _session, _settings, app
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

    service = FeedService(_engine(ctx), _settings(ctx), FixedClock(_now()))
    written = service.write_all(out)
    changed = sum(1 for _, was_changed in written if was_changed)
    _console().print(f"{len(written)} feed(s) in {out}/, {changed} rewritten, {len(written) - changed} unchanged.")


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
    base = _settings(ctx).base_url
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
    plan: Annotated[Optional[str], typer.Option("--plan", help="A whole plan's feed, by plan id.")] = None,  # noqa: UP045
    part: Annotated[Optional[str], typer.Option("--part", help="One Part of --plan, e.g. II.")] = None,  # noqa: UP045
) -> None:
    """Give OWNER a secret link to a feed and print its https:// and webcal:// addresses (shown once).

    Example: [bold]planwatch feeds url pardev[/], or [bold]planwatch feeds url ed-devcoop --team[/]
    """
    from engine.calendars.feeds import issue

    with _session(ctx) as session:
        link = issue(session, owner, _feed(owner, team, plan, part), _now())
    _print_links(ctx, [link])


@feeds_app.command("revoke")
def revoke(ctx: typer.Context, owner: Annotated[str, typer.Argument(metavar="OWNER")]) -> None:
    """Revoke every feed link of OWNER: their calendars stop updating (404).

    Example: [bold]planwatch feeds revoke ro-lima[/]
    """
    from engine.calendars.feeds import revoke as revoke_links

    with _session(ctx) as session:
        feeds = revoke_links(session, owner, _now())
    _console().print(
        f"Revoked {len(feeds)} link(s) of {owner}" + (f": {', '.join(f.id for f in feeds)}." if feeds else ".")
    )


@feeds_app.command("rotate")
def rotate(ctx: typer.Context, owner: Annotated[str, typer.Argument(metavar="OWNER")]) -> None:
    """Replace OWNER's feed links by new ones (the old ones stop working) and print them.

    Example: [bold]planwatch feeds rotate pardev[/]
    """
    from engine.calendars.feeds import rotate as rotate_links

    with _session(ctx) as session:
        links = rotate_links(session, owner, _now())
    _print_links(ctx, links)


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
) -> None:
    """Serve the web app (calendar feeds at /feeds/TOKEN.ics) with uvicorn.

    Example: [bold]planwatch serve --host 0.0.0.0 --port 8000[/] (set PLANWATCH_BASE_URL to the public address)
    """
    import uvicorn

    from engine.web import create_app

    uvicorn.run(
        create_app(_settings(ctx), engine=_engine(ctx)), host=host, port=port, log_level="warning", access_log=False
    )
