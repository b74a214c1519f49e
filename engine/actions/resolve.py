"""From time-frame phrases to the schedule each action is stored with (pure: no I/O, no clock).

Order of precedence: explicit values in the plan file (``schedule:``, or ``planwatch set``)
win and clear ``needs_review``; then a dated event from ``rules/events.yaml``; then a
dependency on another action's heading (proposed, still to be confirmed); then the phrase
as ``timeframe.parse`` reads it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from engine.plandoc import OVERRIDE_KEYS, ActionRow, SectionRow
from engine.rules.events import NamedEvent
from engine.timeframe import Schedule, parse

STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "in",
        "into",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "the",
        "to",
        "with",
        "within",
        "linked",
        "tied",
        "integrated",
        "process",
        "next",
        "each",
    ]
)


def schedule_fields(schedule: Schedule) -> dict[str, Any]:
    """Return the stored columns of a ``Schedule`` (dates stay ``date``; milestones JSON-ready)."""
    return {
        "kind": schedule.kind,
        "start": schedule.start,
        "due": schedule.due,
        "rrule": schedule.rrule,
        "milestones": [{"label": m.label, "due": _iso(m.due), "start": _iso(m.start)} for m in schedule.milestones],
        "event": schedule.event,
        "after_ref": None,
        "needs_review": schedule.needs_review,
        "reason": schedule.reason,
    }


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def read_row(
    row: ActionRow,
    ref_date: date,
    fy_start: int | None,
    readings: dict[str, dict[str, Any]] | None = None,
    *,
    shared: bool = False,
    language: str | None = None,
) -> dict[str, Any]:
    """Return the schedule of one row from its phrase (or the proposed phrase of an empty cell).

    ``language`` is the plan's (en, fr or es); None guesses it phrase by phrase.

    ``readings`` remembers phrases already read in this plan (their fields; each row gets a
    copy, or with ``shared`` the remembered fields themselves, not to be changed): real plans
    repeat their time frames ("Continuously", "Ongoing") many times.
    """
    memo = readings if readings is not None else {}
    if row.timeframe or row.timeframe_proposed is None:
        fields = memo.get(row.timeframe)
        if fields is None:
            fields = memo[row.timeframe] = schedule_fields(
                parse(row.timeframe, ref_date, fy_start=fy_start, language=language)
            )
        return fields if shared else _copied(fields)
    fields = memo.get(row.timeframe_proposed)
    if fields is None:
        fields = memo[row.timeframe_proposed] = schedule_fields(
            parse(row.timeframe_proposed, ref_date, fy_start=fy_start, language=language)
        )
    fields = _copied(fields)
    fields["needs_review"] = True
    fields["reason"] = (
        f"The time-frame cell is empty in the source (merged with the row above); proposed "
        f"the previous row's time frame {row.timeframe_proposed!r}. {fields['reason']}"
    )
    return fields


def _copied(fields: dict[str, Any]) -> dict[str, Any]:
    copy = fields.copy()
    copy["milestones"] = [dict(m) for m in fields["milestones"]] if fields["milestones"] else []
    return copy


def resolve_plan(
    rows: Sequence[ActionRow],
    sections: Sequence[SectionRow],
    ref_date: date,
    fy_start: int | None = None,
    events: Sequence[NamedEvent] = (),
    *,
    shared: bool = False,
    language: str | None = None,
) -> dict[str, dict[str, Any]]:
    """Return the schedule fields of every row, by action id (their phrases read in the plan's ``language``).

    With ``shared``, rows whose phrase reads alike share one dict of fields (a large plan repeats
    its phrases: a million rows hold a few hundred dicts, not a million); only the fields of rows
    with a value set in the plan file may then be changed by the caller.
    """
    found = resolve_rows(rows, sections, ref_date, fy_start, events, shared=shared, language=language)
    return {row.ref: fields for row, fields in zip(rows, found, strict=True)}


def resolve_rows(
    rows: Sequence[ActionRow],
    sections: Sequence[SectionRow],
    ref_date: date,
    fy_start: int | None = None,
    events: Sequence[NamedEvent] = (),
    *,
    shared: bool = False,
    language: str | None = None,
) -> list[dict[str, Any]]:
    """Return the schedule fields of each row, in the rows' order: ``resolve_plan`` without the index by id.

    A list beside the rows is all a large import holds of them (8 bytes a row, the fields shared as
    ``shared`` says); what the proposals and dependencies need is looked up by position.
    """
    readings: dict[str, dict[str, Any]] = {}
    if shared:  # a phrase read already gives its fields as they are (``read_row``'s own first answer), inline
        known = readings.get
        out = [
            fields
            if (row.timeframe or row.timeframe_proposed is None) and (fields := known(row.timeframe)) is not None
            else read_row(row, ref_date, fy_start, readings, shared=True, language=language)
            for row in rows
        ]
    else:
        out = [read_row(row, ref_date, fy_start, readings, language=language) for row in rows]
    headings: _Headings | None = None
    # Shared, the event rows whose phrase is read alike and that follow the same row share their fields too
    alike: dict[tuple[int, str | None, date | None], dict[str, Any]] = {}
    for at, row in enumerate(rows):
        fields = out[at]
        if fields["kind"] != "event" or row.override:
            continue
        read = fields
        if shared:
            fields = out[at] = _copied(fields)
        if _date_event(fields, events):
            if headings is not None:  # dated now: a later event may follow it
                headings.dated(at)
        else:
            if headings is None:  # most plans have no undated event: build the index on the first
                headings = _Headings(rows, sections, out)
            headings.propose(at, fields)
        if shared:  # the reason follows from the phrase and the row followed: the fields are the same
            out[at] = alike.setdefault((id(read), fields["after_ref"], fields["due"]), fields)
    for at, row in enumerate(rows):
        if row.override:
            if shared:
                out[at] = _copied(out[at])
            _apply_override(row, out[at])
    _follow_dependencies(rows, out, shared=shared)
    return out


def _date_event(fields: dict[str, Any], events: Sequence[NamedEvent]) -> bool:
    text = (fields["event"] or "").lower()
    for event in events:
        if any(name.lower() in text or (text and text in name.lower()) for name in event.names):
            fields["due"] = event.date
            fields["needs_review"] = False
            fields["reason"] = (
                f"Tied to {fields['event']!r}, dated {event.date.isoformat()} "
                f"by the event {event.name!r} in rules/events.yaml."
            )
            return True
    return False


def _stems(text: str) -> set[str]:
    words = re.findall(r"[a-z]+", text.lower())
    return {_stem(w) for w in words if w not in STOPWORDS and len(w) > 2}


def _stem(word: str) -> str:
    if word.startswith("re") and len(word) > 7:
        word = word[2:]
    for suffix in ("ing", "ed", "es", "s", "e"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


class _Headings:
    """The sections' headings indexed by their normalised words, for proposing what an event follows.

    An event-linked row follows the first action with a due date in the section whose heading shares
    the most words (at least two) with the event's phrase; among equal scores, the section first in
    the plan. Each section's first dated row is kept up to date as proposals give rows their dates,
    so a plan of N rows costs about N lookups, however many of its rows name an event. Rows are
    known by their position in the plan, which orders the rows of a section as the plan does.
    """

    def __init__(
        self, rows: Sequence[ActionRow], sections: Sequence[SectionRow], out: Sequence[dict[str, Any]]
    ) -> None:
        self.rows = rows
        self.out = out
        self.sections = [s for s in sections if s.level != "part"]
        self.by_word: dict[str, list[int]] = {}
        for index, section in enumerate(self.sections):
            for word in _stems(section.title):
                self.by_word.setdefault(word, []).append(index)
        self.first: dict[str, int] = {}  # a section's key -> the position of its first dated row
        first = self.first
        for at, (row, fields) in enumerate(zip(rows, out, strict=True)):
            if fields["due"] and row.section_key not in first:
                first[row.section_key] = at
        self.ranked: dict[frozenset[str], list[int]] = {}
        self.words: dict[str, frozenset[str]] = {}  # an event's phrase -> its words

    def candidates(self, wanted: frozenset[str]) -> list[int]:
        """Return the sections sharing at least two words with ``wanted``, best score first, then plan order."""
        ranked = self.ranked.get(wanted)
        if ranked is None:
            scores: dict[int, int] = {}
            for word in wanted:
                for index in self.by_word.get(word, ()):
                    scores[index] = scores.get(index, 0) + 1
            ranked = self.ranked[wanted] = sorted(
                (i for i, n in scores.items() if n >= 2), key=lambda i: (-scores[i], i)
            )
        return ranked

    def propose(self, at: int, fields: dict[str, Any]) -> None:
        """Propose what the event-linked row at position ``at`` follows, into its ``fields``."""
        own = self.rows[at].section_key
        event = fields["event"] or ""
        wanted = self.words.get(event)
        if wanted is None:  # a plan names a few events many times: each one's words are found once
            wanted = self.words[event] = frozenset(_stems(event))
        for index in self.candidates(wanted):
            section = self.sections[index]
            first = self.first.get(section.key)
            if section.key == own or first is None:
                continue
            target = self.rows[first]
            fields["after_ref"] = target.ref
            fields["due"] = self.out[first]["due"]
            fields["reason"] = (
                f"Tied to {fields['event']!r}; proposed to follow {target.ref} "
                f"({section.number} {section.title[:60]}), due {fields['due'].isoformat()}: "
                f"confirm that it follows {target.ref}, or give it a date of its own."
            )
            break
        if fields["due"]:
            self.dated(at)

    def dated(self, at: int) -> None:
        """Note that the row at position ``at`` has a due date now: it may be the first dated row of its section."""
        key = self.rows[at].section_key
        first = self.first.get(key)
        if first is None or at < first:
            self.first[key] = at


def _apply_override(row: ActionRow, fields: dict[str, Any]) -> None:
    parts = []
    for key in (k for k in OVERRIDE_KEYS if k != "after"):
        if key in row.override:
            value = row.override[key]
            fields[key] = date.fromisoformat(value) if key in {"start", "due"} and isinstance(value, str) else value
            parts.append(f"{key} {value}")
    if "after" in row.override:
        fields["after_ref"] = row.override["after"]
        parts.append(f"after {row.override['after']}")
    fields["needs_review"] = False
    fields["reason"] = f"Set in the plan file: {', '.join(parts)}."


def _follow_dependencies(rows: Sequence[ActionRow], out: list[dict[str, Any]], *, shared: bool = False) -> None:
    """Give each row that follows another (``after_ref``) the due date at the end of its chain.

    With ``shared``, a row whose due date changes gets a dict of its own (one per shared dict and date): rows
    that share fields follow the same row, but a chain that loops back through one of them ends elsewhere
    for each, and the others keep their own date."""
    wanted = {fields["after_ref"] for fields in out if fields["after_ref"] is not None}
    if not wanted:
        return
    # Only the rows followed are found by id, not all of them: one pass for each link of the longest chain,
    # up to three; a longer chain finds them all.
    positions: dict[str, int] = {}
    sought: set[str] = set()
    for _ in range(3):
        sought |= wanted
        positions.update((row.ref, at) for at, row in enumerate(rows) if row.ref in wanted)
        wanted = {out[at]["after_ref"] for at in positions.values()} - sought - {None}
        if not wanted:
            break
    else:
        positions = {row.ref: at for at, row in enumerate(rows)}
    changed: dict[tuple[int, date], tuple[dict[str, Any], dict[str, Any]]] = {}
    for at, (row, fields) in enumerate(zip(rows, out, strict=True)):
        target = fields["after_ref"]
        if target is None:
            continue
        seen = [row.ref]
        while target in positions and target not in seen:
            seen.append(target)
            following = out[positions[target]]["after_ref"]
            if following is None:
                break
            target = following
        if target in positions and out[positions[target]]["due"] is not None:
            due = out[positions[target]]["due"]
            if shared and fields["due"] != due:
                key = (id(fields), due)
                if key not in changed:  # the dict is held beside its copy: its id is not reused meanwhile
                    changed[key] = (fields, _copied(fields))
                    changed[key][1]["due"] = due
                out[at] = changed[key][1]
            else:
                fields["due"] = due
