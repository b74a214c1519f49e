"""CLI commands about reading time frames: timeframe, review and set.

Each command is a few lines over the library; heavy imports stay inside the functions.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Annotated, Any, Optional

import typer

from engine.cli.main import (
    By,
    Note,
    _console,
    _emit_json,
    _now,
    _parse_date,
    _print_actions,
    _session,
    _settings,
    app,
)
from engine.errors import UsageError


@app.command()
def timeframe(
    text: Annotated[
        Optional[str], typer.Argument(help="The phrase; omit it to read one phrase per line from standard input.")
    ] = None,  # noqa: UP045
    ref: Annotated[str, typer.Option("--ref", help="The plan's reference date, YYYY-MM-DD.")] = ...,  # type: ignore[assignment]
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the reading as JSON (JSON Lines for standard input).")
    ] = False,
    fy_start: Annotated[
        Optional[int], typer.Option("--fy-start", min=1, max=12, help="First month of the fiscal year.")
    ] = None,  # noqa: UP045
) -> None:
    """Read a time-frame phrase the way planwatch does.

    Example: [bold]planwatch timeframe "First outputs by September 2000" --ref 1999-09-28 --json[/]
    """
    from engine.timeframe import parse

    reference = _parse_date(ref, "--ref")
    phrases = [text] if text is not None else [line.rstrip("\r\n") for line in sys.stdin]
    for phrase in phrases:
        schedule = parse(phrase, reference, fy_start=fy_start)
        if as_json:
            _emit_json(schedule.as_json())
        else:
            _console().print(
                f"[bold]{phrase!r}[/] → {schedule.kind}", json.dumps(schedule.as_json(), indent=2, ensure_ascii=False)
            )


@app.command()
def review(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False
) -> None:
    """List the actions whose time frame needs a human decision, with the reason.

    Example: [bold]planwatch review[/], then [bold]planwatch set II.2.6 --after II.1.1[/]
    """
    from engine.cli.present import review_table
    from engine.read.queries import ActionFilter, list_actions

    with _session(ctx) as session:
        rows = list_actions(session, ActionFilter(needs_review=True))
    _print_actions(rows, as_json, review_table)


@app.command("set")
def set_(
    ctx: typer.Context,
    action_id: Annotated[str, typer.Argument(metavar="ID")],
    due: Annotated[Optional[str], typer.Option("--due", help="Due date, YYYY-MM-DD.")] = None,  # noqa: UP045
    start: Annotated[Optional[str], typer.Option("--start", help="Start date, YYYY-MM-DD.")] = None,  # noqa: UP045
    rrule: Annotated[Optional[str], typer.Option("--rrule", help="Recurrence, e.g. FREQ=YEARLY.")] = None,  # noqa: UP045
    after: Annotated[Optional[str], typer.Option("--after", help="Due when this other action is due.")] = None,  # noqa: UP045
    kind: Annotated[
        Optional[str],
        typer.Option("--kind", help="deadline, start, window, recurring, continuous, event or unscheduled."),
    ] = None,  # noqa: UP045
    note: Note = "",
    by: By = os.environ.get("USER", "cli"),
) -> None:
    """Decide how an action's time frame is read; the decision is recorded and clears the review flag.

    Example: [bold]planwatch set III.d.2 --due 2000-12-31 --note "agreed with PARDEV"[/]
    """
    from engine.actions.workflow import set_schedule
    from engine.read.queries import find_action
    from engine.rules import events as event_rules

    values = _schedule_values(due=due, start=start, rrule=rrule, after=after, kind=kind)
    named = event_rules.load(_settings(ctx).rules_dir / "events.yaml")
    with _session(ctx) as session:
        action = find_action(session, action_id)
        set_schedule(session, action, values, _now(), who=by, via="cli", note=note, events=named)
        from engine.cli.present import reading

        _console().print(f"{action.ref} is now read as: [green]{reading(action)}[/]")


def _schedule_values(**given: str | None) -> dict[str, Any]:
    from engine.importers.planyaml import ScheduleOverride

    values: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
    for key in ("due", "start"):
        if key in values:
            values[key] = _parse_date(values[key], f"--{key}")
    try:
        checked = ScheduleOverride.model_validate(values)
    except ValueError as exc:
        first = exc.errors()[0] if hasattr(exc, "errors") else {"loc": ("?",), "msg": str(exc)}
        raise UsageError(
            f"--{first['loc'][0] if first['loc'] else 'value'}: {str(first['msg']).removeprefix('Value error, ')}"
        ) from None
    return checked.model_dump(exclude_none=True)
