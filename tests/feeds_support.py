"""Shared set-up for the calendar-feed tests: the example plan in a real database, a feed service, parsing."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import icalendar
from sqlalchemy import Engine

from engine.calendars.build import Feed, FeedOptions
from engine.calendars.feeds import FeedService
from engine.clock import FixedClock
from engine.importing import import_paths
from engine.settings import Settings
from engine.store import make_engine, upgrade

from .conftest import OWNERS, ROOT, SEED

T0 = datetime(1999, 10, 1, 8, tzinfo=UTC)  # when the example plan is imported
NOW = datetime(2000, 6, 1, 12, tzinfo=UTC)
BASE = "https://planwatch.example.org"
PLAN = "gb276-tc2"


def settings_for(url: str, **changes: object) -> Settings:
    """Settings for tests: the project's rules, a public base URL, no feed caching."""
    base = Settings(
        database_url=url,
        rules_dir=ROOT / "rules",
        templates_dir=ROOT / "templates",
        base_url=BASE,
        feed_cache_seconds=0,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def example_engine(url: str, extra: list[Path] | None = None) -> Engine:
    """A database holding the example plan and owners, imported at ``T0``."""
    engine = make_engine(url)
    upgrade(engine)
    import_paths(engine, [OWNERS, SEED, *(extra or [])], settings_for(url), T0)
    return engine


def service(engine: Engine, url: str, now: datetime = NOW, **changes: object) -> FeedService:
    """A feed service over ``engine`` at the fixed time ``now``."""
    return FeedService(engine, settings_for(url, **changes), FixedClock(now))


def body(svc: FeedService, feed: Feed | str, options: FeedOptions = FeedOptions()) -> bytes:
    """Return the bytes of one feed (``feed`` may be an id like ``owner:pardev``)."""
    chosen = Feed.parse(feed) if isinstance(feed, str) else feed
    return svc.document(chosen, options).body


def parse(data: bytes) -> icalendar.Calendar:
    """Parse a feed with icalendar (strictly: the whole text must be one calendar)."""
    return icalendar.Calendar.from_ical(data)


def events(data: bytes, name: str = "VEVENT") -> list[icalendar.cal.Component]:
    """Return the components called ``name`` of a feed."""
    return [c for c in parse(data).walk(name)]


def by_summary(data: bytes, pattern: str) -> list[icalendar.cal.Component]:
    """Return the events whose summary matches ``pattern`` (a regular expression)."""
    return [e for e in events(data) if re.search(pattern, str(e.get("summary")))]
