"""What every command module shares: the root Typer app, its options, and small helpers.

Command modules import this module and register their commands on ``app``; it imports no
command module. Heavy modules (SQLAlchemy, rich, the rules and mail packages) are imported
inside the helpers so ``planwatch --help`` stays fast.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from engine.errors import UsageError

if TYPE_CHECKING:
    from rich.console import Console
    from sqlalchemy.engine import Engine
    from sqlmodel import Session

    from engine.mail.render import Renderer
    from engine.rules.loader import RuleSet
    from engine.settings import Settings

app = typer.Typer(
    name="planwatch",
    help="Turn an implementation plan into reminders, calendar feeds and escalations.\n\n"
    "Start with:  planwatch import plans/gb276-tc2-implementation-plan.txt  then  planwatch actions",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)

Note = Annotated[str, typer.Option("--note", help="Why, in a sentence.")]
By = Annotated[str, typer.Option("--by", help="Who made the change (default: $USER).")]


@app.callback()
def _root(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option("--db", help="Database URL (default: $PLANWATCH_DATABASE_URL or sqlite:///planwatch.db)."),
    ] = None,
    rules: Annotated[Path | None, typer.Option("--rules", help="Rules folder (default: rules/).")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    from engine.settings import Settings

    ctx.obj = Settings.from_environ(os.environ, database_url=db, rules_dir=rules, debug=debug or None)


def settings_of(ctx: typer.Context) -> Settings:
    """Return the settings the root command built from the environment and its options."""
    return ctx.find_root().obj  # type: ignore[no-any-return]


def make_console() -> Console:
    """Return a console for human output: wrapped on a terminal, unwrapped when piped."""
    from rich.console import Console

    if sys.stdout.isatty():
        return Console(highlight=False)
    # Piped or captured: no wrapping of lines, tables as wide as they need.
    return Console(highlight=False, soft_wrap=True, width=int(os.environ.get("COLUMNS", "160")))


def current_time() -> datetime:
    """Return the time now, aware, in UTC (the system clock)."""
    from engine.clock import SystemClock

    return SystemClock().now()


def open_engine(ctx: typer.Context, *, ensure: bool = True) -> Engine:
    """Open the database engine, disposed when the command ends; create the schema unless ``ensure`` is false."""
    from engine.store import ensure_schema, make_engine

    engine = make_engine(settings_of(ctx).database_url)
    ctx.call_on_close(engine.dispose)
    if ensure:
        ensure_schema(engine)
    return engine


@contextmanager
def open_session(ctx: typer.Context) -> Iterator[Session]:
    """Yield a session in one transaction, committed when the block ends without an error."""
    from engine.store import transaction

    with transaction(open_engine(ctx)) as session:
        yield session


def load_ruleset(ctx: typer.Context) -> RuleSet:
    """Load the rule files of the ``--rules`` folder."""
    from engine.rules.loader import load_rules

    return load_rules(settings_of(ctx).rules_dir)


def make_renderer(ctx: typer.Context) -> Renderer:
    """Return the e-mail template renderer the settings choose."""
    from engine.languages import cache_folder
    from engine.mail.compose import renderer_for

    return renderer_for(settings_of(ctx), cache_folder() / "templates")


def emit_json(obj: Any) -> None:
    """Write one JSON object as one line on standard output."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")


def parse_day(value: str, option: str) -> date:
    """Read ``YYYY-MM-DD`` given to ``option``; a usage error names the option otherwise."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option}: expected a date YYYY-MM-DD, got {value!r}") from None


def parse_instant(value: str, option: str) -> datetime:
    """Read a day (midnight UTC) or an ISO time with a zone given to ``option``; return it in UTC."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{option}: expected a date or an ISO time like 2000-04-28T09:00Z, got {value!r}") from None
    if parsed.tzinfo is None:
        if "T" in value or " " in value:
            raise UsageError(f"{option}: give a time zone, e.g. {value}Z or {value}+02:00")
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
