"""What must be said, to whom and when, for one action: pure, with ``now`` passed in.

``plan_action`` lists every notice the action's policy implies around ``now`` (reminders
before due or start dates, check-ins for ongoing work, the escalation ladder after a missed
date), keeps those that fell due in ``(since, now]`` and were not planned before, collapses
several missed notices for one occurrence and recipient into the latest (catch-up without a
flood), and returns the next instant anything can fall due (``next_fire_at``).

Every notice has a deterministic idempotency key (action, occurrence, step, recipient), so
planning twice never produces two. Datetimes are aware UTC; dates are plan-local days.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from operator import attrgetter
from typing import Any

from dateutil.rrule import rrulestr

from engine.rules.durations import BusinessCalendar, Duration
from engine.rules.loader import calendar_for
from engine.rules.policy import Delivery, EscalateStep, Policy, RemindStep, wants_checkin
from engine.zones import zone

ACTIVE = frozenset({"open", "in_progress"})
ASKED = ("check-in ", "stale ")  # occurrences that start with a question to the owner, not with a date
ASKING = frozenset({"checkin", "stale"})  # the steps that ask it
OWNER_ROLES = frozenset({"owner", "delegate"})
REPEAT_CAP = Duration(years=1)


@dataclass(frozen=True, slots=True)
class Person:
    """A recipient: an owner (``id``) or a bare address; ``tz`` is an IANA name, ``country`` ISO 3166 alpha-2."""

    id: str | None
    email: str
    tz: str = "UTC"
    name: str = ""
    digest: str = "none"
    country: str | None = None


@dataclass(frozen=True, slots=True)
class Away:
    """An owner's away period (first and last day, in the owner's zone) and the deputy who receives meanwhile."""

    first: date
    last: date
    deputy: Person


@dataclass(frozen=True, slots=True)
class PendingReport:
    """An owner's report of implementation waiting for its verifier (``occurrence`` "" for the action itself)."""

    report_id: int
    occurrence: str
    reported_at: datetime
    verifier: Person
    above: tuple[Person, ...] = ()  # the verifier's supervisor, who hears of a report left waiting too long
    reported_by: str = ""  # who reported it, by name
    note: str = ""  # what they said was done


@dataclass(slots=True)
class ActionView:
    """What the planner needs to know about one action; dates are plan-local days.

    Nothing changes a view once made. It is not frozen: a frozen dataclass sets each of its 23 fields through
    ``object.__setattr__``, and planning makes one view an action (6.5-11 us a view against 3.4-5.4 us, with
    keywords as planning makes it, at a load of 8 on two cores)."""

    action_id: int
    plan_id: str
    ref: str
    kind: str
    status: str
    plan_tz: str
    plan_date: date
    start: date | None = None
    due: date | None = None
    rrule: str | None = None
    title: str = ""
    last_completed: date | None = None
    last_progress_at: datetime | None = None
    completed: frozenset[str] = frozenset()
    people: Mapping[str, Sequence[Person]] = field(default_factory=dict)
    away: Away | None = None  # the owner's away period and deputy, if they named one
    addresses: Mapping[str, Person] = field(default_factory=dict)  # the owners directory by address (lower case)
    reopened_at: datetime | None = None  # when it was last reopened after being done or dropped
    returned: bool = False  # that reopening was its verifier returning a report: the owner was told then
    acceptance: str = "accepted"
    last_update_at: datetime | None = None  # the last progress report (else when the action came, or reopened)
    reports: tuple[PendingReport, ...] = ()  # reports of implementation waiting for verification


@dataclass(frozen=True, slots=True)
class History:
    """What was planned before: outbox keys, and (occurrence, step) pairs a supervisor acknowledged.

    ``sent_at`` gives, where known, the instant a key's message was planned for; ``quiet`` holds the keys
    recorded but never to be sent (suppressed). A key without a known instant counts as sent long ago.
    ``answered`` gives, per check-in skipped as answered early, the plan-local day of the report that answered it.
    """

    keys: frozenset[str] = frozenset()
    acknowledged: frozenset[tuple[str, str]] = frozenset()
    sent_at: Mapping[str, datetime] = field(default_factory=dict)
    quiet: frozenset[str] = frozenset()
    answered: Mapping[str, date] = field(default_factory=dict)


@dataclass(slots=True)
class Notice:
    """One message to enqueue (or to record as deliberately not sent, with ``reason``).

    Nothing changes a notice once made; not frozen, for the cost of a frozen dataclass's ``__init__`` (as
    ``ActionView``: 2.9-4.0 us a notice against 0.6 us)."""

    key: str
    action_id: int
    plan_id: str
    ref: str
    occurrence: str
    step: str
    type: str
    level: int
    recipient: Person
    template: str
    at: datetime
    status: str = "pending"
    reason: str = ""
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EscalationEntry:
    """A step of the ladder that fired: one row of the escalation log."""

    key: str
    action_id: int
    occurrence: str
    level: int
    step: str
    policy: str
    at: datetime
    recipients: tuple[str, ...]
    days_overdue: int


@dataclass(frozen=True, slots=True)
class PlanResult:
    """The planner's answer for one action."""

    notices: tuple[Notice, ...]
    escalations: tuple[EscalationEntry, ...]
    next_fire_at: datetime | None


NOTHING = PlanResult((), (), None)  # nothing to say and nothing to plan again (immutable: one serves every action)


@dataclass(slots=True, eq=False)
class _Candidate:
    """A message the policy implies, before the owner-first rule and catch-up decide what becomes of it.

    Never changed once made (``_with`` makes a changed copy); not frozen, since a frozen dataclass sets each of
    its fields through ``object.__setattr__``: 1.6 us a candidate against 0.26 us, and a tick makes several a
    planned action."""

    occurrence: str
    step: str
    type: str
    level: int
    recipient: Person
    template: str
    at: datetime
    family: str
    payload: Mapping[str, Any]
    log_step: EscalateStep | None = None
    missed: datetime | None = None
    roles: tuple[str, ...] = ()
    source: _Occurrence | None = None
    status: str = ""
    reason: str = ""


_CANDIDATE_FIELDS = tuple(f.name for f in fields(_Candidate))
_candidate_values = attrgetter(*_CANDIDATE_FIELDS)


def _with(c: _Candidate, **changes: Any) -> _Candidate:
    """Return ``c`` with ``changes``: ``dataclasses.replace`` for candidates, without its checks of every field
    (a candidate is copied once or twice per notice planned)."""
    copy = _Candidate(*_candidate_values(c))
    for name, value in changes.items():
        setattr(copy, name, value)
    return copy


@dataclass(frozen=True, slots=True)
class _Occurrence:
    """One thing that can be late: a due date, a recurring occurrence or a check-in."""

    label: str
    due: date | None
    start: date | None
    missed_at: datetime | None  # when it counts as missed (escalation ladder starts), UTC


def plan_action(
    view: ActionView,
    policy: Policy | None,
    calendar: BusinessCalendar,
    history: History,
    since: datetime,
    now: datetime,
    until: datetime | None = None,
) -> PlanResult:
    """Return the notices due in ``(since, until]`` (UTC), the escalations they fire, and ``next_fire_at``.

    ``until`` (default ``now``) plans ahead: notices due after ``now`` are returned with their own
    instants, to be sent when they come; only those already past at ``now`` collapse (catch-up).
    """
    if policy is None:
        return PlanResult((), (), None)
    until = now if until is None else max(until, now)
    checked = _verification(view, policy, calendar, history, since, now, until)
    if view.status not in ACTIVE or view.acceptance not in policy.acceptance.remind:
        return checked
    owned = _plan_owner_side(view, policy, calendar, history, since, now, until)
    if not view.reports:
        return owned
    later = [t for t in (owned.next_fire_at, checked.next_fire_at) if t is not None]
    return PlanResult(
        owned.notices + checked.notices, owned.escalations + checked.escalations, min(later, default=None)
    )


def _plan_owner_side(
    view: ActionView,
    policy: Policy,
    calendar: BusinessCalendar,
    history: History,
    since: datetime,
    now: datetime,
    until: datetime,
) -> PlanResult:
    """The reminders, check-ins, stale reminders and ladders of an open action (``plan_action`` without reports)."""

    if history.keys or history.acknowledged:

        def wanted(c: _Candidate) -> bool:
            return _key(view, c) not in history.keys and not _acknowledged(c, history)

    else:  # nothing planned before: every candidate is wanted

        def wanted(c: _Candidate) -> bool:
            return True

    occurrences: dict[str, _Occurrence] = {}
    owners = _owner_ids(view)
    candidates = list(_candidates(view, policy, calendar, since, until, wanted, occurrences, history, owners))
    if policy.stale is not None:
        candidates += _stale_catch_up(view, policy, calendar, candidates, since, now)
    told = _told_before(view, history, owners | _deputy_ids(view))
    candidates = _owner_first(
        view, policy, calendar, candidates, occurrences, since, now, until, wanted, owners, dict(told)
    )
    due = [c for c in candidates if since < c.at <= until or c.status]
    later = [c.at for c in candidates if c.at > until and not c.status]
    notices, escalations = _finish(view, policy, calendar, due, now, told)
    return PlanResult(tuple(notices), tuple(escalations), min(later, default=None))


def _acknowledged(c: _Candidate, history: History) -> bool:
    """A supervisor's acknowledgement stops the repeats of that step for that occurrence."""
    base, _, repeat = c.step.partition("#")
    return bool(repeat) and (c.occurrence, base) in history.acknowledged


def _key(view: ActionView, c: _Candidate) -> str:
    who = c.recipient.id or c.recipient.email
    return f"{view.plan_id}/{view.ref}|{c.occurrence}|{c.step}|{who}"


def _group(c: _Candidate, now: datetime) -> tuple[object, ...]:
    """Notices of one group collapse into the latest: past ones (catch-up) all together, planned-ahead ones per
    instant."""
    return (c.occurrence, c.family, c.recipient.email) + ((c.at,) if c.at > now else ())


LATE_GRACE = timedelta(minutes=5)  # a notice planned this long after its instant goes out late: a catch-up


def _finish(
    view: ActionView,
    policy: Policy,
    calendar: BusinessCalendar,
    due: list[_Candidate],
    now: datetime,
    told: Mapping[str, datetime],
) -> tuple[list[Notice], list[EscalationEntry]]:
    if not due:
        return [], []
    latest: dict[tuple[object, ...], _Candidate] = {}
    members: dict[tuple[object, ...], int] = {}
    groups = {id(c): _group(c, now) for c in due if not c.status}
    for c in sorted(due, key=lambda c: (c.at, c.level)):
        if not c.status:
            group = groups[id(c)]
            latest[group] = c
            members[group] = members.get(group, 0) + 1
    # The owner's first message about a missed date (``told``: what the owner was sent before) is never held for a
    # weekly digest: the steps to others that follow it must not reach them before the owner's digest does (a daily
    # digest goes out by the next business day, before the steps to others of a ladder start).
    first_late: dict[str, datetime] = {}
    for c in due:
        if c.family != "escalate":
            continue
        kept = c.status == "pending" or (not c.status and latest[groups[id(c)]] is c)
        if kept and c.payload.get("role") in OWNER_ROLES and c.occurrence not in told:
            first_late[c.occurrence] = min(c.at, first_late.get(c.occurrence, c.at))
    # A reminder caught up after its date was missed says less than the overdue notice sent with it.
    overdue = {(c.occurrence, c.recipient.email) for c in due if c.family == "escalate" and c.at <= now}
    if overdue:
        overdue &= {(c.occurrence, c.recipient.email) for c in latest.values() if c.family == "escalate"} | {
            (c.occurrence, c.recipient.email) for c in due if c.status == "pending"
        }
    notices = []
    for c in sorted(due, key=lambda c: (c.at, c.step, c.recipient.email)):
        if c.family == "remind" and c.at <= now and (c.occurrence, c.recipient.email) in overdue:
            c = _with(c, status="suppressed", reason="the date had passed: the overdue notice sent with it says so")
        keep = c.status == "pending" or (not c.status and latest[groups[id(c)]] is c)
        status, reason = (
            (c.status or "pending", c.reason)
            if keep or c.status
            else ("suppressed", "superseded by a later message about the same occurrence (catch-up)")
        )
        first = c.family == "escalate" and c.payload.get("role") in OWNER_ROLES and first_late.get(c.occurrence) == c.at
        if keep and not c.status and (members[groups[id(c)]] > 1 or now - c.at > LATE_GRACE):
            payload = {**c.payload, "catch_up": True}  # several collapsed, or one planned late
            if now - c.at > LATE_GRACE:
                at = catch_up_at(now, c.recipient, policy, calendar)
                late: dict[str, Any] = {"planned": c.at.isoformat()}
                if "days_overdue" in payload:  # counted on the day it goes out
                    day = at.astimezone(zone(c.recipient.tz)).date()
                    late["days_overdue"] = max(0, (day - date.fromisoformat(str(payload["date"]))).days)
                c = _with(c, at=at, payload={**payload, **late})
            else:
                c = _with(c, payload=payload)
        alone = first and c.recipient.digest == "weekly"
        if keep and c.recipient.digest in {"daily", "weekly"} and not _last_reminder(c, policy) and not alone:
            status, reason = "held", f"for the recipient's {c.recipient.digest} digest"
        notices.append(
            Notice(
                _key(view, c),
                view.action_id,
                view.plan_id,
                view.ref,
                c.occurrence,
                c.step,
                c.type,
                c.level,
                c.recipient,
                c.template,
                c.at,
                status,
                reason,
                c.payload,
            )
        )
    return notices, _log(view, policy, [c for c in due if c.status != "suppressed"])


def _log(view: ActionView, policy: Policy, due: list[_Candidate]) -> list[EscalationEntry]:
    entries: dict[str, EscalationEntry] = {}
    for c in sorted(due, key=lambda c: c.at):
        if c.log_step is None or c.missed is None:
            continue
        key = f"{view.plan_id}/{view.ref}|{c.occurrence}|{c.step}"
        if key in entries:
            continue
        days = int(c.payload.get("days_overdue", 0))
        entries[key] = EscalationEntry(
            key, view.action_id, c.occurrence, c.level, c.step, policy.name, c.at, c.roles, days
        )
    return list(entries.values())


Wanted = Callable[["_Candidate"], bool]


def _candidates(
    view: ActionView,
    policy: Policy,
    calendar: BusinessCalendar,
    since: datetime,
    now: datetime,
    wanted: Wanted,
    seen: dict[str, _Occurrence],
    history: History | None = None,
    owners: frozenset[str] | None = None,
) -> Iterator[_Candidate]:
    """Every candidate not planned before; ladders stop once one lies well after ``now``.

    ``seen`` receives every occurrence that can be late (the owner-first rule looks at them all); ``owners`` are
    ``_owner_ids(view)`` when the caller has them.
    """
    for occ in _occurrences(view, policy, since, now):
        if occ.label in view.completed:
            continue
        reminders = list(filter(wanted, _reminders(view, policy, calendar, occ)))
        yield from reminders
        if occ.missed_at is not None:
            seen[occ.label] = occ
            owners = _owner_ids(view) if owners is None else owners
            if not _before_ladder(reminders, occ.missed_at, now, owners):
                yield from _ladder(view, policy, calendar, occ, now, wanted)
    if policy.checkin is not None and wants_checkin(view.kind, view.due):
        yield from _checkins(view, policy, calendar, since, now, wanted, seen, history or History())
    if policy.stale is not None:
        yield from _stale(view, policy, calendar, now, wanted, seen)


def _before_ladder(reminders: list[_Candidate], missed_at: datetime, now: datetime, owners: frozenset[str]) -> bool:
    """Whether the owner (or the owner's deputy) gets one of ``reminders`` after ``now`` and well before the date is
    missed: then no step of its ladder (each on or after its own offset from ``missed_at``, moved by a zone or quiet
    hours by less than ``LATER``) is due by ``now`` or comes before that reminder, and the owner hears of the
    occurrence first, so the ladder is left to a later tick: planning the tick gives the same notices and the same
    next instant without it."""
    for c in reminders:
        who = c.recipient.id or c.recipient.email
        if now < c.at and c.at + LATER < missed_at and (who in owners or c.payload.get("in_place_of")):
            return True
    return False


REOPENED = " reopened "  # in the label of the occurrence a reopening starts again
CATCH_UP_REASON = "catch-up: the date was missed before anything about it was sent to the owner"
NOT_ASKED_REASON = "the check-in was never sent, so there is nothing to escalate about it"
EPOCH = datetime.min.replace(tzinfo=UTC)


def _owner_ids(view: ActionView) -> frozenset[str]:
    return frozenset(p.id or p.email for role in ("owner", "delegate") for p in view.people.get(role, ()))


def _deputy_ids(view: ActionView) -> frozenset[str]:
    """The owner's deputy, if any: a message to them may have been sent in the owner's place."""
    return frozenset() if view.away is None else frozenset({view.away.deputy.id or view.away.deputy.email})


def _stand_in(view: ActionView, role: str, person: Person, instant: Callable[[Person], datetime]) -> Person:
    """Return who receives what ``role`` ``person`` would receive at ``instant(person)``: the owner's deputy when
    that instant falls on a day of the owner's away period (days in the owner's zone), else ``person``. The choice
    depends on the message's own instant, never on when it is planned, so every tick plans the same message to the
    same person. (A deputy who is also the delegate gets it once, in the owner's place: callers keep the first
    message per recipient.)"""
    away = view.away
    if away is None or role != "owner":
        return person
    if not away.first <= instant(person).astimezone(zone(person.tz)).date() <= away.last:
        return person
    return away.deputy


def _in_place(person: Person, owner: Person) -> dict[str, Any]:
    """The payload that says a message went to the deputy in the owner's place (empty otherwise)."""
    return {} if person is owner else {"in_place_of": owner.id or owner.email}


def _told_before(view: ActionView, history: History, owners: frozenset[str]) -> dict[str, datetime]:
    """Return, per occurrence, the first instant the owner (or delegate) was sent something about it (or, for a
    check-in, the instant the check-in went out), from the outbox keys ``plan/ref|occurrence|step|recipient``."""
    told: dict[str, datetime] = {}
    for key in history.keys:
        if key in history.quiet:
            continue
        parts = key.rsplit("|", 3)
        if len(parts) == 4 and _tells(parts[1], parts[2], parts[3], owners):
            occurrence = parts[1]
            at = history.sent_at.get(key, EPOCH)
            told[occurrence] = min(at, told.get(occurrence, at))
    return told


def _tells(occurrence: str, step: str, who: str, owners: frozenset[str]) -> bool:
    """Whether a message tells the owner about the occurrence: the check-in itself for a check-in, else any message
    to the owner or delegate."""
    return step in ASKING if occurrence.startswith(ASKED) else who in owners


def _owner_first(
    view: ActionView,
    policy: Policy,
    calendar: BusinessCalendar,
    candidates: list[_Candidate],
    occurrences: Mapping[str, _Occurrence],
    since: datetime,
    now: datetime,
    until: datetime,
    wanted: Wanted,
    owners: frozenset[str],
    told: dict[str, datetime],
) -> list[_Candidate]:
    """Nobody but the owner (or delegate) hears about an occurrence before the owner has been sent something.

    An occurrence's first owner message is found in the history or among this batch's kept notices. A missed
    due date nobody told the owner about gets one catch-up overdue notice now; the steps addressed to others
    that would come before the owner's first message start again from it, by the same offsets. A check-in
    that was never sent escalates nothing: its due steps are recorded as suppressed, with the reason.
    ``owners`` are the owner's and delegate's ids (``_owner_ids``); ``told`` is what ``_told_before`` found in the
    history (owner, delegate and deputy), completed here with the notices kept.
    """

    def owner_side(c: _Candidate) -> bool:
        # ``_tells`` with the deputy who received in the owner's place counted as the owner
        if c.occurrence.startswith(ASKED):
            return c.step in ASKING
        return (c.recipient.id or c.recipient.email) in owners or bool(c.payload.get("in_place_of"))

    def not_owner(who: str) -> bool:
        return who not in owners

    kept: dict[tuple[object, ...], _Candidate] = {}
    heard = (c for c in candidates if c.at > since and c.status != "suppressed" and owner_side(c))
    for c in sorted(heard, key=lambda c: c.at):
        group = _group(c, now)
        if c.at <= now or group not in kept:
            kept[group] = c
    for c in kept.values():
        # a notice planned after its instant goes out as a catch-up, at the recipient's next delivery instant
        at = catch_up_at(now, c.recipient, policy, calendar) if now - c.at > LATE_GRACE else max(c.at, now)
        told[c.occurrence] = min(at, told.get(c.occurrence, at))
    out = list(candidates)
    occurrences = dict(occurrences)
    for label, at in told.items():
        # A ladder restarted from a late first message can outlast the window the occurrences are looked for in.
        if label not in occurrences and at > since - _prepared(policy).span and label not in view.completed:
            occ = _recalled(view, policy, calendar, label)
            if occ is not None:
                occurrences[label] = occ
                out.extend(_ladder(view, policy, calendar, occ, now, wanted))
    for label, occ in occurrences.items():
        ladder = [c for c in out if c.occurrence == label and c.family == "escalate" and not owner_side(c)]
        drop = {id(c) for c in ladder}
        first = told.get(label)
        if first is None and label.startswith(ASKED):
            out = [c for c in out if id(c) not in drop]
            out.extend(_with(c, status="suppressed", reason=NOT_ASKED_REASON) for c in ladder if since < c.at <= until)
            continue
        if first is None and view.returned and view.reopened_at is not None and REOPENED in label:
            first = view.reopened_at  # the message returning the report told the owner: the round starts from it
        if first is None:
            if occ.missed_at is None or occ.missed_at > now or not (policy.escalate or policy.remind):
                continue
            caught = list(_catch_up(view, policy, calendar, occ, now))
            out.extend(caught)
            first = min((c.at for c in caught), default=now)
        restarted = _restarted_steps(view, policy, calendar, occ, first, owners)
        if restarted:
            out = [c for c in out if id(c) not in drop]
            steady = frozenset(range(1, len(policy.escalate) + 1)) - restarted
            out.extend(_ladder(view, policy, calendar, occ, now, wanted, keep=not_owner, steps=steady))
            shifted = replace(occ, missed_at=_restart(policy, calendar, occ, first))
            out.extend(_ladder(view, policy, calendar, shifted, now, wanted, keep=not_owner, steps=restarted))
    return _reminders_after_owner(view, out, told, owner_side, since, until)


def _restarted_steps(
    view: ActionView,
    policy: Policy,
    calendar: BusinessCalendar,
    occ: _Occurrence,
    first: datetime,
    owners: frozenset[str],
) -> frozenset[int]:
    """Return the ladder's steps (numbered from 1) whose first message to someone but the owner would come before
    ``first``, the owner's first message: those start again from it. The answer depends on the occurrence and
    ``first`` only, never on what was sent since, so every tick sees the same ladder. Every step after the first
    one that starts again starts again too, by its own offset, so the ladder keeps its order and its gaps; a ladder
    none of whose steps comes before ``first`` keeps its own instants for each recipient."""
    if occ.missed_at is None or first + LATER < occ.missed_at:
        return frozenset()  # every step's first message comes on or after its offset from the missed date
    found = set()
    for index, step in enumerate(policy.escalate, 1):
        offset_at = next(_repeats(occ.missed_at, step, None, policy, calendar))
        for _, person in _people(view, step.to):
            if (person.id or person.email) in owners:
                continue
            if _deliver_at(_send_day(offset_at, person, policy, calendar), person, policy) < first:
                found.add(index)
                break
    return frozenset(range(min(found), len(policy.escalate) + 1)) if found else frozenset()


NOT_TOLD_REASON = "the owner was told nothing about it by the reminded day, so nobody else is reminded of it"


def _reminders_after_owner(
    view: ActionView,
    candidates: list[_Candidate],
    told: Mapping[str, datetime],
    owner_side: Callable[[_Candidate], bool],
    since: datetime,
    until: datetime,
) -> list[_Candidate]:
    """A reminder to anyone but the owner (or delegate) goes out no earlier than the owner's first message about the
    occurrence (saying the days left then); when the owner hears nothing of it by the reminded day, it is recorded
    as suppressed, with the reason."""
    out = []
    for c in candidates:
        first = told.get(c.occurrence)
        if c.family != "remind" or c.status or owner_side(c) or (first is not None and first <= c.at):
            out.append(c)
            continue
        anchor = date.fromisoformat(str(c.payload["date"]))
        if first is not None and first < end_of_day(anchor, view.plan_tz):
            left = (anchor - first.astimezone(zone(c.recipient.tz)).date()).days
            out.append(_with(c, at=first, payload={**c.payload, "days_left": left}))
        else:  # recorded when its instant comes
            out.append(_with(c, status="suppressed", reason=NOT_TOLD_REASON) if since < c.at <= until else c)
    return out


def _recalled(view: ActionView, policy: Policy, calendar: BusinessCalendar, label: str) -> _Occurrence | None:
    """Return the occurrence named ``label`` (a check-in or a recurring date), if it can still be late."""
    text = label.removeprefix("check-in ").removeprefix("stale ")
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    if label.startswith("stale "):
        return _stale_occurrence(view, policy, calendar, day)
    if text != label:
        return _checkin_occurrence(view, policy, calendar, day) if policy.checkin else None
    if view.kind == "recurring" and not policy.recurrence.completion_based:
        return _Occurrence(label, day, None, end_of_day(day, view.plan_tz))
    return None


def _restart(policy: Policy, calendar: BusinessCalendar, occ: _Occurrence, told: datetime) -> datetime:
    """When the ladder counts as started if the owner was first told at ``told``: for a missed date a day later,
    so that the steps' offsets count from ``told`` (``after: 14d`` is 14 days after it), and ``escalate_after``
    later for a check-in (it is missed when unanswered that long)."""
    after = policy.checkin.escalate_after if policy.checkin else None
    if occ.label.startswith("stale "):
        after = policy.stale.escalate_after if policy.stale else None
    if occ.due is None and occ.label.startswith(ASKED) and after is not None:
        return after.after(told, calendar)
    return told + timedelta(days=1)


WORKDAY = timedelta(hours=8)  # a catch-up found this long after the delivery hour of a business day goes out at once


def catch_up_at(now: datetime, person: Person, policy: Policy, calendar: BusinessCalendar) -> datetime:
    """Return when a catch-up found at ``now`` goes out to ``person``: at once during their working day (a business
    day of their own calendar, from the delivery hour for eight hours, outside quiet hours), else at their next
    delivery hour on a business day; never later than that."""
    delivery = policy.delivery
    theirs = _calendar_of(person, policy, calendar)
    return _catch_up_at(now, now.tzinfo, person.tz, delivery.hour, delivery.quiet_hours, theirs)


@lru_cache(maxsize=8192)
def _catch_up_at(
    now: datetime, now_zone: Any, tz: str, hour: time, quiet: tuple[time, time] | None, calendar: BusinessCalendar
) -> datetime:
    """``catch_up_at`` for a recipient in zone ``tz`` keeping ``calendar``'s business days, with the delivery ``hour``
    and ``quiet`` hours (a tick's catch-ups share a few instants, zones and calendars). ``now_zone`` is ``now``'s
    zone, which equal instants need not share: ``now`` itself may be the answer."""
    local = now.astimezone(zone(tz))
    opens = _local_instant(local.date(), _delivery_hour(hour, quiet), tz)
    if (
        calendar.on_or_after(local.date()) == local.date()
        and opens <= now < opens + WORKDAY
        and not (quiet is not None and _in_quiet(local.time(), quiet))
    ):
        return now
    return _local_instant(_first_send_day(now, tz, hour, calendar), _delivery_hour(hour, quiet), tz)


def _catch_up(
    view: ActionView, policy: Policy, calendar: BusinessCalendar, occ: _Occurrence, now: datetime
) -> Iterator[_Candidate]:
    """One overdue notice to the owner about a date missed before anything was said, marked a catch-up: at once
    during the owner's working day, else at their next delivery hour on a business day (``catch_up_at``)."""
    step = next((s for s in policy.escalate if set(s.to) <= {"owner", "delegate"}), None)
    roles = tuple(step.to) if step else ("owner",)
    missed_day = occ.due or occ.start or now.date()
    seen: set[str] = set()
    for role, named in _people(view, roles):
        person = _stand_in(view, role, named, lambda p: catch_up_at(now, p, policy, calendar))
        if person.email in seen:
            continue
        seen.add(person.email)
        at = catch_up_at(now, person, policy, calendar)
        payload = _in_place(person, named) | {
            "role": role,
            "date": missed_day.isoformat(),
            "days_overdue": max(0, (at.astimezone(zone(person.tz)).date() - missed_day).days),
            "missed": "due date",
            "level": 0,
            "occurrence": occ.label,
            "repeat": 0,
            # a round started by a reopening is on time: only a date missed while planwatch was not following is late
            "catch_up": REOPENED not in occ.label,
        }
        template = step.template if step else "overdue"
        yield _Candidate(
            occ.label,
            "catch-up",
            "overdue",
            0,
            person,
            template,
            at,
            "escalate",
            payload,
            None,
            None,
            roles,
            occ,
            "pending",
            CATCH_UP_REASON,
        )


@lru_cache(maxsize=8192)
def end_of_day(day: date, tz: str) -> datetime:
    """Return the first instant after ``day`` in zone ``tz``, in UTC: when a due date is missed."""
    return datetime.combine(day + timedelta(days=1), time(0), zone(tz)).astimezone(UTC)


def _occurrences(view: ActionView, policy: Policy, since: datetime, now: datetime) -> Iterator[_Occurrence]:
    if view.kind == "recurring":
        yield from _recurring(view, policy, since, now)
        return
    if view.due is not None:
        missed = end_of_day(view.due, view.plan_tz)
        if view.reopened_at is not None and missed <= view.reopened_at:
            # Reopened after its date: a new round from the reopening, owner first (its earlier round was closed).
            day = view.reopened_at.astimezone(zone(view.plan_tz)).date()
            yield _Occurrence(
                f"{view.due.isoformat()}{REOPENED}{day.isoformat()}", view.due, view.start, view.reopened_at
            )
            return
        yield _Occurrence(view.due.isoformat(), view.due, view.start, missed)
    elif view.start is not None and view.kind in {"start", "window"}:
        yield _Occurrence(f"start {view.start.isoformat()}", None, view.start, None)


def _recurring(view: ActionView, policy: Policy, since: datetime, now: datetime) -> Iterator[_Occurrence]:
    if not view.rrule:
        return
    first = (since - _prepared(policy).span).replace(tzinfo=None)
    # Reminders come before an occurrence: look ahead by the longest reminder offset.
    ahead = max((step.before.approx_days for step in policy.remind), default=0.0) + 7
    last = (now + timedelta(days=ahead)).replace(tzinfo=None)
    if policy.recurrence.completion_based:
        yield from _from_completion(view, policy, first, last)
        return
    dtstart = datetime.combine(view.start or view.plan_date, time(0))
    rule = rrulestr(view.rrule, dtstart=dtstart)
    for moment in rule.between(max(first, dtstart), last, inc=True):
        day = moment.date()
        if view.start is None and day <= view.plan_date:
            continue
        yield _Occurrence(day.isoformat(), day, None, end_of_day(day, view.plan_tz))
    nxt = rule.after(last)
    if nxt is not None:
        yield _Occurrence(nxt.date().isoformat(), nxt.date(), None, end_of_day(nxt.date(), view.plan_tz))


def _from_completion(view: ActionView, policy: Policy, first: datetime, last: datetime) -> Iterator[_Occurrence]:
    """The occurrences of a completion-based recurrence, counted from the last completion (else the start): each
    one reminded; the ladder belongs to the first, and starts when the bound passes without a completion (at the
    first occurrence when there is no bound). Those between ``first`` and ``last`` (naive, UTC), and the next."""
    assert view.rrule
    base = view.last_completed or view.start or view.plan_date
    start = datetime.combine(base, time(0))
    rule = rrulestr(view.rrule, dtstart=start)
    following = rule.after(start)
    if following is None:
        return
    due = following.date()
    bound = policy.recurrence.bound
    missed_day = bound.after_day(base, BusinessCalendar(enabled=False)) if bound else due
    yield _Occurrence(due.isoformat(), due, None, end_of_day(missed_day, view.plan_tz))
    later = rule.between(max(first, following), last, inc=False)
    after = rule.after(max(last, following))
    for moment in [*later, *([after] if after is not None else [])]:
        if moment.date() > due and moment.date().isoformat() not in view.completed:
            yield _Occurrence(moment.date().isoformat(), moment.date(), None, None)


def _deliver_at(day: date, person: Person, policy: Policy) -> datetime:
    """Return the UTC instant of the delivery hour on ``day`` in the recipient's zone, outside quiet hours."""
    delivery = policy.delivery
    return _local_instant(day, _delivery_hour(delivery.hour, delivery.quiet_hours), person.tz)


def _delivery_hour(hour: time, quiet: tuple[time, time] | None) -> time:
    """Return the delivery ``hour``, or the end of the ``quiet`` hours when it falls in them."""
    return quiet[1] if quiet is not None and _in_quiet(hour, quiet) else hour


@lru_cache(maxsize=8192)
def _local_instant(day: date, hour: time, tz: str) -> datetime:
    """Return the UTC instant of ``hour`` on ``day`` in zone ``tz`` (the recipients of a tick share a few days and
    zones)."""
    return datetime.combine(day, hour, zone(tz)).astimezone(UTC)


def _in_quiet(moment: time, quiet: tuple[time, time]) -> bool:
    begin, end = quiet
    return begin <= moment < end if begin < end else moment >= begin or moment < end


def _people(view: ActionView, roles: Sequence[str]) -> Iterator[tuple[str, Person]]:
    """The people ``roles`` name, once each; the delegate, whom ``owner`` includes, is named as the delegate. An
    address the owners directory knows is that person (their zone, their digest); any other is a plain address."""
    seen: set[str] = set()
    delegates = {p.email for p in view.people.get("delegate", ())}
    for role in roles:
        found = view.people.get(role) if "@" not in role else [view.addresses.get(role.lower()) or Person(None, role)]
        for person in found or ():
            if person.email not in seen:
                seen.add(person.email)
                yield ("delegate" if role == "owner" and person.email in delegates else role), person


def _reminders(view: ActionView, policy: Policy, calendar: BusinessCalendar, occ: _Occurrence) -> Iterator[_Candidate]:
    for reminder in _prepared(policy).reminders:
        anchor = occ.due if reminder.on_due else occ.start
        if anchor is None:
            continue
        step = reminder.step
        anchor_on = anchor.isoformat()
        seen: set[str] = set()
        for role, named in _people(view, step.to):
            if view.away is None or role != "owner":
                person = named  # nobody stands in (``_stand_in``)
            else:

                def day_of(p: Person, anchor: date = anchor, reminder: _Reminder = reminder) -> date:
                    return reminder.day(anchor, _calendar_of(p, policy, calendar))

                person = _stand_in(view, role, named, lambda p: _deliver_at(day_of(p), p, policy))
            if person.email in seen:
                continue
            seen.add(person.email)
            day = reminder.day(anchor, _calendar_of(person, policy, calendar))
            payload = {
                "role": role,
                "anchor": step.anchor,
                "date": anchor_on,
                "days_left": (anchor - day).days,
                "offset": reminder.offset,
                "what": reminder.what,
                "occurrence": occ.label,
            }
            if person is not named:
                payload = _in_place(person, named) | payload
            yield _Candidate(
                occ.label,
                reminder.step_id,
                "reminder",
                0,
                person,
                step.template,
                _deliver_at(day, person, policy),
                "remind",
                payload,
            )


LATER = timedelta(days=3)  # more than any zone's offset plus a weekend: instants past now + this can wait


def _ladder(
    view: ActionView,
    policy: Policy,
    calendar: BusinessCalendar,
    occ: _Occurrence,
    now: datetime,
    wanted: Wanted,
    keep: Callable[[str], bool] = lambda who: True,
    steps: Collection[int] | None = None,
) -> Iterator[_Candidate]:
    """The escalation ladder of a missed occurrence, up to the first instant well after ``now``.

    Steps and repeats come in time order, so once one lies well after the earliest future instant
    yielded (a later step can reach a recipient in another zone, or one not moved past a weekend,
    before a repeat of an earlier step), the rest can only matter for a later tick: ``next_fire_at``
    needs just the earliest of them. ``keep`` chooses the recipients (by id, or address for a bare one), ``steps``
    the steps (numbered from 1).
    """
    assert occ.missed_at is not None
    ladder = policy.escalate
    future: datetime | None = None  # the earliest instant yielded after ``now``
    levels = _levels_of(ladder)
    missed_day = occ.due or occ.start or occ.missed_at.astimezone(zone(view.plan_tz)).date()
    missed_on = missed_day.isoformat()
    missed = "due date" if occ.due else "update" if occ.label.startswith("stale ") else "check-in"
    for index, step in enumerate(ladder, 1):
        if steps is not None and index not in steps:
            continue
        bound = step.until or (ladder[index].after if index < len(ladder) else (REPEAT_CAP if step.repeat else None))
        level = levels[index - 1]
        kind = "overdue" if set(step.to) <= {"owner", "delegate"} else "escalation"
        roles = tuple(step.to)
        people = [(role, named) for role, named in _people(view, step.to) if keep(named.id or named.email)]
        used: set[tuple[str, datetime]] = set()
        for n, offset_at in enumerate(_repeats(occ.missed_at, step, bound, policy, calendar)):
            if future is not None and offset_at > future + LATER:
                return
            step_id = f"escalate:{index}#{n}" if n else f"escalate:{index}"
            for role, named in people:
                if view.away is None or role != "owner":
                    person = named  # nobody stands in (``_stand_in``)
                else:

                    def instant(p: Person, offset_at: datetime = offset_at) -> datetime:
                        return _deliver_at(_send_day(offset_at, p, policy, calendar), p, policy)

                    person = _stand_in(view, role, named, instant)
                local_day = _send_day(offset_at, person, policy, calendar)
                at = _deliver_at(local_day, person, policy)
                if (person.email, at) in used:
                    continue  # repeats over a weekend land on one business day: send one
                used.add((person.email, at))
                payload = {
                    "role": role,
                    "date": missed_on,
                    "days_overdue": max(0, (local_day - missed_day).days),
                    "missed": missed,
                    "level": level,
                    "occurrence": occ.label,
                    "repeat": n,
                }
                if person is not named:
                    payload = _in_place(person, named) | payload
                candidate = _Candidate(
                    occ.label,
                    step_id,
                    kind,
                    level,
                    person,
                    step.template,
                    at,
                    "escalate",
                    payload,
                    step if n == 0 else None,
                    occ.missed_at,
                    roles,
                    occ,
                )
                if wanted(candidate):
                    if at > now:
                        future = min(at, future or at)
                    yield candidate


def _repeats(
    missed: datetime, step: EscalateStep, bound: Duration | None, policy: Policy, calendar: BusinessCalendar
) -> Iterator[datetime]:
    """The instants of ``step``'s message and its repeats up to ``bound`` after a date missed at ``missed``
    (``_instants``), worked out once per missed date, step and calendar: the actions of a tick share a few missed
    dates. The key has ``missed``'s zone too: durations are added to the wall clock of the instant's own zone."""
    key = (missed, missed.tzinfo, id(step), bound, id(policy), calendar)
    found = _OFFSETS.get(key)
    if found is None or found.step is not step or found.policy is not policy:
        if len(_OFFSETS) > 4096:
            _OFFSETS.clear()
        found = _OFFSETS[key] = _Offsets(missed, step, bound, policy, calendar)
    return iter(found)


class _Offsets:
    """``_instants`` of one step and missed date, kept as far as they were asked for (a ladder stops early). It holds
    the step and the policy, whose ids its key has, so they are not reused while it is cached; the lock keeps two
    threads from advancing the instants at once."""

    __slots__ = ("found", "lock", "more", "policy", "step")

    def __init__(
        self, missed: datetime, step: EscalateStep, bound: Duration | None, policy: Policy, calendar: BusinessCalendar
    ) -> None:
        self.step, self.policy = step, policy
        self.found: list[datetime] = []
        self.more = _instants(missed, step, bound, policy, calendar)
        self.lock = threading.Lock()

    def __iter__(self) -> Iterator[datetime]:
        found = self.found
        i = 0
        while True:
            if i >= len(found):
                with self.lock:
                    if i >= len(found):  # not found by another thread meanwhile
                        moment = next(self.more, None)
                        if moment is None:
                            return
                        found.append(moment)
            yield found[i]
            i += 1


_OFFSETS: dict[tuple[datetime, Any, int, Duration | None, int, BusinessCalendar], _Offsets] = {}


def _instants(
    missed: datetime, step: EscalateStep, bound: Duration | None, policy: Policy, calendar: BusinessCalendar
) -> Iterator[datetime]:
    # Offsets count from the last day to do it (the day before ``missed``): ``after: 1d`` is the next day,
    # and nothing goes out before the date is missed (``after: 0d``).
    last_day = missed - timedelta(days=1)
    first = max(step.after.after(last_day, calendar), missed)
    yield first
    if step.repeat is None or bound is None:
        return
    end = bound.after(last_day, calendar)
    switch = policy.limits.backoff_after.after(first, calendar)
    moment = first
    while True:
        interval = (
            step.repeat
            if moment < switch
            else max(step.repeat, policy.limits.backoff_every, key=lambda d: d.approx_days)
        )
        moment = interval.after(moment, calendar)
        if moment >= end:
            return
        yield moment


def rung(role: str) -> int | None:
    """Return a recipient role's rung of the supervisor chain (owner 0, supervisor 1, ...), None outside it."""
    if role in {"owner", "delegate"}:
        return 0
    parts = role.split(".")
    return len(parts) if all(p == "supervisor" for p in parts) else None


def step_levels(steps: Sequence[EscalateStep]) -> list[int]:
    """Return each step's level: the highest rung of the supervisor chain it names (owner 0, supervisor 1, ...).

    A step naming nobody in the chain (only the secretariat or addresses) is one level above the step before it.
    """
    levels: list[int] = []
    for step in steps:
        rungs = [r for r in (rung(role) for role in step.to) if r is not None]
        levels.append(max(rungs) if rungs else (levels[-1] + 1 if levels else 1))
    return levels


_LEVELS: dict[int, tuple[Sequence[EscalateStep], list[int]]] = {}


def _levels_of(steps: Sequence[EscalateStep]) -> list[int]:
    """``step_levels`` of a policy's ladder, worked out once per ladder (the entry holds the ladder, so its id is not
    reused while it is cached)."""
    found = _LEVELS.get(id(steps))
    if found is None or found[0] is not steps:
        if len(_LEVELS) > 256:
            _LEVELS.clear()
        found = _LEVELS[id(steps)] = (steps, step_levels(steps))
    return found[1]


class _Reminder:
    """A reminder step of a policy, with what its candidates say worked out once, and its days per anchor and
    calendar as they are asked for (the actions of a tick share a few due dates and calendars)."""

    __slots__ = ("days", "offset", "on_due", "step", "step_id", "what")

    def __init__(self, step: RemindStep) -> None:
        self.step = step
        self.on_due = step.anchor == "due"
        self.what = "due" if self.on_due else "starts"
        self.offset = str(step.before)
        self.step_id = f"remind:{step.anchor}:{self.offset}"
        self.days: dict[tuple[date, BusinessCalendar], date] = {}

    def day(self, anchor: date, calendar: BusinessCalendar) -> date:
        """Return the day this reminder before ``anchor`` goes out on ``calendar``: offset back, then the business
        day on or before."""
        found = self.days.get((anchor, calendar))
        if found is None:
            if len(self.days) > 4096:
                self.days.clear()
            found = self.days[(anchor, calendar)] = calendar.on_or_before(self.step.before.before(anchor, calendar))
        return found


class _Prepared:
    """What the planner derives from a policy alone, worked out once per policy: its reminder steps and how long
    its ladder can fire."""

    __slots__ = ("policy", "reminders", "span")

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.reminders = tuple(_Reminder(step) for step in policy.remind)
        self.span = ladder_span(policy)


_PREPARED: dict[int, _Prepared] = {}


def _prepared(policy: Policy) -> _Prepared:
    """Return what the planner derives from ``policy`` alone (the entry holds the policy, so its id is not reused
    while it is cached)."""
    found = _PREPARED.get(id(policy))
    if found is None or found.policy is not policy:
        if len(_PREPARED) > 256:
            _PREPARED.clear()
        found = _PREPARED[id(policy)] = _Prepared(policy)
    return found


def _last_reminder(c: _Candidate, policy: Policy) -> bool:
    """Whether ``c`` is the final reminder before a due date and a digest would take it after its day (a weekly
    one, or a daily one at 09:00 before the delivery hour): it is then sent on its own, on its day."""
    befores = [s.before for s in policy.remind if s.anchor == "due"]
    if c.family != "remind" or not befores or (c.recipient.digest == "daily" and policy.delivery.hour <= time(9, 0)):
        return False
    return c.step == f"remind:due:{min(befores, key=lambda d: d.approx_days)}"


def _send_day(instant: datetime, person: Person, policy: Policy, calendar: BusinessCalendar) -> date:
    return _first_send_day(instant, person.tz, policy.delivery.hour, _calendar_of(person, policy, calendar))


@lru_cache(maxsize=8192)
def _first_send_day(instant: datetime, tz: str, hour: time, calendar: BusinessCalendar) -> date:
    """Return the recipient's first business day whose delivery ``hour`` (in zone ``tz``) is not before ``instant``.

    Calendars are shared (``calendar_for``) and never change, so they key the cache as they are."""
    local = instant.astimezone(zone(tz))
    day = local.date() if local.time() <= hour else local.date() + timedelta(days=1)
    return calendar.on_or_after(day)


def _calendar_of(person: Person, policy: Policy, calendar: BusinessCalendar) -> BusinessCalendar:
    """Return the recipient's business days: their country's holidays under ``holidays_by_country``, else their
    zone's under ``holidays_by_zone``, else ``calendar``."""
    delivery = policy.delivery
    if not delivery.has_own_holidays(person.tz, person.country):
        return calendar
    key = (id(delivery), person.tz, person.country)
    found = _OWN_CALENDARS.get(key)
    if found is None or found[0] is not delivery:
        if len(_OWN_CALENDARS) > 1024:
            _OWN_CALENDARS.clear()
        found = _OWN_CALENDARS[key] = (delivery, calendar_for(delivery, person.tz, person.country))
    return found[1]


# A recipient's own calendar per delivery rules (by id: the entry holds them, so the id is not reused while it is
# here), zone and country: ``calendar_for`` sorts the holidays of the zone or country at every call.
_OWN_CALENDARS: dict[tuple[int, str, str | None], tuple[Delivery, BusinessCalendar]] = {}


def ladder_span(policy: Policy) -> timedelta:
    """Return how long after a missed date the escalation ladder can still fire (with a week's margin)."""
    days = max((max(s.after.approx_days, s.until.approx_days if s.until else 0) for s in policy.escalate), default=0.0)
    if any(s.repeat and not s.until for s in policy.escalate):
        days = max(days, REPEAT_CAP.approx_days)
    extra = policy.checkin.escalate_after.approx_days if policy.checkin and policy.checkin.escalate_after else 0.0
    if policy.stale is not None and policy.stale.escalate_after is not None:
        extra = max(extra, policy.stale.escalate_after.approx_days)
    return timedelta(days=days + extra + 7)


def _checkins(
    view: ActionView,
    policy: Policy,
    calendar: BusinessCalendar,
    since: datetime,
    now: datetime,
    wanted: Wanted,
    seen: dict[str, _Occurrence],
    history: History,
) -> Iterator[_Candidate]:
    """Check-ins whose message or ladder can still fall after ``since``, and the next one after ``now``.

    The check-ins already recorded (sent or skipped) stay as they were; the rhythm runs on from the last of
    them (from the start when there is none). A check-in the owner answered early, by a progress report in
    the last third of the rhythm before it, is recorded as skipped with the reason, and the next one comes
    a rhythm after that report: each at the delivery hour of a business day, never replayed later.
    """
    rule = policy.checkin
    assert rule is not None
    earliest = (since - _prepared(policy).span).date()
    recorded = _recorded_checkins(view, history)
    for day, skipped in _checkin_days(view, policy, calendar, recorded, history.answered):
        if day < earliest:
            continue
        yield from _one_checkin(view, policy, calendar, day, now, wanted, seen, skipped)
        if day > now.date() and not skipped and day not in recorded:
            return


def _recorded_checkins(view: ActionView, history: History) -> list[date]:
    """Return the days of the check-ins recorded for the action (keys ``plan/ref|check-in DAY|checkin|who``)."""
    head = f"{view.plan_id}/{view.ref}"
    days = set()
    for key in history.keys:
        parts = key.rsplit("|", 3)
        if len(parts) == 4 and parts[0] == head and parts[2] == "checkin" and parts[1].startswith("check-in "):
            days.add(date.fromisoformat(parts[1].removeprefix("check-in ")))
    return sorted(days)


def _answered_early(view: ActionView, policy: Policy, calendar: BusinessCalendar, day: date) -> bool:
    """Whether a progress report in the last third of the rhythm before the check-in of ``day`` answered it."""
    rule = policy.checkin
    assert rule is not None
    reported = view.last_progress_at
    if reported is None:
        return False
    asked = datetime.combine(calendar.on_or_after(day), time(0), zone(view.plan_tz)).astimezone(UTC)
    return asked - timedelta(days=rule.every.approx_days) / 3 <= reported <= asked


def _checkin_days(
    view: ActionView,
    policy: Policy,
    calendar: BusinessCalendar,
    recorded: list[date],
    answered: Mapping[str, date] | None = None,
) -> Iterator[tuple[date, bool]]:
    """The check-in days, each with whether it was answered early (skipped): the recorded ones, then the rhythm
    on from the last of them, or from the start; after a skipped one the rhythm restarts at the progress report
    that answered it (``answered``, kept with the skipped check-in, when a later report came since)."""
    rule = policy.checkin
    assert rule is not None
    free = BusinessCalendar(enabled=False)
    reported = view.last_progress_at
    reported_day = reported.astimezone(zone(view.plan_tz)).date() if reported is not None else None
    for day in recorded:
        yield day, _answered_early(view, policy, calendar, day)
    last_answer = (answered or {}).get(f"check-in {recorded[-1].isoformat()}") if recorded else None
    if not recorded:
        day = rule.every.after_day(view.start or view.plan_date, free)
    elif reported_day is not None and _answered_early(view, policy, calendar, recorded[-1]):
        day = rule.every.after_day(reported_day, free)
    elif last_answer is not None:
        day = rule.every.after_day(last_answer, free)
    else:
        day = rule.every.after_day(recorded[-1], free)
    while True:
        if reported_day is not None and _answered_early(view, policy, calendar, day):
            yield day, True
            day = rule.every.after_day(reported_day, free)
        else:
            yield day, False
            day = rule.every.after_day(day, free)


def _one_checkin(
    view: ActionView,
    policy: Policy,
    calendar: BusinessCalendar,
    day: date,
    now: datetime,
    wanted: Wanted,
    seen: dict[str, _Occurrence],
    skipped: bool = False,
) -> Iterator[_Candidate]:
    rule = policy.checkin
    assert rule is not None
    label = f"check-in {day.isoformat()}"
    reported = view.last_progress_at
    # A report in the last third of the rhythm makes the question needless: the check-in is recorded as
    # skipped (its key taken, so it is never sent later); one since the previous check-in answers it.
    told: set[str] = set()
    for role, named in _people(view, rule.to):

        def instant(p: Person) -> datetime:
            return _deliver_at(_calendar_of(p, policy, calendar).on_or_after(day), p, policy)

        person = _stand_in(view, role, named, instant)
        if person.email in told:
            continue
        told.add(person.email)
        payload = _in_place(person, named) | {"role": role, "date": day.isoformat(), "occurrence": label}
        candidate = _Candidate(
            label,
            "checkin",
            "checkin",
            0,
            person,
            rule.template,
            instant(person),
            "checkin",
            payload,
        )
        if skipped and reported is not None:
            when = reported.astimezone(zone(view.plan_tz)).date().isoformat()
            reason = f"answered early: progress reported on {when}; the next check-in is one rhythm after it"
            candidate = _with(candidate, status="suppressed", reason=reason, payload=payload | {"answered_on": when})
        if wanted(candidate):
            yield candidate
    occ = _checkin_occurrence(view, policy, calendar, day)
    if occ is not None:
        seen[label] = occ
        yield from _ladder(view, policy, calendar, occ, now, wanted)


def _checkin_occurrence(view: ActionView, policy: Policy, calendar: BusinessCalendar, day: date) -> _Occurrence | None:
    """The check-in of ``day`` as something that can be late, or None when it was answered or never escalates."""
    rule = policy.checkin
    assert rule is not None
    send_day = calendar.on_or_after(day)
    asked = datetime.combine(send_day, time(0), zone(view.plan_tz)).astimezone(UTC)
    reported = view.last_progress_at
    if rule.escalate_after is None or (
        reported is not None and reported >= asked - timedelta(days=rule.every.approx_days)
    ):
        return None
    missed = rule.escalate_after.after(end_of_day(send_day, view.plan_tz), calendar)
    return _Occurrence(f"check-in {day.isoformat()}", None, send_day, missed)


def _quiet_since(view: ActionView) -> date | None:
    """Return the plan-local day an action's silence counts from: the latest of its last update (or arrival, or
    reopening), the plan's own date and the action's start. Nothing is expected of an action before its plan's date
    or before it starts, so an action imported early, or one starting later, is never stale before then."""
    if view.last_update_at is None:
        return None
    updated = view.last_update_at.astimezone(zone(view.plan_tz)).date()
    return max(updated, view.plan_date, view.start or view.plan_date)


def _stale_day(view: ActionView, policy: Policy, calendar: BusinessCalendar) -> date | None:
    """Return the business day the owner is reminded of an action with no update since ``last_update_at``, or None
    (no base, or the due date is missed by then: the overdue ladder speaks of it)."""
    rule = policy.stale
    base = _quiet_since(view)
    if rule is None or base is None:
        return None
    day = calendar.on_or_after(rule.after.after_day(base, BusinessCalendar(enabled=False)))
    if view.due is not None and view.kind != "recurring" and view.due < day:
        return None
    return day


def _stale_occurrence(view: ActionView, policy: Policy, calendar: BusinessCalendar, day: date) -> _Occurrence | None:
    """The stale reminder of ``day`` as something that can be late, or None when an update came or it never
    escalates; the ladder counts from ``stale.escalate_after`` past that day."""
    rule = policy.stale
    if rule is None or rule.escalate_after is None or not policy.escalate or _stale_day(view, policy, calendar) != day:
        return None
    missed = rule.escalate_after.after(end_of_day(day, view.plan_tz), calendar)
    return _Occurrence(f"stale {day.isoformat()}", None, day, missed)


def _stale(
    view: ActionView,
    policy: Policy,
    calendar: BusinessCalendar,
    now: datetime,
    wanted: Wanted,
    seen: dict[str, _Occurrence],
) -> Iterator[_Candidate]:
    """The owner's reminder of an action left without an update for ``stale.after``, and, when no update comes
    within ``stale.escalate_after``, the steps of the ladder past the owner's (the reminder spoke to the owner)."""
    rule = policy.stale
    day = _stale_day(view, policy, calendar)
    if rule is None or day is None:
        return
    label = f"stale {day.isoformat()}"
    since = _quiet_since(view)
    assert since is not None
    told: set[str] = set()
    for role, named in _people(view, ["owner"]):

        def instant(p: Person) -> datetime:
            return _deliver_at(_calendar_of(p, policy, calendar).on_or_after(day), p, policy)

        person = _stand_in(view, role, named, instant)
        if person.email in told:
            continue
        told.add(person.email)
        payload = _in_place(person, named) | {
            "role": role,
            "date": day.isoformat(),
            "occurrence": label,
            "since": since.isoformat(),
            "days_quiet": (day - since).days,
        }
        candidate = _Candidate(label, "stale", "reminder", 0, person, rule.template, instant(person), "stale", payload)
        if wanted(candidate):
            yield candidate
    occ = _stale_occurrence(view, policy, calendar, day)
    if occ is not None:
        seen[label] = occ
        others = [i for i, step in enumerate(policy.escalate, 1) if not set(step.to) <= OWNER_ROLES]
        yield from _ladder(view, policy, calendar, occ, now, wanted, steps=frozenset(others))


STALE_CATCH_UP_REASON = "catch-up: the action became stale before planwatch planned it (a new rule, or downtime)"


def _stale_catch_up(
    view: ActionView,
    policy: Policy,
    calendar: BusinessCalendar,
    candidates: list[_Candidate],
    since: datetime,
    now: datetime,
) -> list[_Candidate]:
    """The stale reminder whose instant passed before ``since`` unsent (the rule is new, or planwatch was down):
    sent once now, as a catch-up, at the owner's working hours."""
    late = [c for c in candidates if c.family == "stale" and c.at <= since]
    return [
        _with(
            c,
            at=catch_up_at(now, c.recipient, policy, calendar),
            status="pending",
            reason=STALE_CATCH_UP_REASON,
            payload=dict(c.payload) | {"catch_up": True, "planned": c.at.isoformat()},
        )
        for c in late
    ]


VERIFY_CAP = timedelta(days=366)  # a report left unverified this long is reminded of no more


def _verification(
    view: ActionView,
    policy: Policy,
    calendar: BusinessCalendar,
    history: History,
    since: datetime,
    now: datetime,
    until: datetime,
) -> PlanResult:
    """The verifier's reminders of each report waiting for them (every ``closure.remind_after``), and from
    ``closure.escalate_after`` on, the step to the verifier's supervisor (logged as an escalation, level 1)."""
    if not view.reports:
        return NOTHING
    due: list[_Candidate] = []
    later: list[datetime] = []
    for report in view.reports:
        for c in _verify_candidates(view, policy, calendar, report, until):
            if _key(view, c) in history.keys or _acknowledged(c, history):
                continue
            if since < c.at <= until:
                due.append(c)
            elif c.at > until:
                later.append(c.at)
    notices, escalations = _finish(view, policy, calendar, due, now, {})
    return PlanResult(tuple(notices), tuple(escalations), min(later, default=None))


def _verify_moments(
    start: datetime, policy: Policy, calendar: BusinessCalendar
) -> Iterator[tuple[datetime, str, bool]]:
    """The instants a waiting report is spoken of, each with its step and whether it escalates: every
    ``remind_after`` from the report, then at ``escalate_after`` and every ``remind_after`` after it."""
    rule = policy.closure
    escalate_at = rule.escalate_after.after(start, calendar)
    moment, n = rule.remind_after.after(start, calendar), 0
    while moment < escalate_at:
        yield moment, "verify:remind" + (f"#{n}" if n else ""), False
        moment, n = rule.remind_after.after(moment, calendar), n + 1
    moment, n = escalate_at, 0
    while moment - start <= VERIFY_CAP:
        yield moment, "verify:escalate" + (f"#{n}" if n else ""), True
        moment, n = rule.remind_after.after(moment, calendar), n + 1


def _verify_candidates(
    view: ActionView, policy: Policy, calendar: BusinessCalendar, report: PendingReport, until: datetime
) -> Iterator[_Candidate]:
    """The messages about one waiting report, in time order, up to the first instant after ``until``."""
    label = f"verification {report.report_id}"
    start = report.reported_at
    reported_day = start.astimezone(zone(view.plan_tz)).date()
    log = EscalateStep(after=policy.closure.escalate_after, to=["supervisor"], template="verification_overdue")
    for moment, step, escalating in _verify_moments(start, policy, calendar):
        people = [(0, report.verifier), *((1, p) for p in (report.above if escalating else ()))]
        for level, person in people:
            at = _deliver_at(_send_day(moment, person, policy, calendar), person, policy)
            payload = {
                "role": "verifier" if level == 0 else "supervisor",
                "date": reported_day.isoformat(),
                "reported_on": reported_day.isoformat(),
                "reported_by": report.reported_by,
                "note": report.note,
                "days_waiting": max(0, (at.astimezone(zone(view.plan_tz)).date() - reported_day).days),
                "level": level,
                "reported_occurrence": report.occurrence,
                "report_id": report.report_id,
                "verifier": report.verifier.name or report.verifier.email,
            }
            yield _Candidate(
                label,
                step,
                "verification",
                level,
                person,
                "verification_overdue" if level else "verification_request",
                at,
                f"verify:{level}",
                payload,
                log if level == 1 and step == "verify:escalate" else None,
                start if level == 1 else None,
                ("supervisor",) if level else ("verifier",),
            )
        if moment > until:
            return
