"""CLI commands of the web pages: ``serve`` runs them, ``users login-link`` prints (or e-mails) a sign-in link.

Importing this module registers them on ``engine.cli.common.app``; heavy modules (FastAPI, uvicorn)
stay inside the commands.
"""

from __future__ import annotations

from typing import Annotated

import typer

from engine.cli.common import app, current_time, make_console, open_engine, open_session, parse_instant, settings_of

users_app = typer.Typer(help="People who use the web pages: sign-in links.", no_args_is_help=True)
app.add_typer(users_app, name="users")


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Serve as if the clock had started at this date or time and run on from there: a rehearsal or "
            "the demo walked through as it was (its links expire 60 days after their message).",
        ),
    ] = None,
) -> None:
    """Serve the web app (calendar feeds at /feeds/TOKEN.ics) with uvicorn.

    Example: [bold]planwatch serve --host 0.0.0.0 --port 8000[/] (set PLANWATCH_BASE_URL to the public address)
    """
    import uvicorn

    from engine.clock import ShiftedClock
    from engine.web import create_app

    clock = ShiftedClock(parse_instant(as_of, "--as-of")) if as_of else None
    uvicorn.run(
        create_app(settings_of(ctx), clock=clock, engine=open_engine(ctx)),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
    )


@users_app.command("login-link")
def login_link(
    ctx: typer.Context,
    owner_id: Annotated[str, typer.Argument(metavar="ID", help="The owner id (see `planwatch owners`).")],
    send: Annotated[bool, typer.Option("--send", help="E-mail it to the owner instead of printing it.")] = False,
) -> None:
    """Print a personal sign-in link for the web pages (single use, expires; needs PLANWATCH_SECRET_KEY).

    Example: [bold]planwatch users login-link pardev[/], or [bold]planwatch users login-link pardev --send[/]
    """
    from engine.actions.signin import reader_language, signin_message, signin_url
    from engine.read.queries import find_owner

    settings, now = settings_of(ctx), current_time()
    with open_session(ctx) as session:
        owner = find_owner(session, owner_id)
        url, language = signin_url(settings, owner.id, now), reader_language(session, owner)
    if not send:
        typer.echo(url)
        return
    from engine.channels import batch, channel_for

    with batch(channel_for(settings)) as channel:
        channel.deliver(signin_message(owner, url, settings, now, language))
    make_console().print(f"Sent a sign-in link to {owner.email}.")
