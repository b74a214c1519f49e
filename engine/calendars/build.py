"""Calendar feeds (iCalendar, RFC 5545) per owner, per supervisor's team, per plan and per Part.

``compose`` turns the store's data into events (cached per action), ``EventSet`` stamps them
with the UID, SEQUENCE and LAST-MODIFIED the registry of published events keeps (see
``feeds``), and ``EventSet.render`` writes one feed. Nothing here reads the clock: ``now``
(aware UTC) is passed in, and DTSTAMP/LAST-MODIFIED come from the data, so an unchanged plan
gives a byte-identical feed. The calendar's own lines are built with ``icalendar``; event text
comes from ``calendars.write``, which writes what ``icalendar`` would, faster.
"""

from __future__ import annotations

import filecmp
import hashlib
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache, partial
from itertools import pairwise, starmap
from operator import attrgetter, le
from pathlib import Path
from typing import Any, BinaryIO

from icalendar import Calendar, vText

from engine.calendars.cache import EventCache, EventEntry
from engine.calendars.events import (
    ActionContext,
    action_event_leads,
    escalation_event,
    long_date,
    sort_key,
    withdrawn_summary,
)
from engine.calendars.model import ActionInfo, EscalationInfo, EventSpec, FeedData, SectionInfo
from engine.calendars.timezone import vtimezone
from engine.calendars.uids import event_uid
from engine.calendars.write import vevent
from engine.errors import UsageError
from engine.files import READABLE
from engine.languages import elide, gettext
from engine.rules.loader import RuleSet
from engine.rules.policy import ActionFacts, Policy, matching_kind
from engine.store.directory import everyone_below
from engine.zones import zone

PRODID = "-//planwatch//planwatch calendar feeds//EN"
REFRESH = timedelta(hours=1)
GRACE = timedelta(days=30)  # a cancelled event stays visible (STATUS:CANCELLED) this long
UNSAFE_FILE = re.compile(r"[^a-z0-9_\-]")
KINDS = ("owner", "team", "plan", "part")
CHUNK_EVENTS = 256  # events joined before each write: about 350 kB of a plan feed
OPEN_FILES = 200  # feeds written side by side in one pass over the events


@dataclass(frozen=True, slots=True)
class FeedOptions:
    """A subscription's switches: alarms (``?alarms=0``), overdue on today (``?overdue=today``), VTODOs
    (``?todo=1``)."""

    alarms: bool = True
    overdue_today: bool = False
    todo: bool = False

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> FeedOptions:
        """Read the options from URL query parameters; anything unknown is ignored."""
        return cls(
            alarms=params.get("alarms", "1").lower() not in {"0", "false", "no", "off"},
            overdue_today=params.get("overdue", "").lower() == "today",
            todo=params.get("todo", "0").lower() in {"1", "true", "yes", "on"},
        )


@dataclass(frozen=True, slots=True)
class Feed:
    """Which feed: ``owner:ID``, ``team:ID`` (everyone below a supervisor), ``plan:ID`` or ``part:PLAN:KEY``."""

    kind: str
    subject: str
    part: str = ""

    @property
    def id(self) -> str:
        """Return the feed's id as stored with its tokens."""
        return f"{self.kind}:{self.subject}" + (f":{self.part}" if self.kind == "part" else "")

    @classmethod
    def parse(cls, text: str) -> Feed:
        """Read a feed id; raise ``UsageError`` saying what was expected."""
        kind, _, rest = text.partition(":")
        subject, _, part = rest.partition(":") if kind == "part" else (rest, "", "")
        if kind not in KINDS or not subject or (kind == "part" and not part):
            raise UsageError(f"unknown feed {text!r}; expected owner:ID, team:ID, plan:ID or part:PLAN:KEY")
        return cls(kind, subject, part)

    def file_name(self) -> str:
        """Return a file name safe on any file system, whatever the ids contain."""
        raw = "-".join([self.kind, self.subject, *([self.part] if self.part else [])])
        safe = UNSAFE_FILE.sub("_", raw.lower())[:80]
        if safe != raw:
            safe += "-" + hashlib.sha256(raw.encode()).hexdigest()[:8]
        return f"{safe}.ics"


@dataclass(frozen=True, slots=True)
class RegistryEntry:
    """What the registry of published events knows of one event (see ``feeds``); datetimes UTC."""

    uid_day: date
    sequence: int
    modified: datetime
    gone_at: datetime | None = None
    snapshot: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FeedDocument:
    """One rendered feed: the bytes, a strong ETag and Last-Modified (UTC, from the data)."""

    feed: Feed
    body: bytes
    etag: str
    last_modified: datetime


# ---------------------------------------------------------------------------------- composing


def compose(
    data: FeedData, rules: RuleSet | None, base_url: str, cache: EventCache, language: str = "en"
) -> list[EventEntry]:
    """Return the events of every action and open escalation in ``data``, their texts in ``language``; unchanged
    actions come from ``cache`` (one cache per language)."""
    cache.bind(rules, base_url)
    paths: dict[tuple[str, str], tuple[SectionInfo, ...]] = {}
    by_id: dict[int, ActionInfo] = {}
    entries: list[EventEntry] = []
    for a in data.actions:
        by_id[a.id] = a
        plan = data.plans[a.plan_id]
        path = _path(data, paths, a.plan_id, a.section_key)
        owner = data.owners.get(a.owner_id or "")
        ctx = partial(ActionContext, plan, path, owner, language=language)
        entries.extend(cache.events((a, plan, path, owner), partial(_action_events, a, ctx, rules, base_url)))
    for e in data.escalations:
        found = by_id.get(e.action_id)
        if found is None or found.removed_at is not None:
            continue
        plan = data.plans[found.plan_id]
        path = _path(data, paths, found.plan_id, found.section_key)
        owner = data.owners.get(found.owner_id or "")
        context = ActionContext(plan, path, owner, None, base_url, language)
        entries.extend(
            cache.events(("escalation", e, found, plan, path, owner), partial(_escalation_events, e, found, context))
        )
    cache.sweep()
    return entries


def _action_events(
    a: ActionInfo, ctx: Callable[[Policy | None, str], ActionContext], rules: RuleSet | None, base_url: str
) -> list[EventEntry]:
    """The events of ``a``, its policy looked up only now (on a cache miss); their descriptions' shared lines kept
    once (see ``EventEntry``)."""
    context = ctx(None, base_url)
    found, notes = action_event_leads(a, replace(context, policy=_policy(rules, a, context.path)))
    return [EventEntry(spec, notes) for spec in found]


def _escalation_events(e: EscalationInfo, a: ActionInfo, ctx: ActionContext) -> list[EventSpec]:
    return [escalation_event(e, a, ctx)]


def _path(
    data: FeedData, memo: dict[tuple[str, str], tuple[SectionInfo, ...]], plan_id: str, key: str
) -> tuple[SectionInfo, ...]:
    """The section and its ancestors, the Part first."""
    found = memo.get((plan_id, key))
    if found is None:
        chain: list[SectionInfo] = []
        current: str | None = key
        while current is not None and len(chain) < 16:
            section = data.sections.get((plan_id, current))
            if section is None or section in chain:
                break
            chain.append(section)
            current = section.parent_key
        found = memo[(plan_id, key)] = tuple(reversed(chain))
    return found


def _policy(rules: RuleSet | None, a: ActionInfo, path: tuple[SectionInfo, ...]) -> Policy | None:
    if rules is None:
        return None
    kind = matching_kind(a.kind, a.due)
    facts = ActionFacts(a.ref, [s.key for s in reversed(path)] or [a.section_key], kind, a.owner_id, a.tags)
    return rules.policy_for(facts)[0]


# ------------------------------------------------------------------------------------ the set


class EventSet:
    """The published events of a store at ``now``: stamped from the registry, cancelled ones in their grace period."""

    def __init__(
        self,
        data: FeedData,
        entries: list[EventEntry],
        registry: Mapping[str, RegistryEntry],
        now: datetime,
        language: str = "en",
    ) -> None:
        self.data = data
        self.now = now
        self.language = language  # of the texts: the entries' (composed in it) and the feed's own
        self.today = {p.id: now.astimezone(zone(p.timezone)).date() for p in data.plans.values()}
        self.last_modified = max((p.updated_at for p in data.plans.values()), default=datetime(1970, 1, 1, tzinfo=UTC))
        kept = [self._stamp(e, registry.get(e.spec.key)) for e in entries]
        gone = sorted((key, entry) for key, entry in registry.items() if entry.gone_at is not None)
        if gone:
            live = {e.spec.key for e in entries}
            kept += [self._gone(key, entry) for key, entry in gone if key not in live]
        found = [e for e in kept if e is not None]
        del kept
        if not _in_feed_order(found):
            found.sort(key=lambda e: sort_key(e.spec))
        self.entries = found
        self._teams: dict[str, frozenset[str]] = {}

    def _stamp(self, entry: EventEntry, reg: RegistryEntry | None) -> EventEntry | None:
        spec = entry.spec
        stamp = (reg.uid_day, reg.sequence, reg.modified) if reg else (spec.uid_day or spec.day, 0, spec.modified)
        if stamp != entry.stamp:
            entry.publish(stamp, event_uid(spec.plan_id, spec.ref, spec.what, stamp[0]))
        if stamp[2] > self.last_modified:
            self.last_modified = stamp[2]
        return None if spec.cancelled_since is not None and self._expired(spec.plan_id, spec.cancelled_since) else entry

    def _expired(self, plan_id: str, since: date | None) -> bool:
        """Past the grace period: the event leaves the feed (and that moment counts as a change)."""
        if since is None or plan_id not in self.data.plans:
            return False
        ends = since + GRACE
        if self.today[plan_id] <= ends:
            return False
        gone = datetime.combine(ends + timedelta(days=1), time(0), zone(self.data.plans[plan_id].timezone)).astimezone(
            UTC
        )
        self.last_modified = max(self.last_modified, gone)
        return True

    def _gone(self, key: str, reg: RegistryEntry) -> EventEntry | None:
        """An event that is no longer produced, published as CANCELLED from its snapshot."""
        snap = reg.snapshot
        plan = self.data.plans.get(str(snap.get("plan_id", "")))
        if plan is None or reg.gone_at is None:
            return None
        since = reg.gone_at.astimezone(zone(plan.timezone)).date()
        spec = spec_from_snapshot(key, snap, since, self.language)
        entry = EventEntry(spec)
        return self._stamp(entry, reg)

    def subordinates(self, supervisor: str) -> frozenset[str]:
        """Return everyone below ``supervisor`` (at any depth)."""
        found = self._teams.get(supervisor)
        if found is None:
            bosses = {o.id: o.supervisor_id for o in self.data.owners.values()}
            found = self._teams[supervisor] = everyone_below(supervisor, bosses)
        return found

    def select(self, feed: Feed) -> Iterator[EventEntry]:
        """Yield the entries of ``feed`` in feed order."""
        if feed.kind == "team":
            team = self.subordinates(feed.subject)
            yield from (e for e in self.entries if e.spec.owner_id in team)
            return
        for e in self.entries:
            spec = e.spec
            if spec.team_only:
                continue
            if (
                (feed.kind == "owner" and spec.owner_id == feed.subject)
                or (feed.kind == "plan" and spec.plan_id == feed.subject)
                or (feed.kind == "part" and spec.plan_id == feed.subject and spec.part == feed.part)
            ):
                yield e

    def feeds(self) -> list[Feed]:
        """Return every feed the store has: each owner, each supervisor's team, each plan and Part."""
        owners = sorted(self.data.owners)
        found = [Feed("owner", o) for o in owners]
        found += [Feed("team", o) for o in owners if self.subordinates(o)]
        for plan_id in sorted(self.data.plans):
            found.append(Feed("plan", plan_id))
            parts = sorted({s.key for (p, _), s in self.data.sections.items() if p == plan_id and s.level == "part"})
            found += [Feed("part", plan_id, key) for key in parts]
        return found

    def render(self, feed: Feed, options: FeedOptions = FeedOptions()) -> FeedDocument:
        """Return the feed's document: calendar lines, VTIMEZONEs where needed, events, then VTODOs."""
        chunks: list[bytes] = []
        etag, modified = self.stream(feed, chunks.append, options)
        return FeedDocument(feed, b"".join(chunks), etag, modified)

    def stream(
        self, feed: Feed, write: Callable[[bytes], object], options: FeedOptions = FeedOptions()
    ) -> tuple[str, datetime]:
        """Hand the feed's bytes to ``write`` in chunks of a few hundred kilobytes, the whole feed never held at once;
        return its ETag and Last-Modified (those of ``render``)."""
        digest = hashlib.blake2b(digest_size=16)
        batch: list[bytes] = []

        def put(data: bytes) -> None:
            batch.append(data)
            if len(batch) >= CHUNK_EVENTS:
                flush()

        def flush() -> None:
            if batch:
                chunk = b"".join(batch)
                batch.clear()
                digest.update(chunk)
                write(chunk)

        name, description = self.describe(feed)
        put(_header(name, description).encode())
        chosen = list(self.select(feed))
        todos = [e for e in chosen if e.spec.todo is not None] if options.todo else []
        for text in _timezones(e.spec for e in todos):
            put(text.encode())
        for e in chosen:
            put(e.data(options.alarms))
        modified = self.last_modified
        if options.overdue_today:
            for text, when in self._overdue(chosen):
                put(text.encode())
                modified = max(modified, when)
        for e in todos:
            put(e.todo_data())
        put(b"END:VCALENDAR\r\n")
        flush()
        return f'"{digest.hexdigest()}"', modified

    def _overdue(self, chosen: Iterable[EventEntry]) -> Iterator[tuple[str, datetime]]:
        """Open deadlines already missed, shown again on today's date (``?overdue=today``)."""
        for entry in chosen:
            spec = entry.spec
            today = self.today.get(spec.plan_id)
            if spec.what != "due" or spec.state != "open" or today is None or spec.day >= today:
                continue
            plan = self.data.plans[spec.plan_id]
            start = datetime.combine(today, time(0), zone(plan.timezone)).astimezone(UTC)
            moved = replace(
                spec,
                what="overdue",
                day=today,
                uid=entry.overdue_uid,
                summary=gettext(self.language, "%(ref)s overdue (due %(date)s): %(title)s")
                % {"ref": spec.ref, "date": long_date(spec.day, self.language), "title": spec.title},
                sequence=entry.sequence + (today - spec.day).days,
                modified=max(entry.modified, start),
                alarm=None,
                todo=None,
                categories=(*spec.categories, gettext(self.language, "overdue")),
            )
            yield vevent(moved, alarms=False, description=entry.description), moved.modified

    def describe(self, feed: Feed) -> tuple[str, str]:
        """Return the feed's name (X-WR-CALNAME) and description (X-WR-CALDESC), in the set's language."""
        name, description = self._describe(feed)
        return elide(name, self.language), elide(description, self.language)  # French: "équipe d'Hélène Moreau"

    def _describe(self, feed: Feed) -> tuple[str, str]:
        lang = self.language
        if feed.kind in {"owner", "team"}:
            owner = self.data.owners.get(feed.subject)
            who = owner.name if owner else feed.subject
            if feed.kind == "owner":
                return gettext(lang, "planwatch: %(name)s") % {"name": who}, gettext(
                    lang, "Due dates, starts and check-ins of the actions %(name)s owns"
                ) % {"name": who}
            return gettext(lang, "planwatch: %(name)s's team") % {"name": who}, gettext(
                lang, "Actions of everyone below %(name)s, and their open escalations"
            ) % {"name": who}
        plan = self.data.plans.get(feed.subject)
        title = (plan.symbol or plan.title or plan.id) if plan else feed.subject  # a plan may have no symbol
        if feed.kind == "plan":
            return gettext(lang, "planwatch: %(name)s") % {"name": title}, gettext(lang, "Every action of %(plan)s") % {
                "plan": plan.title if plan else title
            }
        section = self.data.sections.get((feed.subject, feed.part))
        label = gettext(lang, "Part %(number)s") % {"number": section.number} if section else feed.part
        return gettext(lang, "planwatch: %(name)s") % {"name": f"{title} {label}"}, (
            gettext(lang, "%(part)s: %(title)s") % {"part": label, "title": section.title} if section else label
        )


def _in_feed_order(entries: list[EventEntry]) -> bool:
    """Whether the entries are in feed order already, as composed from actions read in plan order: sorting them
    would hold a key per event at once (9 MB for a feed of 100,000 events)."""
    return all(starmap(le, pairwise(map(sort_key, map(attrgetter("spec"), entries)))))


@lru_cache(maxsize=1024)
def _header(name: str, description: str) -> str:
    """The calendar's own lines (without END:VCALENDAR), built with ``icalendar``."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", vText(name))
    cal.add("x-wr-caldesc", vText(description))
    cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    text: str = cal.to_ical().decode()
    return text.removesuffix("END:VCALENDAR\r\n")


def _timezones(specs: Iterable[EventSpec]) -> list[str]:
    """One VTIMEZONE per TZID the timed values use, covering their years."""
    years: dict[str, list[int]] = {}
    for spec in specs:
        assert spec.todo is not None
        key = getattr(spec.todo.due.tzinfo, "key", "UTC")
        years.setdefault(key, []).append(spec.todo.due.year)
    return [vtimezone(name, min(found), max(found)) for name, found in sorted(years.items()) if name != "UTC"]


# --------------------------------------------------------------------------------- snapshots


def spec_snapshot(spec: EventSpec) -> dict[str, Any]:
    """Return what is kept of an event to publish it as CANCELLED once it is no longer produced."""
    return {
        "plan_id": spec.plan_id,
        "ref": spec.ref,
        "what": spec.what,
        "day": spec.day.isoformat(),
        "summary": spec.summary,
        "url": spec.url,
        "categories": list(spec.categories),
        "rrule": spec.rrule,
        "rdates": [d.isoformat() for d in spec.rdates],
        "owner_id": spec.owner_id,
        "part": spec.part,
        "ordinal": spec.ordinal,
        "team_only": spec.team_only,
        "title": spec.title,
    }


def spec_from_snapshot(key: str, snap: Mapping[str, Any], since: date, language: str = "en") -> EventSpec:
    """Return a cancelled event from its snapshot; ``since`` starts its grace period; texts in ``language``.

    The snapshot keeps the English summary (the registry is kept by the English set); another language's summary
    is made again from the reference, the kind of event and the title."""
    ref, what, title = str(snap["ref"]), str(snap["what"]), str(snap.get("title", ""))
    summary = str(snap["summary"])
    if language != "en":
        summary = withdrawn_summary(ref, what, title, language)
    return EventSpec(
        key=key,
        plan_id=str(snap["plan_id"]),
        ref=ref,
        what=what,
        uid="",
        day=date.fromisoformat(snap["day"]),
        summary=summary,
        description=gettext(language, "No longer in the plan's schedule: this entry was withdrawn."),
        url=str(snap.get("url", "")),
        categories=tuple(snap.get("categories", ())),
        state="cancelled",
        modified=datetime(1970, 1, 1, tzinfo=UTC),
        rrule=snap.get("rrule"),
        rdates=tuple(date.fromisoformat(d) for d in snap.get("rdates", ())),
        owner_id=snap.get("owner_id"),
        part=str(snap.get("part", "")),
        ordinal=int(snap.get("ordinal", 0)),
        team_only=bool(snap.get("team_only", False)),
        title=title,
        cancelled_since=since,
    )


def write_feeds(out: Path, events: EventSet, feeds: Iterable[Feed]) -> list[tuple[Path, bool]]:
    """Write each feed (default options) to ``out`` atomically; return (path, whether it changed).

    The feeds are written side by side in one pass over the events (per group of ``OPEN_FILES``):
    each event's text is made once and written to every feed that holds it, and not kept, so
    memory stays that of the events, whatever the size of the feeds. A file whose bytes are
    already those is left alone.
    """
    chosen = list(dict.fromkeys(feeds))
    changed: dict[Feed, bool] = {}
    out.mkdir(parents=True, exist_ok=True)
    for start in range(0, len(chosen), OPEN_FILES):
        changed.update(_write_group(out, events, chosen[start : start + OPEN_FILES]))
    return [(out / feed.file_name(), changed[feed]) for feed in chosen]


def _write_group(out: Path, events: EventSet, feeds: list[Feed]) -> dict[Feed, bool]:
    files: dict[Feed, tuple[Path, BinaryIO]] = {}
    try:
        for feed in feeds:
            fd, name = tempfile.mkstemp(dir=out, prefix=f".{feed.file_name()}.", suffix=".tmp")
            handle = os.fdopen(fd, "wb", buffering=1 << 16)
            files[feed] = (Path(name), handle)
            handle.write(_header(*events.describe(feed)).encode())
        # Where each event goes, as ``EventSet.select`` chooses: teams by owner, the rest unless team-only.
        teams: dict[str, list[BinaryIO]] = {}
        owners: dict[str, list[BinaryIO]] = {}
        plans: dict[str, list[BinaryIO]] = {}
        parts: dict[tuple[str, str], list[BinaryIO]] = {}
        for feed, (_, handle) in files.items():
            if feed.kind == "team":
                for member in events.subordinates(feed.subject):
                    teams.setdefault(member, []).append(handle)
            elif feed.kind == "owner":
                owners.setdefault(feed.subject, []).append(handle)
            elif feed.kind == "plan":
                plans.setdefault(feed.subject, []).append(handle)
            else:
                parts.setdefault((feed.subject, feed.part), []).append(handle)
        none: list[BinaryIO] = []
        for entry in events.entries:
            spec = entry.spec
            targets = teams.get(spec.owner_id, none) if spec.owner_id is not None else none
            if not spec.team_only:
                targets = [
                    *targets,
                    *(owners.get(spec.owner_id, none) if spec.owner_id is not None else none),
                    *plans.get(spec.plan_id, none),
                    *parts.get((spec.plan_id, spec.part), none),
                ]
            if targets:
                data = entry.data(True, keep=False)
                for handle in targets:
                    handle.write(data)
        changed: dict[Feed, bool] = {}
        for feed, (tmp, handle) in files.items():
            handle.write(b"END:VCALENDAR\r\n")
            handle.flush()
            path = out / feed.file_name()
            if path.exists() and filecmp.cmp(tmp, path, shallow=False):
                changed[feed] = False
            else:
                os.fsync(handle.fileno())
                changed[feed] = True
            handle.close()
        for feed, (done, _) in files.items():
            path = out / feed.file_name()
            if changed[feed]:
                os.chmod(done, path.stat().st_mode & 0o7777 if path.exists() else READABLE)
                os.replace(done, path)
            else:
                done.unlink()
    finally:
        for left, handle in files.values():
            handle.close()
            left.unlink(missing_ok=True)
        filecmp.clear_cache()  # its entries name temporary files, gone now
    return changed


__all__ = [
    "EventSet",
    "Feed",
    "FeedDocument",
    "FeedOptions",
    "RegistryEntry",
    "compose",
    "spec_from_snapshot",
    "spec_snapshot",
    "write_feeds",
]
