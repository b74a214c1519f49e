"""Follow-up as governing bodies run it: acceptance, closure in two steps, dated updates, causes of delay.

An owner reports an action (or one occurrence of a recurring one) implemented; the verifier the rules
name (the owner's first supervisor, the secretariat, or a named owner) confirms it, which makes it done,
or returns it with a comment, which opens it again. Every change is recorded with who, when and through
what, makes the next tick plan the action again, and tells whoever must act through the outbox's one
``enqueue``. Datetimes are aware UTC; dates are plan-local days.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

from dateutil.rrule import rrulestr
from sqlmodel import Session, col, select

# the acceptance decisions live in ``acceptance``; the pages and the CLI find them here with the rest of follow-up
from engine.actions.acceptance import WORDS as WORDS
from engine.actions.acceptance import acceptance_words as acceptance_words
from engine.actions.acceptance import apply_file_acceptance as apply_file_acceptance
from engine.actions.acceptance import set_acceptance as set_acceptance
from engine.actions.evidence import EvidenceStore, attach_file, check_file
from engine.actions.workflow import (
    FINISHED,
    complete,
    current_occurrence,
    drop_stale_outbox,
    replan,
    resolve_escalations,
)
from engine.errors import UsageError
from engine.languages import day
from engine.outbox import message_key, tell_now
from engine.plandoc import effective_due
from engine.read.explain import facts_for
from engine.rules.loader import working_instant
from engine.rules.policy import DEFAULT_DELAY_CAUSES, Closure, Policy
from engine.store.followup_models import RATINGS, ClosureReport, Evidence
from engine.store.models import Action, ActionChange, Owner, Plan
from engine.store.plans import record_change
from engine.zones import zone

if TYPE_CHECKING:
    from engine.rules.loader import RuleSet

STAFF = frozenset({"secretariat", "admin"})
ASKED = ("accepted", "partially_accepted")  # a cause of delay is asked of these only


@dataclass(frozen=True, slots=True)
class Decision:
    """What ``report_implemented`` did: a report waiting for ``verifier`` (two steps), or the action done."""

    report: ClosureReport | None
    verifier: Owner | None
    what: str  # "the action" or "occurrence YYYY-MM-DD"
    changed: bool


def policy_of(session: Session, action: Action, rules: RuleSet | None) -> Policy | None:
    """Return the policy the rules give ``action`` (None without rules or when none applies)."""
    return rules.policy_of(facts_for(session, action)) if rules is not None else None


def closure_of(session: Session, action: Action, rules: RuleSet | None) -> Closure:
    """Return how ``action`` is closed: its policy's ``closure`` (two steps, the supervisor verifies by default)."""
    policy = policy_of(session, action, rules)
    return policy.closure if policy is not None else Closure()


def verifier_of(session: Session, action: Action, rules: RuleSet | None) -> Owner | None:
    """Return who verifies ``action``'s closure: as its policy's ``closure.verifier`` says.

    ``supervisor``: the owner's first supervisor (the secretariat when there is none); ``secretariat``: the first
    person with the secretariat's role; an owner id: that person (the secretariat when nobody has that id).
    """
    named = closure_of(session, action, rules).verifier
    if named == "supervisor":
        owner = session.get(Owner, action.owner_id) if action.owner_id else None
        boss = session.get(Owner, owner.supervisor_id) if owner is not None and owner.supervisor_id else None
        if boss is not None:
            return boss
    elif named != "secretariat" and (person := session.get(Owner, named)) is not None:
        return person
    return secretariat(session)


def secretariat(session: Session) -> Owner | None:
    """Return the first person with the secretariat's (or an administrator's) role, or the owner ``secretariat``."""
    staff = session.exec(select(Owner).where(col(Owner.role).in_(sorted(STAFF))).order_by(col(Owner.id))).first()
    return staff or session.get(Owner, "secretariat")


def report_implemented(
    session: Session,
    action: Action,
    now: datetime,
    *,
    who: str,
    via: str,
    note: str = "",
    links: Sequence[str] = (),
    owner_rating: str = "implemented",
    occurrence: date | None = None,
    rules: RuleSet | None = None,
    files: Sequence[tuple[str, bytes]] = (),
    store: EvidenceStore | None = None,
) -> Decision:
    """The owner reports ``action`` (or one occurrence) implemented; return what happened.

    ``files`` (name, content) are kept as evidence of the report in ``store`` (checked first) and named in the
    verifier's message.

    Two-step closure (the default): the action (or occurrence) becomes "reported", owner reminders stop and the
    verifier is asked. One-step closure (``closure: {steps: 1}``): the action is done at once, as ``complete``.
    """
    if owner_rating not in RATINGS:
        raise UsageError(f"unknown rating {owner_rating!r}; expected one of {', '.join(RATINGS)}")
    if action.status in {"done", "dropped"}:
        raise UsageError(f"{action.ref} is {action.status}; there is nothing to report")
    store = store or EvidenceStore()
    for name, data in files:
        check_file(name, data, store.max_bytes)
    if closure_of(session, action, rules).steps == 1:
        what, changed = complete(session, action, now, who=who, via=via, note=note, occurrence=occurrence)
        _attach(session, action, now, who, files, store, None)
        return Decision(None, None, what, changed)
    label = _occurrence_label(session, action, now, occurrence)
    waiting = _pending(session, action, label)
    what = f"occurrence {label}" if label else "the action"
    if waiting is not None:
        return Decision(waiting, session.get(Owner, waiting.verifier_id or ""), what, False)
    verifier = verifier_of(session, action, rules)
    assert action.id is not None
    report = ClosureReport(
        action_id=action.id,
        occurrence=label,
        reported_at=now,
        reported_by=who,
        via=via,
        note=note,
        links=[str(link) for link in links],
        owner_rating=owner_rating,
        verifier_id=verifier.id if verifier else None,
    )
    session.add(report)
    if not label:
        old = action.status
        action.status = "reported"
        record_change(session, action, now, who, via, "status", old, "reported", note)
    else:
        record_change(session, action, now, who, via, "reported", None, label, note)
    replan(session, action, now)
    session.add(action)
    drop_stale_outbox(session, action, "the owner reported the action implemented before it was sent")
    session.flush()  # the report's id names its message
    _attach(session, action, now, who, files, store, report.id)
    if verifier is not None:
        _tell(session, action, report, verifier, "verification_request", now, rules)
    return Decision(report, verifier, what, True)


def _attach(
    session: Session,
    action: Action,
    now: datetime,
    who: str,
    files: Sequence[tuple[str, bytes]],
    store: EvidenceStore,
    closure_id: int | None,
) -> None:
    for name, data in files:
        attach_file(session, action, now, who=who, name=name, data=data, store=store, closure_id=closure_id)


def _occurrence_label(session: Session, action: Action, now: datetime, occurrence: date | None) -> str:
    if action.kind != "recurring" or not action.rrule:
        return ""
    plan = session.get(Plan, action.plan_id)
    assert plan is not None
    return (occurrence or current_occurrence(action, plan, now)).isoformat()


def _pending(session: Session, action: Action, label: str) -> ClosureReport | None:
    return session.exec(
        select(ClosureReport).where(
            ClosureReport.action_id == action.id,
            ClosureReport.occurrence == label,
            ClosureReport.status == "reported",
        )
    ).first()


def may_verify(session: Session, report: ClosureReport, who: str) -> bool:
    """Return True when ``who`` is the report's named verifier, or has the secretariat's or an administrator's role."""
    if who == report.verifier_id:
        return True
    if report.verifier_id is None and secretariat(session) is None:
        return True  # the directory names nobody to verify (no owners file): whoever closes it records their name
    person = session.get(Owner, who)
    return person is not None and person.role in STAFF


def _check_decision(session: Session, report: ClosureReport, who: str) -> Action:
    if report.status != "reported":
        raise UsageError(f"this report was already {report.status}")
    if not may_verify(session, report, who):
        named = session.get(Owner, report.verifier_id or "")
        raise UsageError(
            f"{who} may not verify this report: it waits for {named.name if named else 'the secretariat'}, "
            "and only they or the secretariat may verify it or return it"
        )
    action = session.get(Action, report.action_id)
    assert action is not None
    return action


def verify(
    session: Session,
    report: ClosureReport,
    now: datetime,
    *,
    who: str,
    via: str,
    comment: str = "",
    rating: str = "implemented",
    rules: RuleSet | None = None,
) -> Action:
    """The verifier confirms ``report``: the action becomes done (or the occurrence completed) and its owner is told
    in their working day (``rules`` give its hours); return the action."""
    if rating not in RATINGS:
        raise UsageError(f"unknown rating {rating!r}; expected one of {', '.join(RATINGS)}")
    action = _check_decision(session, report, who)
    report.status, report.decided_at, report.decided_by = "verified", now, who
    report.verifier_rating, report.comment = rating, comment
    session.add(report)
    record_change(session, action, now, who, via, "verified", None, report.occurrence or "the action", comment)
    resolve_escalations(session, action, now, "report verified", occurrence=f"verification {report.id}")
    if report.occurrence:
        complete(
            session,
            action,
            now,
            who=report.reported_by,
            via=via,
            note=report.note,
            occurrence=date.fromisoformat(report.occurrence),
        )
    else:
        _set_done(session, action, now, who=who, via=via, note=comment or report.note)
    owner = session.get(Owner, action.owner_id) if action.owner_id else None
    if owner is not None and owner.id != who:  # the owner is told, unless they verified it themselves
        session.flush()
        _tell(session, action, report, owner, "closure_verified", now, rules)
    return action


def _set_done(session: Session, action: Action, now: datetime, *, who: str, via: str, note: str) -> None:
    old = action.status
    action.status, action.status_note = "done", note
    replan(session, action, now)
    session.add(action)
    record_change(session, action, now, who, via, "status", old, "done", note)
    resolve_escalations(session, action, now, "action done")


def return_report(
    session: Session,
    report: ClosureReport,
    now: datetime,
    *,
    who: str,
    via: str,
    comment: str,
    rules: RuleSet | None = None,
) -> Action:
    """The verifier returns ``report`` with a comment: the action is open again and its owner is told why, in their
    working day (``rules`` give its hours)."""
    if not comment.strip():
        raise UsageError("returning a report needs a comment: say what is missing (--comment)")
    action = _check_decision(session, report, who)
    report.status, report.decided_at, report.decided_by, report.comment = "returned", now, who, comment
    session.add(report)
    if not report.occurrence and action.status == "reported":
        back = status_before_report(session, action)
        action.status = back
        record_change(session, action, now, who, via, "status", "reported", back, comment)
    record_change(session, action, now, who, via, "returned", None, report.occurrence or "the action", comment)
    resolve_escalations(session, action, now, "report returned", occurrence=f"verification {report.id}")
    replan(session, action, now)
    # planning goes on from now: what fell due while the report waited is not sent late
    action.planned_through = now
    session.add(action)
    owner = session.get(Owner, action.owner_id) if action.owner_id else None
    session.flush()
    if owner is not None:
        _tell(session, action, report, owner, "closure_returned", now, rules)
    return action


def status_before_report(session: Session, action: Action) -> str:
    """Return the status ``action`` had before it was reported implemented (open or in progress)."""
    last = session.exec(
        select(ActionChange)
        .where(ActionChange.action_id == action.id, ActionChange.field == "status", ActionChange.new == "reported")
        .order_by(col(ActionChange.at).desc(), col(ActionChange.id).desc())
    ).first()
    return last.old if last is not None and last.old in {"open", "in_progress"} else "open"


def set_delay_cause(
    session: Session,
    action: Action,
    cause: str,
    now: datetime,
    *,
    who: str,
    via: str,
    note: str = "",
    causes: Sequence[str] = DEFAULT_DELAY_CAUSES,
) -> bool:
    """Record why ``action`` is late: one of the rules' ``causes`` ("other" needs a note); False when unchanged."""
    if cause not in causes:
        raise UsageError(f"unknown cause of delay {cause!r}; expected one of {', '.join(causes)}")
    if cause == "other" and not note.strip():
        raise UsageError('the cause "other" needs a few words: say what delays the action (--note)')
    if action.status in FINISHED:
        raise UsageError(f"{action.ref} is {action.status.replace('_', ' ')}; a cause of delay is for open actions")
    if action.acceptance not in ASKED:
        words = WORDS.get(action.acceptance, action.acceptance)
        raise UsageError(f"{action.ref} is {words}; a cause of delay is for accepted actions that are overdue")
    _check_overdue(session, action, now)
    if (action.delay_cause, action.delay_note) == (cause, note):
        return False
    old = action.delay_cause or None
    action.delay_cause, action.delay_note, action.updated_at = cause, note, now
    session.add(action)
    record_change(session, action, now, who, via, "delay cause", old, cause, note)
    return True


def _check_overdue(session: Session, action: Action, now: datetime) -> None:
    due = effective_due(action.due, action.extended_to)
    plan = session.get(Plan, action.plan_id)
    today = now.astimezone(zone(plan.timezone)).date() if plan is not None else now.date()
    if due is None:
        raise UsageError(f"{action.ref} has no due date; a cause of delay is for overdue actions")
    if due >= today:
        raise UsageError(f"{action.ref} is not overdue (due {day(due, 'en')}); a cause of delay is for overdue actions")


def reporter_problem(session: Session, action: Action, who: str, *, what: str) -> str | None:
    """Return why ``who`` may not ``what`` (e.g. "report A.4 implemented") from the command line, None when they
    may: only the action's owner, the owner's delegate or deputy, and the secretariat or an administrator may.
    Without an owners directory anyone may."""
    if session.exec(select(Owner.id)).first() is None:
        return None
    person = session.get(Owner, who)
    owner = session.get(Owner, action.owner_id) if action.owner_id else None
    helpers = [session.get(Owner, i) for i in (owner.delegate_id, owner.deputy_id) if i] if owner else []
    allowed = [p for p in [owner, *helpers] if p is not None]
    if person is not None and (person.role in STAFF or person.id in {p.id for p in allowed}):
        return None
    names = [f"{p.name} ({p.id})" for p in allowed] + ["the secretariat"]
    may = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
    unknown = "" if person is not None else " is not in the owners directory;"
    return f"--by {who}:{unknown} only {may} may {what}"


def staff_problem(session: Session, who: str, *, what: str) -> str | None:
    """Return why ``who`` may not ``what`` (the secretariat's or an administrator's work), None when they may."""
    if session.exec(select(Owner.id)).first() is None:
        return None
    person = session.get(Owner, who)
    if person is not None and person.role in STAFF:
        return None
    unknown = "" if person is not None else " is not in the owners directory;"
    return f"--by {who}:{unknown} only the secretariat or an administrator may {what}"


def pending_reports(session: Session, verifier_id: str | None) -> list[tuple[ClosureReport, Action]]:
    """Return the reports waiting for ``verifier_id`` (None: every one), oldest first, with their actions."""
    query = (
        select(ClosureReport, Action)
        .join(Action, col(Action.id) == ClosureReport.action_id)
        .where(ClosureReport.status == "reported")
    )
    if verifier_id is not None:
        query = query.where(ClosureReport.verifier_id == verifier_id)
    rows = session.exec(query.order_by(col(ClosureReport.reported_at), col(ClosureReport.id))).all()
    return [(report, action) for report, action in rows]


def pending_report(session: Session, action: Action, occurrence: str | None = None) -> ClosureReport | None:
    """Return the report of ``action`` waiting for verification (of ``occurrence``, or the newest), or None."""
    query = select(ClosureReport).where(ClosureReport.action_id == action.id, ClosureReport.status == "reported")
    if occurrence is not None:
        query = query.where(ClosureReport.occurrence == occurrence)
    return session.exec(query.order_by(col(ClosureReport.reported_at).desc(), col(ClosureReport.id).desc())).first()


def reports_for(session: Session, action: Action) -> list[ClosureReport]:
    """Return every closure report of ``action``, oldest first."""
    return list(
        session.exec(
            select(ClosureReport)
            .where(ClosureReport.action_id == action.id)
            .order_by(col(ClosureReport.reported_at), col(ClosureReport.id))
        ).all()
    )


def _open_date(session: Session, action: Action, report: ClosureReport, due: date | None, now: datetime) -> str:
    """Return the day the work a report was about is still due, as the plan step plans it: a one-off action's due
    date (as extended); for recurring work, the occurrence reported when it is one of the rule's, else (work
    reported before any occurrence came) the next occurrence after the report, so a returned report never calls
    work late that is due months ahead."""
    if action.kind == "recurring" and action.rrule:
        plan = session.get(Plan, action.plan_id)
        assert plan is not None
        start = datetime.combine(action.start or plan.ref_date, time(0))
        rule = rrulestr(action.rrule, dtstart=start)
        reported = date.fromisoformat(report.occurrence) if report.occurrence else report.reported_at.date()
        moment = datetime.combine(reported, time(0))
        if report.occurrence and moment in rule.between(moment, moment, inc=True) and reported > plan.ref_date:
            return report.occurrence
        following = rule.after(max(moment, datetime.combine(plan.ref_date, time(0))))
        if following is not None:
            return following.date().isoformat()
    return report.occurrence or (due.isoformat() if due else now.date().isoformat())


def _tell(
    session: Session,
    action: Action,
    report: ClosureReport,
    person: Owner,
    template: str,
    now: datetime,
    rules: RuleSet | None = None,
) -> None:
    """Queue ``template`` about ``report`` to ``person``; the payload names people, never ids. ``person`` did not
    just act (the owner reported, the verifier decides), so it goes out in their working day, as reminders do."""
    reporter = session.get(Owner, report.reported_by)
    decider = session.get(Owner, report.decided_by) if report.decided_by else None
    verifier = session.get(Owner, report.verifier_id) if report.verifier_id else None
    due = effective_due(action.due, action.extended_to)
    assert action.id is not None and report.id is not None
    payload: dict[str, Any] = {
        "role": "owner" if template in ("closure_returned", "closure_verified") else "verifier",
        "role_tz": person.timezone,
        "date": (open_day := _open_date(session, action, report, due, now)),
        "what": "due",
        "reported_by": reporter.name if reporter else report.reported_by,
        "reported_on": report.reported_at.date().isoformat(),
        "note": report.note,
        "report_links": list(report.links or []),
        "report_files": [
            {"name": e.name, "size": e.size}
            for e in session.exec(
                select(Evidence)
                .where(Evidence.closure_id == report.id, Evidence.kind == "file")
                .order_by(col(Evidence.id))
            ).all()
        ],
        "owner_rating": report.owner_rating,
        "verifier": verifier.name if verifier else "the secretariat",
        "by": (decider.name if decider else report.decided_by) or "",
        "comment": report.comment,
        "report_id": report.id,
        # a recurring action's occurrence reported, or "" (also for work reported before any occurrence came)
        "reported_occurrence": report.occurrence if report.occurrence == open_day else "",
    }
    tell_now(
        session.connection(),
        message_key(f"{action.plan_id}/{action.ref}", template, str(report.id), person.id),
        to=(person.email, person.id),
        plan_id=action.plan_id,
        action_id=action.id,
        occurrence=f"verification {report.id}",  # about one report, as the verifier's reminders of it
        step=template,
        type="closure",
        template=template,
        now=now,
        payload=payload,
        due_at=working_instant(now, person.timezone, person.country, rules),
    )
