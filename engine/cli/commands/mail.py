"""CLI commands of e-mail: the outbox (list it, retry what failed), templates check, send-test,
dispatch and preview.

Each command is a few lines over the library; heavy imports stay inside the functions.
"""

from __future__ import annotations

from typing import Annotated

import typer

from engine.cli.common import (
    app,
    current_time,
    emit_json,
    load_ruleset,
    make_console,
    make_renderer,
    open_engine,
    open_session,
    parse_day,
    settings_of,
)
from engine.errors import InputError, OperationalError, ValidationErrors

outbox_app = typer.Typer(
    help="The outbox: every message planned. Without a command, list it.", invoke_without_command=True
)
app.add_typer(outbox_app, name="outbox")
templates_app = typer.Typer(help="E-mail templates: check them.", no_args_is_help=True)
app.add_typer(templates_app, name="templates")


@outbox_app.callback()
def outbox(
    ctx: typer.Context,
    status: Annotated[
        str | None, typer.Option("--status", help="pending, sent, failed, suppressed, held or digested.")
    ] = None,
    pending: Annotated[bool, typer.Option("--pending", help="Only pending messages.")] = False,
    failed: Annotated[bool, typer.Option("--failed", help="Only failed messages.")] = False,
    sent: Annotated[bool, typer.Option("--sent", help="Only sent messages.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List the outbox: every message planned, with its status and reason.

    Example: [bold]planwatch outbox --failed[/], or [bold]planwatch outbox retry --failed[/]
    """
    if ctx.invoked_subcommand is not None:
        return
    from engine.cli.present import outbox_table
    from engine.read.explain import outbox_rows

    wanted = status or ("pending" if pending else "failed" if failed else "sent" if sent else None)
    with open_session(ctx) as session:
        rows = outbox_rows(session, wanted)
    if as_json:
        for row in rows:
            emit_json(row)
        return
    make_console().print(outbox_table(rows))


@outbox_app.command("retry")
def outbox_retry(
    ctx: typer.Context,
    failed: Annotated[bool, typer.Option("--failed", help="The failed messages (the only ones retried).")] = True,
    since: Annotated[
        str | None, typer.Option("--since", help="Only those that failed on or after this day (YYYY-MM-DD, UTC).")
    ] = None,
    action: Annotated[
        str | None, typer.Option("--action", help="Only those about this action (ID or PLAN/ID).")
    ] = None,
    by: Annotated[str | None, typer.Option("--by", help="Who put them back (default: $USER).")] = None,
) -> None:
    """Put failed messages back in the queue: they go out at the next dispatch, with the same Message-ID.

    Example: [bold]planwatch outbox retry --failed --since 2000-03-17[/]
    """
    import getpass
    from datetime import UTC, datetime, time

    from engine.outbox import requeue

    if not failed:
        raise InputError("--no-failed: only failed messages can be put back in the queue")
    start = datetime.combine(parse_day(since, "--since"), time(0), UTC) if since else None
    engine, now = open_engine(ctx), current_time()
    action_id = None
    if action is not None:
        from engine.read.queries import find_action

        with open_session(ctx) as session:
            action_id = find_action(session, action).id
    with engine.connect() as conn:
        rows = requeue(conn, now, since=start, action_id=action_id, by=by or getpass.getuser())
    console = make_console()
    if not rows:
        console.print("No failed message matches: nothing was put back.")
        return
    console.print(f"Put {len(rows)} failed message(s) back in the queue; they go out at the next dispatch:")
    for row in rows:
        console.print(
            f"  {row['type']} to {row['recipient']} (was: {row['last_error'] or 'no error kept'})", markup=False
        )


@templates_app.command("check")
def templates_check(ctx: typer.Context) -> None:
    """Render every e-mail template against sample messages; list each problem as FILE:LINE: message.

    Example: [bold]planwatch templates check[/] (exit code 2 when a template is broken)
    """
    from engine.mail.checks import check_templates

    renderer = make_renderer(ctx)
    problems = check_templates(renderer)
    if problems:
        raise ValidationErrors(InputError(p) for p in problems)
    make_console().print(f"{len(renderer.names())} templates render, build and parse back: all good.")


@app.command("send-test")
def send_test(
    ctx: typer.Context, to: Annotated[str, typer.Option("--to", help="The address to send a sample reminder to.")]
) -> None:
    """Send a sample reminder now over the configured channel (SMTP when PLANWATCH_SMTP_URL is set).

    Example: [bold]PLANWATCH_SMTP_URL=smtp://127.0.0.1:8025 planwatch send-test --to me@example.org[/]
    """
    from engine.channels import DeliveryError, channel_for
    from engine.drive.preview import send_test as send

    settings = settings_of(ctx)
    try:
        message = send(channel_for(settings), make_renderer(ctx), to, current_time())
    except ValueError as exc:
        raise InputError(f"--to: {exc}") from None
    except DeliveryError as exc:
        raise OperationalError(f"the test message was not sent: {exc}") from None
    where = "over SMTP" if settings.smtp_url else f"to the Maildir {settings.maildir}"
    make_console().print(f"Sent {message['Message-ID']} to {to} {where}.")


@app.command("dispatch")
def dispatch_(ctx: typer.Context) -> None:
    """Run one dispatch pass: send every pending message that is due, over the configured channel.

    Example: [bold]planwatch dispatch[/] (exit code 1 when mail delivery is paused)
    """
    from engine.channels import channel_for
    from engine.channels.admin import admin_route
    from engine.drive.dispatch import dispatch

    settings = settings_of(ctx)
    stats = dispatch(open_engine(ctx), channel_for(settings), make_renderer(ctx), current_time())
    route = admin_route(settings)
    if route is not None:
        for alert in stats.alerts:
            route.tell(alert)
    make_console().print(
        f"Sent {stats.sent}, failed {stats.failed}, retrying {stats.retried}, deferred {stats.deferred}, "
        f"dropped as no longer true {stats.suppressed}."
    )
    if stats.paused:
        raise OperationalError(f"mail delivery is paused: {stats.paused}")


@app.command()
def preview(
    ctx: typer.Context,
    day: Annotated[str, typer.Option("--date", help="The day to preview (YYYY-MM-DD).")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    render: Annotated[bool, typer.Option("--render", help="Show each message as it would be sent.")] = False,
    action: Annotated[
        str | None, typer.Option("--action", help="Only messages about this action (with --render).")
    ] = None,
) -> None:
    """List everything that would be sent on a day and why, without sending or recording anything.

    Example: [bold]planwatch preview --date 2000-04-28[/],
    or [bold]planwatch preview --date 2000-03-31 --render --action I.1a.1[/]
    """
    from engine.cli.present import simulation_table

    if render or action:
        from engine.drive.preview import preview_rendered, print_rendered

        rows = preview_rendered(
            open_engine(ctx), settings_of(ctx), load_ruleset(ctx), make_renderer(ctx), parse_day(day, "--date"), action
        )
        if not as_json:
            print_rendered(make_console(), rows)
            return
    else:
        from engine.drive.rehearse import preview_day

        rows = preview_day(
            open_engine(ctx), settings_of(ctx), load_ruleset(ctx), make_renderer(ctx), parse_day(day, "--date")
        )
    if as_json:
        for row in rows:
            emit_json(row)
        return
    console = make_console()
    console.print(simulation_table(rows, title=f"Would be sent on {day}", width=console.width))
