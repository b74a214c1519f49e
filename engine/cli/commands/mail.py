"""CLI commands of e-mail delivery: templates check, send-test, dispatch.

Each command is a few lines over the library; heavy imports stay inside the functions.
"""

from __future__ import annotations

from typing import Annotated

import typer

from engine.cli.main import _console, _engine, _now, _settings, app
from engine.errors import InputError, OperationalError, ValidationErrors

templates_app = typer.Typer(help="E-mail templates: check them.", no_args_is_help=True)
app.add_typer(templates_app, name="templates")


@templates_app.command("check")
def templates_check(ctx: typer.Context) -> None:
    """Render every e-mail template against sample messages; list each problem as FILE:LINE: message.

    Example: [bold]planwatch templates check[/] (exit code 2 when a template is broken)
    """
    from engine.mail.checks import check_templates
    from engine.mail.compose import renderer_for

    renderer = renderer_for(_settings(ctx))
    problems = check_templates(renderer)
    if problems:
        raise ValidationErrors(InputError(p) for p in problems)
    _console().print(f"{len(renderer.names())} templates render, build and parse back: all good.")


@app.command("send-test")
def send_test(
    ctx: typer.Context, to: Annotated[str, typer.Option("--to", help="The address to send a sample reminder to.")]
) -> None:
    """Send a sample reminder now over the configured channel (SMTP when PLANWATCH_SMTP_URL is set).

    Example: [bold]PLANWATCH_SMTP_URL=smtp://127.0.0.1:8025 planwatch send-test --to me@example.org[/]
    """
    from engine.channels import DeliveryError, channel_for
    from engine.mail.compose import renderer_for
    from engine.mail.preview import send_test as send

    settings = _settings(ctx)
    try:
        message = send(channel_for(settings), renderer_for(settings), to, _now())
    except ValueError as exc:
        raise InputError(f"--to: {exc}") from None
    except DeliveryError as exc:
        raise OperationalError(f"the test message was not sent: {exc}") from None
    where = "over SMTP" if settings.smtp_url else f"to the Maildir {settings.maildir}"
    _console().print(f"Sent {message['Message-ID']} to {to} {where}.")


@app.command("dispatch")
def dispatch_(ctx: typer.Context) -> None:
    """Run one dispatch pass: send every pending message that is due, over the configured channel.

    Example: [bold]planwatch dispatch[/] (exit code 1 when mail delivery is paused)
    """
    from engine.channels import channel_for
    from engine.drive.dispatch import dispatch
    from engine.mail.compose import renderer_for

    settings = _settings(ctx)
    stats = dispatch(_engine(ctx), channel_for(settings), renderer_for(settings), _now())
    _console().print(
        f"Sent {stats.sent}, failed {stats.failed}, retrying {stats.retried}, deferred {stats.deferred}, "
        f"dropped as no longer true {stats.suppressed}."
    )
    if stats.paused:
        raise OperationalError(f"mail delivery is paused: {stats.paused}")
