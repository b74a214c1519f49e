"""From one action (and its policy) to the events of the feeds; pure, no clock, no I/O.

One all-day event per due date and start date (a window has both); a recurring action is one
series with its RRULE, done occurrences as RECURRENCE-ID overrides and, for completion-based
rhythms, skipped occurrences as EXDATE; check-ins follow the policy's rhythm. The dates are the
planner's own (``planner`` reminds about exactly these occurrences). UIDs are filled in later
(``calendars.build``), from the registry of published events; a new event's UID is made from its
``uid_day`` (``calendars.uids``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from dateutil.rrule import rrule, rrulestr

from engine.calendars.model import (
    ActionInfo,
    EscalationInfo,
    EventSpec,
    OwnerInfo,
    PlanInfo,
    SectionInfo,
    TodoSpec,
)
from engine.calendars.rhythm import checkin_days, rhythm_words
from engine.calendars.uids import series_uid_day
from engine.languages import day as day_in_words
from engine.languages import gettext, ngettext
from engine.rules.durations import BusinessCalendar, Duration
from engine.rules.policy import Policy, wants_checkin
from engine.zones import zone

# VTODO STATUS and PERCENT-COMPLETE (RFC 5545 3.8.1.11, 3.8.1.8); planwatch knows "in progress", not how far: it
# says half-way. A report of implementation waiting for its verifier is work still in process, nearly complete:
# COMPLETED comes only with the verifier's confirmation.
TODO_STATUS = {
    "open": ("NEEDS-ACTION", 0),
    "in_progress": ("IN-PROCESS", 50),
    "reported": ("IN-PROCESS", 90),
    "done": ("COMPLETED", 100),
}


@dataclass(frozen=True, slots=True)
class ActionContext:
    """What an action's events need besides the action: plan, section path (Part first), owner, policy."""

    plan: PlanInfo
    path: tuple[SectionInfo, ...]
    owner: OwnerInfo | None
    policy: Policy | None
    base_url: str
    language: str = "en"  # the feed's: its texts (summaries, descriptions) are written in it


def action_events(a: ActionInfo, ctx: ActionContext) -> list[EventSpec]:
    """Return the events of action ``a`` in a fixed order: start, due, series, done extras, check-ins."""
    found, notes = action_event_leads(a, ctx)
    return [replace(spec, description="\n".join((spec.description, *notes))) for spec in found]


def action_event_leads(a: ActionInfo, ctx: ActionContext) -> tuple[list[EventSpec], tuple[str, ...]]:
    """Return the events of action ``a`` as ``action_events`` does, each description only its first line (what
    the event says of itself: "Due 30 April 2000"), and the description's other lines, the same for every event
    of the action, in parts to join with newlines (see ``description_notes``): a cache keeps them once."""
    base = _base(a, ctx)
    found: list[EventSpec] = []
    if a.kind == "recurring":
        found.extend(_series(a, ctx, base))
    else:
        if a.start is not None:
            found.append(_single(a, ctx, base, "start", a.start))
        if a.due_day is not None:
            found.append(_single(a, ctx, base, "due", a.due_day))
    policy = ctx.policy
    if policy is not None and policy.checkin is not None and wants_checkin(a.kind, a.due_day):
        found.extend(_checkins(a, ctx, base, policy))
    return found, description_notes(a, ctx) if found else ()


def _state(a: ActionInfo) -> str:
    if a.removed_at is not None or a.status == "dropped":
        return "cancelled"
    return {"done": "done", "on_hold": "hold", "reported": "reported"}.get(a.status, "open")


def _base(a: ActionInfo, ctx: ActionContext) -> dict[str, Any]:
    """The fields every event of the action shares."""
    state = _state(a)
    part = next((s for s in ctx.path if s.level == "part"), ctx.path[0] if ctx.path else None)
    since = a.removed_at or a.finished_at or a.updated_at
    return {
        "plan_id": a.plan_id,
        "ref": a.ref,
        "uid": "",
        "url": action_url(ctx.base_url, a.plan_id, a.ref),
        "categories": _categories(part.number if part else None, a.kind, ctx.language),
        "state": state,
        "modified": a.updated_at,
        "owner_id": a.owner_id,
        "part": part.key if part else "",
        "ordinal": a.ordinal,
        "title": a.title,
        "cancelled_since": since.astimezone(zone(ctx.plan.timezone)).date() if state == "cancelled" else None,
    }


def action_url(base_url: str, plan_id: str, ref: str) -> str:
    """Return the action's page on the web app: ``/actions/PLAN/REF``, which the web app opens."""
    from urllib.parse import quote

    return f"{base_url.rstrip('/')}/actions/{quote(plan_id, safe='')}/{quote(ref, safe='')}"


@lru_cache(maxsize=1024)  # one pair for every action of a Part and kind
def _categories(part_number: str | None, kind: str, language: str) -> tuple[str, str]:
    return (
        _part_heading(part_number, language) if part_number is not None else gettext(language, "No Part"),
        gettext(language, kind),  # the kinds' words are marked with the pages' (engine.web.templating)
    )


def _part_heading(number: str, language: str) -> str:
    return gettext(language, "Part %(number)s") % {"number": number}


def _label(what: str, state: str, language: str) -> str:
    """An event's label with its state, as one message: "due", "due (done)", "check-in (on hold)"."""
    kind = "due" if what == "recurring" else what
    return LABELS.get((kind, state), LABELS[(kind, "open")])(language)


# Whole labels, each language writing the event's kind and state its own way.
LABELS: dict[tuple[str, str], Callable[[str], str]] = {
    ("due", "open"): lambda lang: gettext(lang, "due"),
    ("due", "done"): lambda lang: gettext(lang, "due (done)"),
    ("due", "hold"): lambda lang: gettext(lang, "due (on hold)"),
    ("due", "cancelled"): lambda lang: gettext(lang, "due (dropped)"),
    ("due", "reported"): lambda lang: gettext(lang, "due (reported implemented)"),
    ("start", "open"): lambda lang: gettext(lang, "starts"),
    ("start", "done"): lambda lang: gettext(lang, "starts (done)"),
    ("start", "hold"): lambda lang: gettext(lang, "starts (on hold)"),
    ("start", "cancelled"): lambda lang: gettext(lang, "starts (dropped)"),
    ("start", "reported"): lambda lang: gettext(lang, "starts (reported implemented)"),
    ("checkin", "open"): lambda lang: gettext(lang, "check-in"),
    ("checkin", "done"): lambda lang: gettext(lang, "check-in (done)"),
    ("checkin", "hold"): lambda lang: gettext(lang, "check-in (on hold)"),
    ("checkin", "cancelled"): lambda lang: gettext(lang, "check-in (dropped)"),
    ("checkin", "reported"): lambda lang: gettext(lang, "check-in (reported implemented)"),
}


def _summary(a: ActionInfo, what: str, state: str, day: date | None = None, language: str = "en") -> str:
    name = a.title
    for label_text, due, start in a.milestones:
        if day is not None and label_text and day.isoformat() in {due, start}:
            name = gettext(language, "%(milestone)s: %(title)s") % {"milestone": label_text, "title": name}
            break
    return summary_line(a.ref, _label(what, state, language), name, language)


def withdrawn_summary(ref: str, what: str, title: str, language: str = "en") -> str:
    """Return the summary of an event no longer produced, made again from its kind (``what``) in ``language``."""
    if what.startswith("escalation"):
        return gettext(language, "%(ref)s escalation: %(title)s") % {"ref": ref, "title": title}
    kind = what if what in {"start", "due", "checkin"} else "due"
    state = "done" if what.startswith("done") else "open"
    return summary_line(ref, _label(kind, state, language), title, language)


def summary_line(ref: str, label: str, name: str, language: str = "en") -> str:
    """Return an event's summary: "II.3.1 due: Train staff", "II.3.1 échéance : Former le personnel"."""
    return gettext(language, "%(ref)s %(label)s: %(title)s") % {"ref": ref, "label": label, "title": name}


def _description(a: ActionInfo, ctx: ActionContext, lead: str) -> str:
    return "\n".join((lead, *description_notes(a, ctx)))


def description_notes(a: ActionInfo, ctx: ActionContext) -> tuple[str, ...]:
    """Return the lines of an action's event descriptions after the first, in parts to join with newlines: the
    title; the section path and its context; the owner, time frame and status; then the extensions and the
    action's link. The section's lines are one string for every action of the section, and the owner's, time
    frame's and status's one for every action that has the same."""
    lang = ctx.language
    owner = ctx.owner
    about = _about(owner.name if owner else None, owner.email if owner else "", a.timeframe, a.status, lang)
    link = gettext(lang, "Action: %(url)s") % {"url": action_url(ctx.base_url, a.plan_id, a.ref)}
    if a.extensions:
        link = "\n".join([*extension_lines(a, lang), link])
    sections = _section_lines(ctx.path, lang)
    return (a.title, sections, about, link) if sections else (a.title, about, link)


@lru_cache(maxsize=4096)
def _about(name: str | None, email: str, timeframe: str, status: str, lang: str) -> str:
    """The owner, time frame and status lines of an action's descriptions."""
    if name is None:
        lines = [gettext(lang, "Owner: none yet (the secretariat assigns one)")]
    else:
        lines = [gettext(lang, "Owner: %(name)s <%(email)s>") % {"name": name, "email": email}]
    frame = timeframe or gettext(lang, "(none given)")
    lines.append(gettext(lang, "Time frame: %(timeframe)s") % {"timeframe": frame})
    lines.append(gettext(lang, "Status: %(status)s") % {"status": _status_words(status, lang)})
    return "\n".join(lines)


@lru_cache(maxsize=4096)  # a section's lines are the same in every event of its actions: one string for them all
def _section_lines(path: tuple[SectionInfo, ...], lang: str) -> str:
    """The section path, the Part first, each as "heading: title", then the nearest context."""
    lines = []
    for section in path:
        heading = _part_heading(section.number, lang) if section.level == "part" else section.number
        lines.append(f"{heading}: {section.title}" if heading else section.title)
    context = next((s.context for s in reversed(path) if s.context), "")
    if context:
        lines.append(gettext(lang, "Context: %(context)s") % {"context": context})
    return "\n".join(lines)


def _status_words(status: str, language: str) -> str:
    words = {
        "open": gettext(language, "open"),
        "in_progress": gettext(language, "in progress"),
        "done": gettext(language, "done"),
        "on_hold": gettext(language, "on hold"),
        "dropped": gettext(language, "dropped"),
        "reported": gettext(language, "reported implemented"),
    }
    return words.get(status, status.replace("_", " "))


def extension_lines(a: ActionInfo, language: str = "en") -> list[str]:
    """Return the action's extension history: the original due date, how many, and each one."""
    if not a.extensions:
        return []
    original = long_date(a.due, language) if a.due else gettext(language, "(none given)")
    found = [
        gettext(language, "Extensions: %(num)d; originally due %(date)s") % {"num": len(a.extensions), "date": original}
    ]
    for e in a.extensions:
        values = {
            "day": long_date(e.day, language),
            "old": long_date(e.old, language) if e.old else "",
            "new": long_date(e.new, language),
            "by": e.granted_by,
            "asked": e.asked_by,
            "reason": e.reason,
        }
        found.append(_extension_line(bool(e.old), bool(e.asked_by), bool(e.reason), language) % values)
    return found


def _extension_line(moved: bool, asked: bool, why: bool, language: str) -> str:
    """One extension as a whole message: from which date (if known), at whose request (if any), why (if said)."""
    said = {
        (True, True): gettext(language, "- %(day)s: %(old)s to %(new)s, granted by %(by)s at the request of %(asked)s"),
        (True, False): gettext(language, "- %(day)s: %(old)s to %(new)s, granted by %(by)s"),
        (False, True): gettext(language, "- %(day)s: to %(new)s, granted by %(by)s at the request of %(asked)s"),
        (False, False): gettext(language, "- %(day)s: to %(new)s, granted by %(by)s"),
    }[(moved, asked)]
    return (
        gettext(language, "%(extension)s (%(reason)s)") % {"extension": said, "reason": "%(reason)s"} if why else said
    )


@lru_cache(maxsize=8192)  # Babel's date formatting costs about 0.1 ms; a feed writes the same days many times
def long_date(day: date, language: str = "en") -> str:
    """Return a date as people write it in ``language``: 30 April 2000, 30 avril 2000, 30 de abril de 2000."""
    return f"{day.day} {day:%B %Y}" if language == "en" else day_in_words(day, language)


def _single(a: ActionInfo, ctx: ActionContext, base: dict[str, Any], what: str, day: date) -> EventSpec:
    state = base["state"]
    extended = what == "due" and a.extended_to is not None and a.due is not None and a.extended_to != a.due
    return EventSpec(
        key=f"{a.plan_id}|{a.ref}|{what}",
        what=what,
        day=day,
        summary=_summary(a, what, state, day, ctx.language),
        description=_lead(what, day, a.due if extended else None, ctx.language),
        alarm=_alarm(ctx.policy, "due" if what == "due" else "start", day),
        todo=_todo(a, ctx.plan, day) if what == "due" else None,
        uid_day=(a.due if what == "due" else a.start) or day,
        **base,
    )


@lru_cache(maxsize=8192)  # one string for all the events of a day: a big feed has many
def _lead(what: str, day: date, extended_from: date | None, lang: str) -> str:
    """The first line of a start or due event's description: "Starts 1 March 2000", "Due 30 April 2000"."""
    if what != "due":
        return gettext(lang, "Starts %(date)s") % {"date": long_date(day, lang)}
    if extended_from is not None:
        return gettext(lang, "Due %(date)s (extended from %(old)s)") % {
            "date": long_date(day, lang),
            "old": long_date(extended_from, lang),
        }
    return gettext(lang, "Due %(date)s") % {"date": long_date(day, lang)}


def _alarm(policy: Policy | None, anchor: str, day: date) -> timedelta | None:
    """The TRIGGER of the policy's first (earliest) reminder before ``day``, at the delivery hour."""
    if policy is None:
        return None
    steps = tuple(s.before for s in policy.remind if s.anchor == anchor)
    if not steps:
        return None
    d = policy.delivery
    return _trigger(steps, tuple(d.holidays), d.business_days, d.hour, day)


@lru_cache(maxsize=65536)
def _trigger(
    steps: tuple[Duration, ...], holidays: tuple[date, ...], business_days: bool, hour: time, day: date
) -> timedelta:
    """The planner's reminder day (``planner._reminders``): offset back, then the business day on or before."""
    calendar = BusinessCalendar(holidays, enabled=business_days)
    earliest = min(calendar.on_or_before(step.before(day, calendar)) for step in steps)
    return timedelta(hours=hour.hour, minutes=hour.minute) - timedelta(days=(day - earliest).days)


def _todo(a: ActionInfo, plan: PlanInfo, day: date) -> TodoSpec:
    """The VTODO twin: DUE at the last second of the due day in the plan's zone."""
    if _state(a) == "cancelled":
        return _todo_on(day, plan.timezone, "CANCELLED", 0, None)
    status, percent = TODO_STATUS.get(a.status, ("NEEDS-ACTION", 0))
    completed = a.finished_at.astimezone(UTC) if a.status == "done" and a.finished_at else None
    return _todo_on(day, plan.timezone, status, percent, completed)


@lru_cache(maxsize=8192)  # one for all the open deadlines of a day: a big feed has many
def _todo_on(day: date, timezone: str, status: str, percent: int, completed: datetime | None) -> TodoSpec:
    return TodoSpec(datetime.combine(day, time(23, 59, 59), zone(timezone)), status, percent, completed)


# ------------------------------------------------------------------------------------ series


def _grid(rule_text: str, anchor: date) -> rrule:
    return rrulestr(rule_text, dtstart=datetime.combine(anchor, time(0)))  # type: ignore[return-value]


def _series(a: ActionInfo, ctx: ActionContext, base: dict[str, Any]) -> list[EventSpec]:
    """One series for a recurring action, as the planner's ``_recurring`` reads it."""
    if not a.rrule:
        return []
    policy = ctx.policy
    completion_based = policy is not None and policy.recurrence.completion_based
    anchor = a.start or ctx.plan.ref_date
    grid = _grid(a.rrule, anchor)
    strict = completion_based or a.start is None
    first_at = grid.after(datetime.combine(anchor, time(0)), inc=not strict)
    lc = a.last_completed
    if (
        completion_based
        and lc is not None
        and grid.after(datetime.combine(lc, time(0)), inc=True) != datetime.combine(lc, time(0))
    ):
        # Done on a day off the rhythm: the next occurrences count from that day.
        anchor, grid = lc, _grid(a.rrule, lc)
        first_at = grid.after(datetime.combine(lc, time(0)))
    if first_at is None:
        return []
    first = first_at.date()
    done = _done_days(a)
    in_series = {
        d
        for d in done
        if d >= first and grid.after(datetime.combine(d, time(0)), inc=True) == datetime.combine(d, time(0))
    }
    skipped = _skipped(grid, first, lc, done) if completion_based and lc is not None else ()
    rule_text = _until(_recount(a.rrule, grid, anchor, first), a, ctx.plan)
    state = base["state"]
    series = EventSpec(
        key=f"{a.plan_id}|{a.ref}|recurring",
        what="recurring",
        day=first,
        rrule=rule_text,
        exdates=skipped,
        done_days=tuple(sorted(in_series)),
        summary=_summary(a, "recurring", state, language=ctx.language),
        done_summary=_summary(a, "recurring", "done", language=ctx.language),
        description=gettext(ctx.language, "Recurring: %(rhythm)s; first %(date)s")
        % {"rhythm": a.timeframe or a.rrule, "date": long_date(first, ctx.language)},
        alarm=_alarm(policy, "due", first),
        uid_day=series_uid_day(a.start, ctx.plan.ref_date),
        **base,
    )
    extras = [_done_extra(a, ctx, base, d) for d in sorted(done - in_series)]
    return [series, *extras]


def _done_days(a: ActionInfo) -> set[date]:
    days = set()
    for label in a.completed:
        try:
            days.add(date.fromisoformat(label))
        except ValueError:
            continue
    return days


def _skipped(grid: rrule, first: date, lc: date, done: set[date]) -> tuple[date, ...]:
    """Occurrences up to the last completion that were never done: the planner moved past them."""
    begin, end = datetime.combine(first, time(0)), datetime.combine(lc, time(0))
    return tuple(m.date() for m in grid.between(begin, end, inc=True) if m.date() not in done)


def _recount(rule_text: str, grid: rrule, anchor: date, first: date) -> str:
    """A COUNT counts from the rule's own start: subtract the occurrences before the first shown."""
    if "COUNT=" not in rule_text.upper():
        return rule_text
    before = len(grid.between(datetime.combine(anchor, time(0)), datetime.combine(first, time(0)), inc=True)) - 1
    parts = [p for p in rule_text.split(";") if p]
    out = []
    for part in parts:
        name, _, value = part.partition("=")
        out.append(f"COUNT={max(int(value) - before, 1)}" if name.upper() == "COUNT" else part)
    return ";".join(out)


def _until(rule_text: str, a: ActionInfo, plan: PlanInfo) -> str:
    """A done action's series ends on the day it was done (UNTIL, a DATE like DTSTART)."""
    upper = rule_text.upper()
    if _state(a) != "done" or "UNTIL=" in upper or "COUNT=" in upper:
        return rule_text
    end = (a.finished_at or a.updated_at).astimezone(zone(plan.timezone)).date()
    return f"{rule_text};UNTIL={end:%Y%m%d}"


def _done_extra(a: ActionInfo, ctx: ActionContext, base: dict[str, Any], day: date) -> EventSpec:
    """A completion recorded for a day that is not an occurrence of the series: shown on its own."""
    fields = {**base, "state": "done"}
    return EventSpec(
        key=f"{a.plan_id}|{a.ref}|done-{day.isoformat()}",
        what=f"done-{day.isoformat()}",
        day=day,
        summary=_summary(a, "recurring", "done", language=ctx.language),
        description=gettext(ctx.language, "Done %(date)s") % {"date": long_date(day, ctx.language)},
        **fields,
    )


# ---------------------------------------------------------------------------------- check-ins


def _checkins(a: ActionInfo, ctx: ActionContext, base: dict[str, Any], policy: Policy) -> list[EventSpec]:
    """The check-in rhythm: every ``checkin.every`` from the start (or the plan's date)."""
    assert policy.checkin is not None
    rhythm = checkin_days(policy.checkin.every, a.start or ctx.plan.ref_date)
    if rhythm is None:
        return []
    first, rule_text, rdates = rhythm
    if rule_text is not None:
        rule_text = _until(rule_text, a, ctx.plan)
    state = base["state"]
    return [
        EventSpec(
            key=f"{a.plan_id}|{a.ref}|checkin",
            what="checkin",
            day=first,
            rrule=rule_text,
            rdates=rdates,
            summary=_summary(a, "checkin", state, language=ctx.language),
            description=gettext(ctx.language, "Check-in %(rhythm)s: planwatch asks the owner for a status update")
            % {"rhythm": rhythm_words(policy.checkin.every, ctx.language)},
            **base,
        )
    ]


# -------------------------------------------------------------------------------- escalations


def escalation_event(e: EscalationInfo, a: ActionInfo, ctx: ActionContext) -> EventSpec:
    """An open escalation as an all-day event on the day it fired (plan's zone), for supervisors."""
    base = _base(a, ctx)
    day = e.at.astimezone(zone(ctx.plan.timezone)).date()
    lang = ctx.language
    late = ngettext(lang, "%(num)d day overdue", "%(num)d days overdue", e.days_overdue) % {"num": e.days_overdue}
    what = f"escalation-{e.id}"
    fields = {
        **base,
        "categories": (base["categories"][0], gettext(lang, "escalation")),
        "state": "open",
        "modified": e.at,
        "team_only": True,
        "cancelled_since": None,
    }
    return EventSpec(
        key=f"{a.plan_id}|{a.ref}|{what}",
        what=what,
        day=day,
        summary=_escalation_summary(e, a, late, lang),
        description=_description(a, ctx, _escalation_line(e, late, lang)),
        **fields,
    )


def _escalation_summary(e: EscalationInfo, a: ActionInfo, late: str, lang: str) -> str:
    """Level 0 is the owner's own overdue notice: it is called so, not an escalation of level 0."""
    values = {"ref": a.ref, "level": e.level, "title": a.title, "late": late}
    if e.level == 0:
        return gettext(lang, "%(ref)s overdue notice: %(title)s (%(late)s)") % values
    return gettext(lang, "%(ref)s escalation level %(level)s: %(title)s (%(late)s)") % values


def _escalation_line(e: EscalationInfo, late: str, lang: str) -> str:
    values = {"level": e.level, "occurrence": occurrence_words(e.occurrence, lang), "late": late}
    if e.level == 0:
        return gettext(lang, "Overdue notice to the owner about %(occurrence)s: %(late)s") % values
    return gettext(lang, "Escalation level %(level)s about %(occurrence)s: %(late)s") % values


def occurrence_words(occurrence: str, language: str = "en") -> str:
    """Return what an escalation is about in words: "the due date of 31 May 2000", "the check-in of 28 March
    2000", "the start of 1 March 2000"; an occurrence of another form as it is."""
    said = {
        "check-in ": gettext(language, "the check-in of %(date)s"),
        "start ": gettext(language, "the start of %(date)s"),
        "": gettext(language, "the due date of %(date)s"),
    }
    due, reopened, again = occurrence.partition(" reopened ")  # a due date missed again after a reopening
    if reopened:
        try:
            days = {
                "date": long_date(date.fromisoformat(due), language),
                "again": long_date(date.fromisoformat(again), language),
            }
        except ValueError:
            return occurrence
        return gettext(language, "the due date of %(date)s, reopened %(again)s") % days
    for prefix, words in said.items():
        if occurrence.startswith(prefix):
            try:
                day = date.fromisoformat(occurrence.removeprefix(prefix).strip())
            except ValueError:
                continue
            return words % {"date": long_date(day, language)}
    return occurrence


def sort_key(spec: EventSpec) -> tuple[Any, ...]:
    """The fixed order of events in a feed: plan, plan order, then start, due, series, check-ins."""
    rank = {"start": 0, "due": 1, "recurring": 2, "checkin": 4}.get(spec.what, 3 if spec.what.startswith("done") else 5)
    return (spec.plan_id, spec.ordinal, spec.ref, rank, spec.day, spec.what)
