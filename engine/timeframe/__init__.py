"""Read a plan's time-frame phrase into a ``Schedule`` (pure: no I/O, never reads the clock).

``parse(text, ref, fy_start=None)`` reads one phrase against the plan's reference date ``ref``
(the plan's own date, always passed in). Dates are local calendar dates in the plan's zone; a
due date means the end of that day. ``parse`` never raises: anything it cannot read is
``unscheduled`` with a reason.

Kinds: ``deadline`` (done by ``due``), ``start`` (begins on ``start``, no end), ``window``
(``start`` .. ``due``), ``recurring`` (``rrule``, an RFC 5545 RRULE value without "RRULE:" and
without DTSTART; None when the rhythm is no calendar rule), ``continuous`` (ongoing, no date),
``event`` (tied to something that is not a date; ``event`` holds it in the phrase's words) and
``unscheduled`` (no time can be derived).

Conventions:

- A due date is the last day of the period named, a start its first day. A month gives its
  last/first day; "end 2000", "end-2000", "by the close of the year" give 31 December; a year
  alone as a due date ("by 2007") gives 31 December; "first half", "H1" and "mid-2004" give
  30 June (mid-year as a start: 1 July); "second half" and "H2" give 31 December; "early 2004"
  gives 30 April (the first four months); "late 2004" gives 31 December; quarters ("Q1 2004",
  "fourth quarter of 2003", "end of Q3 2004") give the quarter's last day. Seasons are
  meteorological, northern hemisphere: spring March-May, summer June-August, autumn
  September-November, winter December-February ("Winter 2003/04" ends 2004-02-29). "mid-March"
  is due on the 15th and, as a start, begins on the 16th.
- A bare period in a time-frame column ("May 2000", "Q4 2006", "Autumn 2003") is the period in
  which the work must be done: a deadline on its last day. A span of years standing alone (a
  biennium "2002-03", "2004-2005") and "during 2006" are windows.
- Year assumption: a month, quarter, half or season without a year is the next one strictly
  after the reference date's month ("By September" with reference 1999-09-28 is 2000-09-30); a
  point still ahead in the current period stays in it ("By the end of the second quarter" with
  reference 2003-05-10 is 2003-06-30; a day without a year is the next such day from the
  reference date). These readings need review. "the following month", "this autumn", "by the
  end of the following year" count from the reference date and need none; "the spring" (neither
  "this" nor "next") needs review when it falls in a later year or has already begun.
- Bienniums start in even years: "2002-03" covers the calendar years 2002 and 2003; "by the end
  of the biennium" / "within the current biennium" is the end of the biennium containing the
  reference date. "Completed by November 2000 for 2002-03 P&B": the biennium names what the
  work feeds, not its date.
- Fiscal years are named after the year they end in. ``fy_start`` is the month they start in
  (the plan's setting); without it "FY" phrases use the calendar year and need review. With
  ``fy_start=10``, "FY2004" runs 2003-10-01..2004-09-30 and "Q2 FY2004" ends 2004-03-31; with
  ``fy_start=4``, "FY 2003/04" and "2007-08" are April-March years (the latter needs review, as
  it could be a biennium).
- Sessions: a named session with a month ("by the November 2003 session of the Board", "at its
  95th Session (June 2006)") is a deadline at the end of that month; "during the November 2004
  session" is a window over that month. Ordinal numbers of sessions are never years. A session
  without a date is an ``event``.
- Relative periods count from the reference date, same day of month: "within nine months",
  "18 months", "2 years" are deadlines at ref + the period; "over the next nine months" is a
  window from ref. A period counted from an unstated event ("within a year of approval") is an
  ``event``.
- Numeric dates are read day-first ("05/08/2004" is 2004-08-05, and needs review because the
  month-first reading is also valid) unless only the month-first reading is valid
  ("12/31/2004"); "2011/06" is year/month; "31.12.2000", "30-Jun-04", "Oct. 1, 2005",
  "December 31, 2000" and "by 30 November 2001" all read as that day; in a range whose other end
  can only be month-first ("10/04/2023 - 10/29/2023") both ends are read month-first. Days of one
  month ("April 14-15, 2025") and year-first timeline entries ("2016 May-June") are windows; a
  year-less month or season joined by "and" or " / " to a dated one shares its year ("August and
  September 2019"); "w/c 24 October 2022" is the seven days from that day.
- Multi-part phrases ("draft by March 2004; final by October 2004", "Phase 1: Q2 2003; Phase 2:
  Q4 2003") give one milestone per dated part; ``due`` is the latest due date and ``start`` the
  earliest start. Words before a date that name part of the work ("First outputs by September
  2000") become a milestone's label. A term that the phrase defines itself wins ("Short term
  (within 3 months)" is a deadline three months after the reference date).
- Words after the date that qualify it ("for 2002-03 P&B", "-- as part of review of field
  structure", "meetings started with five additional donors") do not change the date; they are
  kept in ``reason`` (or as a milestone's label in a multi-part phrase).
- Recurrences: "Annually" is FREQ=YEARLY, "Biennially"/"every two years" FREQ=YEARLY;INTERVAL=2,
  "quarterly" FREQ=MONTHLY;INTERVAL=3, "twice a year"/"biannually" FREQ=MONTHLY;INTERVAL=6,
  "every year in October" FREQ=YEARLY;BYMONTH=10. "Annually or at least biennially" is
  FREQ=YEARLY; the looser bound is kept in ``reason``.
- ``needs_review`` is true whenever the reading is not certain: every ``event`` and
  ``unscheduled``, a recurrence with no rrule, an assumed year or fiscal year, ASAP, a numeric
  date with two valid readings, a conditional date, and any phrase the grammar only partly read.
  ``reason`` always says in one sentence how the phrase was read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import date
from typing import cast

from engine.plandoc import KINDS
from engine.timeframe.clauses import clause, clear_plans
from engine.timeframe.dated import clear_connectors
from engine.timeframe.dates import Env, clear_periods
from engine.timeframe.languages import LANGUAGES, clear_wordings, detect, detect_plan, to_english, unaccented
from engine.timeframe.reading import Ctx, Reading, clear_skeletons, fmt, trim
from engine.timeframe.tokens import NUMBERS

__all__ = ["KINDS", "LANGUAGES", "Milestone", "Schedule", "clear_caches", "detect", "detect_plan", "parse"]


@dataclass(frozen=True, slots=True)
class Milestone:
    """One dated part of a phrase ("First outputs" due 2000-09-30); dates are local."""

    label: str
    due: date | None
    start: date | None


@dataclass(frozen=True, slots=True)
class Schedule:
    """How a time-frame phrase was read; dates are local calendar dates in the plan's zone."""

    text: str
    kind: str
    start: date | None
    due: date | None
    rrule: str | None
    milestones: tuple[Milestone, ...]
    event: str | None
    needs_review: bool
    reason: str

    def as_json(self) -> dict[str, object]:
        """Return the contract's JSON object (dates as "YYYY-MM-DD" or None)."""
        return {
            "text": self.text,
            "kind": self.kind,
            "start": _iso(self.start),
            "due": _iso(self.due),
            "rrule": self.rrule,
            "milestones": [{"label": m.label, "due": _iso(m.due), "start": _iso(m.start)} for m in self.milestones],
            "event": self.event,
            "needs_review": self.needs_review,
            "reason": self.reason,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Schedule:
        """Return the ``Schedule`` that ``as_json`` gave ``data``; ValueError if it is malformed."""
        milestones = data.get("milestones")
        if not isinstance(milestones, list):
            raise ValueError("milestones: expected a list")
        return cls(
            text=_str(data, "text"),
            kind=_kind(data),
            start=_date(data, "start"),
            due=_date(data, "due"),
            rrule=_opt_str(data, "rrule"),
            milestones=tuple(_milestone(m) for m in milestones),
            event=_opt_str(data, "event"),
            needs_review=_bool(data, "needs_review"),
            reason=_str(data, "reason"),
        )


def parse(text: str, ref: date, *, fy_start: int | None = None, language: str | None = None) -> Schedule:
    """Return how ``text`` reads against the reference date ``ref`` (local dates; never raises).

    ``fy_start`` is the month (1-12) fiscal years start in; None reads "FY" as the calendar year.
    ``language`` is "en", "fr" or "es"; None (or another value) guesses it from the phrase's words.
    """
    try:
        told = language if language in LANGUAGES else None
        try:
            ctx = _CTXS.get((text, ref, fy_start, told))
        except TypeError:  # an argument that cannot be a key fails below as it always did
            ctx = None
        reading = _read(text, ref, fy_start, told) if ctx is None else _read_ctx(ctx, fy_start)
    except Exception as exc:  # a phrase must never stop an import; the reason names the failure
        reading = Reading(
            "unscheduled",
            main=f"Read as unscheduled: the phrase could not be read (internal error {type(exc).__name__})",
        )
    return _schedule(text, reading)


def clear_caches() -> None:
    """Forget what the reader keeps between phrases (the Periods of months and days it built, the connecting
    words it looked up, one ``Env`` per reference date, the English wordings' facts, the English words of French
    and Spanish phrases, the phrases' skeletons and tokens, each phrase's ``Ctx`` per reference date, fiscal-year
    start and language, and what a skeleton's clauses, dated clauses and parts are whatever their dates): the next
    phrases are read as the first ones of a process are. The readings are the same either way."""
    _CTXS.clear()
    _SEMICOLON_PARTS.clear()
    _LIST_PARTS.clear()
    clear_plans()
    clear_periods()
    clear_connectors()
    _ENVS.clear()
    _WORDINGS.clear()
    clear_wordings()
    clear_skeletons()


# ---------------------------------------------------------------- reading

_MAX_CHARS = 400
_TRANS = {c: " " for c in (*range(32), 127, 0xA0, 0x2002, 0x2003, 0x2009, 0x202F)}
_TRANS.update({ord(c): " " for c in "@#%"})
_TRANS.update({ord(c): "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2192\u27f6"})
_TRANS.update({ord(c): "'" for c in "\u2018\u2019\u00b4`"})
_SEMICOLON = re.compile(";")
_LATIN = re.compile(r"[a-z0-9]")
_SPELLED_TWICE = re.compile(r"\b(?P<w>" + "|".join(sorted(NUMBERS, key=len, reverse=True)) + r")\s*\((?P<d>\d{1,3})\)")
# "Monday 14 January 2019 to Friday 15 March 2019": the day of the week adds nothing to the date
_WEEKDAY = re.compile(r"\b(?:mon|tues|wednes|thurs|fri|satur|sun)day\b,?(?=\s*\d)")
_LIST_SEP = re.compile(r"\s*,\s*(?:and\s+|then\s+)?|\s+(?:and|then)\s+(?:then\s+)?|\s+[/+]\s+|\s*/\s+|\s+/\s*")


def _read(text: str, ref: date, fy_start: int | None, told: str | None) -> Reading:
    language = told or detect(text)
    core = text.strip()
    if not core:
        return Reading("unscheduled", main="Read as unscheduled: the cell is empty, so no time can be derived")
    if len(core) > _MAX_CHARS:
        return Reading(
            "unscheduled", main=f"Read as unscheduled: {len(core)} characters is far longer than any time frame"
        )
    orig, low, back = _WORDINGS.get((core, language)) or _wording(core, language)
    if low is None:
        return Reading(
            "unscheduled", main="Read as unscheduled: the phrase has no words or numbers that planwatch reads"
        )
    fy = fy_start if fy_start is not None and 1 <= fy_start <= 12 else None
    ctx = Ctx(_env(ref, fy, language != "en"), orig, low, back)
    if len(_CTXS) >= 4096:
        _CTXS.clear()
    _CTXS[text, ref, fy_start, told] = ctx
    return _read_ctx(ctx, fy_start)


# A phrase read against a reference date, fiscal-year start and language it was read against before finds its
# ``Ctx`` here (4,096 at most): its words, skeleton and tokens, and its ``Env``, in one look-up instead of one per
# cache and the language guessed again. Only what the phrase is made of is kept: it is read again from it.
_CTXS: dict[tuple[str, date, int | None, str | None], Ctx] = {}


def _read_ctx(ctx: Ctx, fy_start: int | None) -> Reading:
    r = _read_parts(ctx)
    if fy_start is not None and not 1 <= fy_start <= 12:
        r.review.append(f"the fiscal-year start {fy_start} is not a month and was ignored")
    return r


_Wording = tuple[str, "str | None", "Callable[[int, bool], int] | None"]
_WORDINGS: dict[tuple[str, str], _Wording] = {}


def _wording(core: str, language: str) -> _Wording:
    """The words the grammar reads in ``core``: the phrase as quoted (``orig``), its lower-cased English words
    (``low``, None when there are none to read) and the map from ``low``'s positions back to ``orig`` (None when
    they are the same). Kept per phrase and language (4,096 at most): a plan's phrases repeat, and a plan is read
    again by every command that reads its time frames."""
    back = None
    if language == "en":
        low = core.lower()
        orig = core if len(low) == len(core) else low
    else:  # French or Spanish: the grammar reads the phrase's English words
        accented = core.lower()
        plain_low = unaccented(accented)
        orig = core if len(plain_low) == len(core) else plain_low
        english = to_english(plain_low, language, accented)
        low, back = english.text, english.back
    if not (low.isascii() and low.isprintable()) or "@" in low or "#" in low or "%" in low:
        low = low.translate(_TRANS)
    got: _Wording
    if not _LATIN.search(low):
        got = orig, None, None
    else:
        if "(" in low:
            low = _SPELLED_TWICE.sub(_one_spelling, low)
        if "day" in low:
            low = _WEEKDAY.sub(_blank, low)
        got = orig, low, back
    if len(_WORDINGS) >= 4096:
        _WORDINGS.clear()
    _WORDINGS[core, language] = got
    return got


_ENVS: dict[tuple[date, int | None, bool], Env] = {}


def _env(ref: date, fy: int | None, dayfirst: bool) -> Env:
    """The phrase's ``Env``: a plan's phrases share one (a few hundred at most are kept)."""
    key = (ref, fy, dayfirst)
    env = _ENVS.get(key)
    if env is None:
        if len(_ENVS) >= 512:
            _ENVS.clear()
        env = _ENVS[key] = Env(ref, fy, dayfirst)
    return env


def _one_spelling(m: re.Match[str]) -> str:
    """ "thirty (30)" reads as "thirty": the figure in brackets repeats the word (same length kept)."""
    if NUMBERS.get(m["w"]) != int(m["d"]):
        return m[0]
    return m[0][: m.end("w") - m.start()] + " " * (m.end() - m.end("w"))


def _blank(m: re.Match[str]) -> str:
    return " " * len(m[0])


def _read_parts(ctx: Ctx) -> Reading:
    s = ctx.skel
    if ";" in s:
        spans = _SEMICOLON_PARTS.get(s)
        if spans is None:
            spans = _keep(_SEMICOLON_PARTS, s, _cut(s, [m.span() for m in _SEMICOLON.finditer(s)]))
        if len(spans) > 1:
            return _combine(ctx, spans)
    r = clause(ctx, 0, len(s))
    if r.extra:
        spans = _LIST_PARTS.get(s)
        if spans is None:
            spans = _keep(_LIST_PARTS, s, _list_spans(s))
        if len(spans) > 1:
            multi = _combine(ctx, spans)
            if len(multi.milestones) > 1:
                return multi
    return r


# A skeleton's parts between semicolons, and between the commas, "and", "then" and slashes of a list: kept per
# skeleton (4,096 at most each), as they depend on nothing else.
_Spans = list[tuple[int, int]]
_SEMICOLON_PARTS: dict[str, _Spans] = {}
_LIST_PARTS: dict[str, _Spans] = {}


def _keep(kept: dict[str, _Spans], s: str, spans: _Spans) -> _Spans:
    if len(kept) >= 4096:
        kept.clear()
    kept[s] = spans
    return spans


def _cut(s: str, seps: list[tuple[int, int]]) -> list[tuple[int, int]]:
    bounds = [0, *(x for sep in seps for x in sep), len(s)]
    spans = [trim(s, bounds[i], bounds[i + 1]) for i in range(0, len(bounds), 2)]
    return [(a, b) for a, b in spans if a < b]


def _list_spans(skel: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for a, b in _cut(skel, [m.span() for m in _LIST_SEP.finditer(skel)]):
        if spans and not (_dated(skel[a:b]) and _dated(skel[slice(*spans[-1])])):
            spans[-1] = (spans[-1][0], b)
        else:
            spans.append((a, b))
    return spans


def _dated(skel: str) -> bool:
    return "@" in skel or "#" in skel


def _combine(ctx: Ctx, spans: list[tuple[int, int]]) -> Reading:
    """One reading from several parts: a milestone per dated part, the earliest start, latest due."""
    parts = [(clause(ctx, a, b), a, b) for a, b in spans]
    dated = [(r, a, b) for r, a, b in parts if r.start or r.due]
    if len(dated) < 2:
        base = dated[0][0] if dated else parts[0][0]
        for r, a, b in parts:
            if r is not base:
                _merge_undated(ctx, base, r, a, b)
        return base
    out = Reading("deadline")
    for i, (r, a, b) in enumerate(dated):
        out.milestones.append((r.label or r.qual or ctx.src(a, b), r.due, r.start))
        if r.review:
            out.review.extend(x for x in r.review if x not in out.review)
        if r.bare and i and dated[0][0].kind != "deadline":
            out.review.append(f"'{ctx.src(a, b)}' has no verb of its own and is read as a deadline")
    for r, a, b in parts:
        if not (r.start or r.due):
            _merge_undated(ctx, out, r, a, b)
    return _multi_kind(out)


def _multi_kind(out: Reading) -> Reading:
    starts = [s for _, _, s in out.milestones if s]
    dues = [d for _, d, _ in out.milestones if d]
    out.start, out.due = min(starts, default=None), max(dues, default=None)
    if out.start and out.due and out.due < out.start:
        out.review.append("the parts' dates conflict, so only the latest due date is kept")
        out.start = None
    if out.kind != "recurring":
        out.kind = "window" if out.start and out.due else "deadline" if out.due else "start"
    summary = ", ".join(f"{lbl}: {_part(d, s)}" for lbl, d, s in out.milestones)
    out.main = (
        f"Read as {len(out.milestones)} dated parts ({summary}), from the earliest start to the latest due date"
    ) + (f", recurring {out.rrule}" if out.rrule else "")
    return out


def _part(due: date | None, start: date | None) -> str:
    if start and due:
        return f"{fmt(start)} to {fmt(due)}"
    return f"due {fmt(due)}" if due else f"start {fmt(start)}"


def _merge_undated(ctx: Ctx, base: Reading, r: Reading, a: int, b: int) -> None:
    if r.kind == "recurring" and r.rrule and base.kind == "continuous" and not base.rrule:
        base.rrule = r.rrule
        base.notes.append(f"'{ctx.src(a, b)}' gives its review rhythm, {r.rrule}")
    elif r.kind == "recurring" and r.rrule and base.kind != "recurring":
        base.kind, base.rrule = "recurring", r.rrule
        when = f", starting {fmt(base.start)}" if base.start else ""
        when += f", with {fmt(base.due)} as due date" if base.due else ""
        base.main = f"Read as recurring, {r.rrule} ('{ctx.src(a, b)}'){when}"
    else:
        base.notes.append(f"the part '{ctx.src(a, b)}' adds no date ({r.kind})")


# ---------------------------------------------------------------- the schedule


def _schedule(text: str, r: Reading) -> Schedule:
    start, due = r.start, r.due
    if start and due and due < start:
        r.review.append("the start fell after the due date, so the start was dropped")
        start = None
    if r.notes or r.review:
        notes = r.notes + [x for x in r.review if x not in r.notes]
        reason = r.main + "".join("; " + n for n in notes) + "."
    else:
        reason = r.main + "."
    needs_review = bool(r.review) or r.kind in ("event", "unscheduled") or (r.kind == "recurring" and r.rrule is None)
    marks = r.milestones
    if not marks and r.label and (start or due):
        marks = [(r.label, due, start)]
    milestones = tuple([_new_milestone(*m) for m in marks]) if marks else ()
    return _new_schedule(text, r.kind, start, due, r.rrule, milestones, r.event, needs_review, reason)


class _Draft:
    """A ``Schedule``'s slots in a class that is not frozen: ``_new_schedule`` fills one, then makes it a
    ``Schedule`` (the two layouts are the same, which ``__class__`` assignment checks, as the import does here)."""

    __slots__ = ("due", "event", "kind", "milestones", "needs_review", "reason", "rrule", "start", "text")

    text: str
    kind: str
    start: date | None
    due: date | None
    rrule: str | None
    milestones: tuple[Milestone, ...]
    event: str | None
    needs_review: bool
    reason: str


assert sorted(_Draft.__slots__) == sorted(f.name for f in fields(Schedule))


def _new_schedule(
    text: str,
    kind: str,
    start: date | None,
    due: date | None,
    rrule: str | None,
    milestones: tuple[Milestone, ...],
    event: str | None,
    needs_review: bool,
    reason: str,
) -> Schedule:
    """``Schedule(...)`` without its cost: a frozen dataclass's ``__init__`` sets each field through
    ``object.__setattr__``; setting each slot through its descriptor's ``__set__`` instead cost 8,100 machine
    instructions a schedule (callgrind), each call building a tuple of its arguments; a draft's slots set as plain
    attributes, the draft then made a ``Schedule``, cost 3,800. The same object, as the tests check."""
    draft = _Draft()
    draft.text = text
    draft.kind = kind
    draft.start = start
    draft.due = due
    draft.rrule = rrule
    draft.milestones = milestones
    draft.event = event
    draft.needs_review = needs_review
    draft.reason = reason
    draft.__class__ = Schedule  # type: ignore[assignment]
    return cast(Schedule, draft)


_SET_LABEL, _SET_MILESTONE_DUE, _SET_MILESTONE_START = (getattr(Milestone, f.name).__set__ for f in fields(Milestone))


def _new_milestone(label: str, due: date | None, start: date | None) -> Milestone:
    """``Milestone(label, due, start)`` as ``_new_schedule`` makes a ``Schedule``."""
    milestone: Milestone = object.__new__(Milestone)
    _SET_LABEL(milestone, label)
    _SET_MILESTONE_DUE(milestone, due)
    _SET_MILESTONE_START(milestone, start)
    return milestone


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _str(data: Mapping[str, object], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise ValueError(f"{key}: expected a string")
    return value


def _opt_str(data: Mapping[str, object], key: str) -> str | None:
    return None if data.get(key) is None else _str(data, key)


def _kind(data: Mapping[str, object]) -> str:
    kind = _str(data, "kind")
    if kind not in KINDS:
        raise ValueError(f"kind: expected one of {', '.join(KINDS)}")
    return kind


def _date(data: Mapping[str, object], key: str) -> date | None:
    return None if data.get(key) is None else date.fromisoformat(_str(data, key))


def _bool(data: Mapping[str, object], key: str) -> bool:
    value = data.get(key)
    if not isinstance(value, bool):
        raise ValueError(f"{key}: expected true or false")
    return value


def _milestone(data: object) -> Milestone:
    if not isinstance(data, Mapping):
        raise ValueError("milestones: expected objects")
    return Milestone(_str(data, "label"), _date(data, "due"), _date(data, "start"))
