"""``planwatch run``: APScheduler as a metronome around ``run_tick``.

APScheduler holds no state of ours: its jobs are fixed, rebuilt at every start in a memory
job store. Everything that must survive a restart (``next_fire_at``, the outbox, digests sent)
lives in planwatch's tables, so a restart or a crash loses nothing and a late start catches up.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
from types import FrameType
from typing import Any

from rich.console import Console

from engine.channels import channel_for
from engine.clock import Clock, SystemClock
from engine.compose import renderer_for
from engine.digest import build_digests
from engine.errors import PlanwatchError
from engine.outbox import dispatch
from engine.planning import plan_due
from engine.rules.loader import RuleSet, load_rules
from engine.settings import Settings
from engine.store import ensure_schema, make_engine
from engine.store.state import set_state

log = logging.getLogger("planwatch.service")


class RulesHolder:
    """The rules in force; a reload that fails keeps the previous rules and says why."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.rules: RuleSet = load_rules(settings.rules_dir)
        self._stamp = self._mtimes()

    def _mtimes(self) -> tuple[float, ...]:
        folder = self.settings.rules_dir
        files = sorted(folder.glob("*.y*ml")) if folder.is_dir() else [folder]
        return tuple(p.stat().st_mtime for p in files if p.exists())

    def current(self) -> RuleSet:
        """Return the rules, reloading them when a file changed and the new ones are valid."""
        stamp = self._mtimes()
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                self.rules = load_rules(self.settings.rules_dir)
                log.info("rules reloaded from %s", self.settings.rules_dir)
            except PlanwatchError as exc:
                log.error("rules not reloaded, keeping the previous ones:\n%s", exc)
        return self.rules


def run_service(settings: Settings, *, interval: float = 60.0, console: Console | None = None, clock: Clock | None = None) -> None:
    """Plan every ``interval`` seconds, dispatch four times as often, bundle digests every five
    intervals, until SIGTERM or Ctrl-C; running jobs finish first."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    clock = clock or SystemClock()
    engine = make_engine(settings.database_url)
    ensure_schema(engine)
    holder = RulesHolder(settings)
    channel, renderer = channel_for(settings), renderer_for(settings)
    if not settings.secret_key:
        log.warning("PLANWATCH_SECRET_KEY is not set: action links are signed with the development key")

    def say(text: str) -> None:
        if console is not None:
            console.print(text)
        else:
            log.info("%s", text)

    node = f"{socket.gethostname()}:{os.getpid()}"

    def tick() -> None:
        now = clock.now()
        stats = plan_due(engine, holder.current(), now)
        set_state(engine, "last_tick", now.isoformat(), now)
        set_state(engine, f"node:{node}", now.isoformat(), now)
        log.info("tick planned %d action(s), queued %d message(s)", stats.actions, stats.pending,
                 extra={"node": node, "count": stats.pending, "tick_at": now.isoformat()})
        if stats.actions:
            say(f"{now:%Y-%m-%d %H:%M:%S}Z tick: {stats.actions} action(s) planned, {stats.pending} message(s) queued")

    def send() -> None:
        stats = dispatch(engine, channel, renderer, clock.now())
        if stats.sent or stats.failed or stats.retried:
            say(f"dispatch: {stats.sent} sent, {stats.failed} failed, {stats.retried} to retry")
        if stats.paused:
            say(f"dispatch paused: {stats.paused}")

    def digests() -> None:
        build_digests(engine, clock.now())

    # APScheduler is only the metronome: fixed jobs, rebuilt at every start, nothing of ours in its store.
    scheduler = BlockingScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None})
    start = clock.now()
    scheduler.add_job(tick, "interval", seconds=interval, id="tick", next_run_time=start)
    scheduler.add_job(send, "interval", seconds=max(interval / 4, 0.05), id="dispatch", next_run_time=start)
    scheduler.add_job(digests, "interval", seconds=max(interval * 5, 0.05), id="digests", next_run_time=start)

    def stop(signum: int, _frame: FrameType | None) -> None:
        say(f"Stopping after the current tick ({signal.Signals(signum).name}).")
        scheduler.shutdown(wait=True)

    previous: dict[int, Any] = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    say(f"planwatch is running: a tick every {interval:g} s on {settings.database_url}; mail: {_mail_target(settings)}. Ctrl-C stops.")
    try:
        scheduler.start()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        engine.dispose()
    say("Stopped.")


def _mail_target(settings: Settings) -> str:
    """Return where the mail goes, without any password."""
    if not settings.smtp_url:
        return f"Maildir {settings.maildir}"
    from engine.channels.smtp import parse_smtp_url

    return parse_smtp_url(settings.smtp_url).describe()
