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
from engine.calendars.write import vevent, vtodo


class EventEntry:
    """One event: its content, the content's fingerprint and, once stamped, its UIDs, SEQUENCE and LAST-MODIFIED."""

    __slots__ = ("_texts", "content", "fingerprint", "overdue_uid", "stamp", "todo_uid", "uid")

    def __init__(self, content: EventSpec) -> None:
        self.content = content
        self.fingerprint = fingerprint(content)
        self.stamp: tuple[date, int, datetime] | None = None  # (UID day, SEQUENCE, LAST-MODIFIED in UTC)
        self.uid = self.todo_uid = self.overdue_uid = ""
        self._texts: dict[str, str] = {}

    @property
    def sequence(self) -> int:
        """Return the published SEQUENCE."""
        return self.stamp[1] if self.stamp else self.content.sequence

    @property
    def modified(self) -> datetime:
        """Return the published LAST-MODIFIED (and DTSTAMP), UTC."""
        return self.stamp[2] if self.stamp else self.content.modified

    @property
    def published(self) -> EventSpec:
        """Return the event as published (a copy with UID, SEQUENCE and LAST-MODIFIED filled in)."""
        return replace(self.content, uid=self.uid, sequence=self.sequence, modified=self.modified)

    def publish(self, stamp: tuple[date, int, datetime], uids: tuple[str, str, str]) -> None:
        """Set the UIDs (event, its VTODO, its overdue copy), SEQUENCE and LAST-MODIFIED; texts are made again."""
        self.stamp = stamp
        self.uid, self.todo_uid, self.overdue_uid = uids
        self._texts = {}

    def text(self, alarms: bool) -> str:
        """Return the VEVENT text, with or without the alarm."""
        key = "alarm" if alarms and self.content.alarm is not None and self.content.state == "open" else "plain"
        found = self._texts.get(key)
        if found is None:
            found = self._texts[key] = vevent(self.content, key == "alarm", (self.uid, self.sequence, self.modified))
        return found

    def todo_text(self) -> str:
        """Return the VTODO text of a due event."""
        found = self._texts.get("todo")
        if found is None:
            found = self._texts["todo"] = vtodo(self.content, self.todo_uid, self.sequence, self.modified)
        return found


def fingerprint(spec: EventSpec) -> str:
    """Return a digest of what a subscriber sees of ``spec``, without UID, SEQUENCE and timestamps."""
    seen = (
        spec.what,
        spec.day,
        spec.summary,
        spec.description,
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

    def events(self, key: Hashable, compute: Callable[[], Iterable[EventSpec]]) -> list[EventEntry]:
        """Return the entries for ``key``, computing them on a miss."""
        self._asked += 1
        found = self._entries.get(key)
        if found is None:
            found = self._entries[key] = [self._generation, [EventEntry(spec) for spec in compute()]]
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
