"""CLI commands of the web pages: ``users login-link`` prints (or e-mails) a personal sign-in link.

Importing this module registers them on ``engine.cli.app``; heavy modules stay inside the commands.
"""

from __future__ import annotations

from typing import Annotated

import typer

from engine.cli.main import _console, _now, _session, _settings, app

users_app = typer.Typer(help="People who use the web pages: sign-in links.", no_args_is_help=True)
app.add_typer(users_app, name="users")


@users_app.command("login-link")
def login_link(
    ctx: typer.Context,
    owner_id: Annotated[str, typer.Argument(metavar="ID", help="The owner id (see `planwatch owners`).")],
    send: Annotated[bool, typer.Option("--send", help="E-mail it to the owner instead of printing it.")] = False,
) -> None:
    """Print a personal sign-in link for the web pages (single use, expires; needs PLANWATCH_SECRET_KEY).

    Example: [bold]planwatch users login-link pardev[/], or [bold]planwatch users login-link pardev --send[/]
    """
    from engine.actions.signin import signin_message, signin_url
    from engine.read.queries import find_owner

    settings, now = _settings(ctx), _now()
    with _session(ctx) as session:
        owner = find_owner(session, owner_id)
        url = signin_url(settings, owner.id, now)
    if not send:
        typer.echo(url)
        return
    from engine.channels import batch, channel_for

    with batch(channel_for(settings)) as channel:
        channel.deliver(signin_message(owner, url, settings, now))
    _console().print(f"Sent a sign-in link to {owner.email}.")
