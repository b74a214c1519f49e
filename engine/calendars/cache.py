"""Each event's text kept until its action changes, so a feed rebuild costs a lookup per action.

An action's cache key holds everything its events are made of (the action, its plan, section
path, owner, policy and the link base), so a change to any of them misses; entries that no
rebuild asked for are dropped by ``sweep``. Rendered texts hang off the entries, one per
alarm setting, and are made on first use.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable, Iterable
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from engine.calendars.model import EventSpec
from engine.calendars.uids import event_uid
from engine.calendars.write import vevent, vtodo


class EventEntry:
    """One event: its content, the content's fingerprint and, once stamped, its UIDs, SEQUENCE and LAST-MODIFIED.

    The description may be kept in parts: ``spec.description`` its first line, what the event says of itself,
    and ``notes`` the lines after it, the same objects for every event of the action, the section's lines one
    string for every action of the section (see ``events.action_event_leads``): a plan feed of 100,000 events
    keeps 64 MB less so. ``description`` and ``content`` give the whole text; the rest of ``spec`` is the
    event's, read from it directly.

    The texts are kept as UTF-8 bytes (a feed is written from them as it is), one per alarm setting
    and the VTODO, each made on first use; the VTODO's and the overdue copy's UIDs too.
    """

    __slots__ = (
        "_alarm",
        "_overdue_uid",
        "_plain",
        "_todo",
        "_todo_uid",
        "fingerprint",
        "notes",
        "spec",
        "stamp",
        "uid",
    )

    def __init__(self, spec: EventSpec, notes: tuple[str, ...] = ()) -> None:
        self.spec = spec
        self.notes = notes
        self.fingerprint = fingerprint(spec, self.description)
        self.stamp: tuple[date, int, datetime] | None = None  # (UID day, SEQUENCE, LAST-MODIFIED in UTC)
        self.uid = ""
        self._todo_uid: str | None = None
        self._overdue_uid: str | None = None
        self._plain: bytes | None = None
        self._alarm: bytes | None = None
        self._todo: bytes | None = None

    @property
    def description(self) -> str:
        """Return the whole description: the spec's, then the notes, a line each."""
        return "\n".join((self.spec.description, *self.notes)) if self.notes else self.spec.description

    @property
    def content(self) -> EventSpec:
        """Return the event with its whole description."""
        return replace(self.spec, description=self.description) if self.notes else self.spec

    @property
    def sequence(self) -> int:
        """Return the published SEQUENCE."""
        return self.stamp[1] if self.stamp else self.spec.sequence

    @property
    def modified(self) -> datetime:
        """Return the published LAST-MODIFIED (and DTSTAMP), UTC."""
        return self.stamp[2] if self.stamp else self.spec.modified

    @property
    def published(self) -> EventSpec:
        """Return the event as published (a copy with UID, SEQUENCE and LAST-MODIFIED filled in)."""
        return replace(
            self.spec, uid=self.uid, sequence=self.sequence, modified=self.modified, description=self.description
        )

    @property
    def todo_uid(self) -> str:
        """Return the UID of the event's VTODO twin."""
        if self._todo_uid is None:
            self._todo_uid = self._made_uid("todo")
        return self._todo_uid

    @property
    def overdue_uid(self) -> str:
        """Return the UID of the event's copy on today's date (``?overdue=today``)."""
        if self._overdue_uid is None:
            self._overdue_uid = self._made_uid("overdue")
        return self._overdue_uid

    def _made_uid(self, what: str) -> str:
        spec = self.spec
        return event_uid(spec.plan_id, spec.ref, what, self.stamp[0] if self.stamp else spec.uid_day or spec.day)

    def publish(
        self, stamp: tuple[date, int, datetime], uid: str, todo_uid: str | None = None, overdue_uid: str | None = None
    ) -> None:
        """Set the UIDs (event; its VTODO and overdue copy, made from the stamp's day when not given), SEQUENCE
        and LAST-MODIFIED; texts are made again."""
        self.stamp = stamp
        self.uid, self._todo_uid, self._overdue_uid = uid, todo_uid, overdue_uid
        self._plain = self._alarm = self._todo = None

    def data(self, alarms: bool, keep: bool = True) -> bytes:
        """Return the VEVENT text as UTF-8, with or without the alarm; kept for the next call unless not ``keep``."""
        spec = self.spec
        if alarms and spec.alarm is not None and spec.state == "open":
            found = self._alarm
            if found is None:
                found = vevent(spec, True, (self.uid, self.sequence, self.modified), self.description).encode()
                if keep:
                    self._alarm = found
            return found
        found = self._plain
        if found is None:
            found = vevent(spec, False, (self.uid, self.sequence, self.modified), self.description).encode()
            if keep:
                self._plain = found
        return found

    def todo_data(self) -> bytes:
        """Return the VTODO text of a due event as UTF-8."""
        if self._todo is None:
            self._todo = vtodo(self.spec, self.todo_uid, self.sequence, self.modified, self.description).encode()
        return self._todo

    def text(self, alarms: bool) -> str:
        """Return the VEVENT text, with or without the alarm."""
        return self.data(alarms).decode()

    def todo_text(self) -> str:
        """Return the VTODO text of a due event."""
        return self.todo_data().decode()


def fingerprint(spec: EventSpec, description: str | None = None) -> str:
    """Return a digest of what a subscriber sees of ``spec``, without UID, SEQUENCE and timestamps; ``description``
    is the whole description when ``spec`` keeps only its first line."""
    seen = (
        spec.what,
        spec.day,
        spec.summary,
        spec.description if description is None else description,
        spec.url,
        spec.categories,
        spec.state,
        spec.rrule,
        spec.rdates,
        spec.exdates,
        spec.done_days,
        spec.done_summary,
        spec.alarm,
        spec.todo,
    )
    return hashlib.blake2b(repr(seen).encode(), digest_size=12).hexdigest()


class EventCache:
    """Events per action key, across rebuilds; bound to one rule set and link base (new ones, new cache)."""

    def __init__(self) -> None:
        self._entries: dict[Hashable, list[Any]] = {}  # key -> [generation last asked for, entries]
        self._generation = 0
        self._asked = 0
        self._rules: object | None = None
        self._base_url: str | None = None

    def bind(self, rules: object, base_url: str) -> None:
        """Forget everything when the rules (another object) or the link base change: the keys cannot see them."""
        if rules is not self._rules or base_url != self._base_url:
            self._entries.clear()
            self._rules, self._base_url = rules, base_url

    def events(self, key: Hashable, compute: Callable[[], Iterable[EventSpec | EventEntry]]) -> list[EventEntry]:
        """Return the entries for ``key``, computing them on a miss (events, or entries already made of them)."""
        self._asked += 1
        found = self._entries.get(key)
        if found is None:
            made = [e if isinstance(e, EventEntry) else EventEntry(e) for e in compute()]
            found = self._entries[key] = [self._generation, made]
        else:
            found[0] = self._generation
        entries: list[EventEntry] = found[1]
        return entries

    def sweep(self) -> None:
        """End a rebuild: drop the entries it did not ask for, once they are a tenth of the cache."""
        stale = len(self._entries) - self._asked
        if stale > len(self._entries) // 10:
            for key in [k for k, v in self._entries.items() if v[0] != self._generation]:
                del self._entries[key]
        self._generation += 1
        self._asked = 0

    def __len__(self) -> int:
        return len(self._entries)
