"""Running a simulation or a preview for the CLI: scratch copies, Maildirs and a progress bar."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from engine.channels import Channel, NullChannel
from engine.channels.maildir import MaildirChannel
from engine.drive.replay import load_replay
from engine.drive.simulate import SimulationResult, simulate
from engine.mail.render import Renderer
from engine.rules.loader import RuleSet
from engine.settings import Settings
from engine.store.copy import copy_to_sqlite


@contextmanager
def scratch(engine: Engine, commit: bool, maildir: Path) -> Iterator[tuple[Engine, Path]]:
    """Yield (database, Maildir) to simulate on: the real ones with ``commit``, else throwaway copies."""
    if commit:
        yield engine, maildir
        return
    with tempfile.TemporaryDirectory(prefix="planwatch-sim-") as tmp:
        copy = copy_to_sqlite(engine, Path(tmp) / "scratch.db")
        try:
            yield copy, Path(tmp) / "maildir"
        finally:
            copy.dispose()


def day_start(day: date) -> datetime:
    """Return the start of ``day`` in UTC."""
    return datetime.combine(day, time(0), UTC)


def run_simulation(
    engine: Engine,
    settings: Settings,
    rules: RuleSet,
    renderer: Renderer,
    start: date,
    until: date,
    replay: Path | None,
    *,
    commit: bool = False,
    show_progress: bool = True,
    maildir: Path | None = None,
) -> SimulationResult:
    """Simulate from the start of ``start`` to the end of ``until``."""
    events = load_replay(replay) if replay else []
    begin, end = day_start(start), day_start(until + timedelta(days=1)) - timedelta(microseconds=1)
    with scratch(engine, commit, maildir or settings.maildir) as (db, box):
        # On a scratch copy nobody reads the messages: the dispatcher runs as usual, rendering is skipped.
        channel: Channel = MaildirChannel(box, durable=False) if commit or maildir else NullChannel()
        if not (show_progress and sys.stderr.isatty()):
            return simulate(db, rules, channel, renderer, begin, end, events)
        from rich.progress import Progress

        span = (end - begin).total_seconds()
        with Progress(transient=True) as bar:
            task = bar.add_task("Simulating the plan's life", total=span)
            return simulate(
                db,
                rules,
                channel,
                renderer,
                begin,
                end,
                events,
                on_tick=lambda now: bar.update(task, completed=(now - begin).total_seconds()),
            )


def preview_day(
    engine: Engine, settings: Settings, rules: RuleSet, renderer: Renderer, day: date
) -> list[dict[str, Any]]:
    """Return what would be sent on ``day`` (as if the service ran until then), touching nothing."""
    result = run_simulation(engine, settings, rules, renderer, day, day, None, show_progress=False)
    return result.notifications
