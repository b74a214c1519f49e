"""Serving and writing calendar feeds: subscriber tokens and the feed service.

A subscriber's token is 192 random bits (``secrets``); the store keeps only its SHA-256, looks
a presented token up by that hash and compares in constant time. Tokens are revoked or
rotated per subscriber. ``FeedService`` builds the event set of the store (reading it, and
recording changed events in the registry so their SEQUENCE rises) at most once per
``feed_cache_seconds`` and keeps each rendered feed until the next build.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import Connection, Engine, update
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from engine.calendars.build import EventSet, Feed, FeedDocument, FeedOptions, RegistryEntry, compose, write_feeds
from engine.calendars.cache import EventCache
from engine.calendars.feed_store import load_feed_data, sync_registry
from engine.clock import Clock
from engine.errors import InputError, NotFoundError, UsageError
from engine.languages import LANGUAGES, language_of
from engine.rules.loader import RuleSet, load_rules
from engine.settings import Settings
from engine.store import tables
from engine.store.feed_models import FeedToken
from engine.store.models import Owner, Plan, Section

TOKEN_BYTES = 24  # 192 bits; at least 128 are required
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{22,128}$")
T = tables.FEED_TOKEN


def token_hash(token: str) -> str:
    """Return the stored form of a token: its SHA-256, hex (the token has enough entropy for a fast hash)."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Link:
    """A subscriber's new link: the feed and the secret token (shown once, never stored)."""

    feed: Feed
    token: str

    def urls(self, base_url: str) -> tuple[str, str]:
        """Return the https:// (or http://) address and the webcal:// one."""
        path = f"/feeds/{self.token}.ics"
        web = base_url.rstrip("/") + path
        parts = urlsplit(web)
        return web, urlunsplit(("webcal", parts.netloc, parts.path, "", ""))


def check_feed(session: Session, feed: Feed) -> None:
    """Raise ``NotFoundError`` when the feed names an owner, plan or Part the store does not have."""
    if feed.kind in {"owner", "team"} and session.get(Owner, feed.subject) is None:
        raise NotFoundError(f"no owner {feed.subject!r}; `planwatch owners` lists them")
    if feed.kind in {"plan", "part"} and session.get(Plan, feed.subject) is None:
        raise NotFoundError(f"no plan {feed.subject!r}")
    if feed.kind == "part":
        found = session.exec(
            select(Section.key).where(
                Section.plan_id == feed.subject, Section.key == feed.part, Section.level == "part"
            )
        ).first()
        if found is None:
            raise NotFoundError(f"plan {feed.subject!r} has no Part {feed.part!r}")


def issue(session: Session, subscriber: str, feed: Feed, now: datetime) -> Link:
    """Give ``subscriber`` a new secret link to ``feed``; refuse when one is active (it cannot be shown again)."""
    if session.get(Owner, subscriber) is None:
        raise NotFoundError(f"no owner {subscriber!r}; `planwatch owners` lists them")
    check_feed(session, feed)
    active = session.exec(
        select(FeedToken).where(
            FeedToken.subscriber == subscriber, FeedToken.feed == feed.id, col(FeedToken.revoked_at).is_(None)
        )
    ).first()
    if active is not None:
        raise UsageError(
            f"{subscriber} already has a link to {feed.id} (since {active.created_at:%Y-%m-%d}); "
            "only its hash is kept, "
            f"so it cannot be shown again: `planwatch feeds rotate {subscriber}` replaces it"
        )
    return _new(session, subscriber, feed, now)


def _new(session: Session, subscriber: str, feed: Feed, now: datetime) -> Link:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(FeedToken(token_hash=token_hash(token), subscriber=subscriber, feed=feed.id, created_at=now))
    return Link(feed, token)


def revoke(session: Session, subscriber: str, now: datetime) -> list[Feed]:
    """Revoke every active link of ``subscriber``; return the feeds they were for."""
    query = (
        select(FeedToken)
        .where(FeedToken.subscriber == subscriber, col(FeedToken.revoked_at).is_(None))
        .order_by(col(FeedToken.id))
    )
    rows = list(session.exec(query).all())
    for row in rows:
        row.revoked_at = now
        session.add(row)
    return [Feed.parse(row.feed) for row in rows]


def rotate(session: Session, subscriber: str, now: datetime) -> list[Link]:
    """Revoke ``subscriber``'s links and issue a new one for each feed (their own feed if they had none)."""
    if session.get(Owner, subscriber) is None:
        raise NotFoundError(f"no owner {subscriber!r}; `planwatch owners` lists them")
    feeds = list(dict.fromkeys(revoke(session, subscriber, now))) or [Feed("owner", subscriber)]
    session.flush()
    return [_new(session, subscriber, feed, now) for feed in feeds]


def active_feeds(session: Session, subscriber: str) -> list[tuple[Feed, datetime]]:
    """Return the feeds ``subscriber`` has an active link to, with the time each link was made, oldest first."""
    rows = session.exec(
        select(FeedToken.feed, FeedToken.created_at)
        .where(FeedToken.subscriber == subscriber, col(FeedToken.revoked_at).is_(None))
        .order_by(col(FeedToken.id))
    ).all()
    return [(Feed.parse(feed), created) for feed, created in rows]


def renew(session: Session, subscriber: str, wanted: list[Feed], now: datetime) -> list[Link]:
    """Replace ``subscriber``'s links by new ones: one for each feed of ``wanted``, then for any other they had.

    The old links stop working, as with ``rotate``; the new ones are returned (shown once).
    """
    if session.get(Owner, subscriber) is None:
        raise NotFoundError(f"no owner {subscriber!r}; `planwatch owners` lists them")
    for feed in wanted:
        check_feed(session, feed)
    feeds = list(dict.fromkeys([*wanted, *revoke(session, subscriber, now)]))
    session.flush()
    return [_new(session, subscriber, feed, now) for feed in feeds]


def feed_for_token(conn: Connection, token: str) -> Feed | None:
    """Return the feed an active token opens, or None (malformed, unknown and revoked alike)."""
    if not TOKEN_RE.match(token):
        return None
    digest = token_hash(token)
    row = conn.execute(
        core_select(T.c.token_hash, T.c.feed).where(T.c.token_hash == digest, T.c.revoked_at.is_(None))
    ).first()
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    return Feed.parse(row.feed)


def revoke_token(conn: Connection, token: str, now: datetime) -> bool:
    """Revoke one token by its value (for tests and admin tools); return whether it was active."""
    result = conn.execute(
        update(T).where(T.c.token_hash == token_hash(token), T.c.revoked_at.is_(None)).values(revoked_at=now)
    )
    return bool(result.rowcount)


class FeedService:
    """The feeds of one store, rebuilt at most every ``settings.feed_cache_seconds``; thread-safe."""

    def __init__(self, engine: Engine, settings: Settings, clock: Clock) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock
        self._cache = EventCache()
        self._caches = {"en": self._cache}  # one per language: a feed's texts are in its reader's language
        self._lock = threading.Lock()
        self._set: EventSet | None = None
        self._registry: Mapping[str, RegistryEntry] = {}
        self._sets: dict[str, EventSet] = {}
        self._languages: dict[Feed, str] = {}
        self._built: datetime | None = None
        self._documents: dict[tuple[Feed, FeedOptions], FeedDocument] = {}
        self._rules: RuleSet | None = None
        self._rules_stamp: tuple[tuple[str, int, int], ...] | None = None

    def event_set(self, *, fresh: bool = False, language: str = "en") -> EventSet:
        """Return the current event set (its texts in ``language``), rebuilding it when older than the cache time
        (or ``fresh``). The English set keeps the registry of published events; another language's set is made
        from the same data and registry when a feed first asks for it, so UIDs and SEQUENCE are the same."""
        now = self.clock.now()
        with self._lock:
            age = timedelta(seconds=self.settings.feed_cache_seconds)
            if fresh or self._set is None or self._built is None or not self._built <= now < self._built + age:
                self._set = self._build(now)
                self._built = now
                self._documents = {}
                self._sets = {}
                self._languages = {}
            if language == "en" or language not in LANGUAGES:
                return self._set
            found = self._sets.get(language)
            if found is None:
                cache = self._caches.setdefault(language, EventCache())
                entries = compose(self._set.data, self._rules, self.settings.base_url, cache, language)
                found = self._sets[language] = EventSet(
                    self._set.data, entries, self._registry, self._set.now, language
                )
            return found

    def _build(self, now: datetime) -> EventSet:
        rules = self._load_rules()
        with self.engine.begin() as conn:
            data = load_feed_data(conn)
            entries = compose(data, rules, self.settings.base_url, self._cache)
            self._registry = sync_registry(conn, entries, data)
        return EventSet(data, entries, self._registry, now)

    def language_of(self, feed: Feed) -> str:
        """Return the language of a feed's texts (see ``feed_language``), looked up once per build."""
        found = self._languages.get(feed)
        if found is None:
            with self.engine.connect() as conn:
                found = self._languages[feed] = feed_language(conn, feed)
        return found

    def _load_rules(self) -> RuleSet | None:
        """The rules, read again when a rule file changed; a broken edit keeps the previous rules."""
        folder = self.settings.rules_dir
        if not folder.exists():
            return None
        stamp = tuple(sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in _rule_files(folder)))
        if stamp != self._rules_stamp:
            try:
                self._rules = load_rules(folder)
            except InputError:
                if self._rules is None:
                    raise
            self._rules_stamp = stamp
        return self._rules

    def document(self, feed: Feed, options: FeedOptions = FeedOptions()) -> FeedDocument:
        """Return the rendered feed (kept until the next build)."""
        events = self.event_set(language=self.language_of(feed))
        key = (feed, options)
        found = self._documents.get(key)
        if found is None:
            found = events.render(feed, options)
            with self._lock:
                if self._set is events:
                    self._documents[key] = found
        return found

    def write_all(self, out: Path) -> list[tuple[Path, bool]]:
        """Write every feed of the store under ``out`` (atomically, only those that changed)."""
        events = self.event_set(fresh=True)
        by_language: dict[str, list[Feed]] = {}
        for feed in events.feeds():
            by_language.setdefault(self.language_of(feed), []).append(feed)
        written = []
        for language, feeds in by_language.items():
            written += write_feeds(out, self.event_set(language=language), feeds)
        return written


def feed_language(conn: Connection, feed: Feed) -> str:
    """Return the language of a feed's texts: an owner's or team feed is in its owner's (the supervisor's)
    language, else in the language of the plan of their first action; a plan's or Part's feed is in the plan's
    language; English when none is set."""
    if feed.kind in {"owner", "team"}:
        person = conn.execute(core_select(tables.OWNER.c.language).where(tables.OWNER.c.id == feed.subject)).scalar()
        plan = conn.execute(
            core_select(tables.PLAN.c.language)
            .join(tables.ACTION, tables.ACTION.c.plan_id == tables.PLAN.c.id)
            .where(tables.ACTION.c.owner_id == feed.subject)
            .limit(1)
        ).scalar()
        return language_of(person, plan)
    return language_of(
        conn.execute(core_select(tables.PLAN.c.language).where(tables.PLAN.c.id == feed.subject)).scalar()
    )


def _rule_files(folder: Path) -> Iterator[Path]:
    if folder.is_file():
        yield folder
        return
    yield from (p for p in folder.iterdir() if p.suffix in {".yaml", ".yml", ".ics"} and p.is_file())
