"""The progress report: per Part and issue, what is done, on track, overdue, extended, unscheduled.

Read-only: it looks at the store as it was at the end of ``as_of`` in the plan's time zone,
using the recorded history (a status changed later does not count yet).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from engine.languages import DEFAULT, day, gettext, install, number
from engine.plandoc import effective_due
from engine.read.rendering import TemplateRefused, md, md_paragraph, refused
from engine.read.report_model import EXTENSION_ASKED, STATES, ActionLine, IssueBlock, PartBlock, Report, state_words
from engine.read.timeline import render_svg
from engine.store import tables
from engine.store.models import Action, ActionChange, Owner, Plan, Section
from engine.zones import zone

if TYPE_CHECKING:
    from jinja2.sandbox import ImmutableSandboxedEnvironment

__all__ = [
    "STATES",
    "ActionLine",
    "IssueBlock",
    "PartBlock",
    "Report",
    "TemplateRefused",
    "build_report",
    "recurrence_rules",
    "render_html",
    "render_markdown",
]


@dataclass(frozen=True, slots=True)
class _Facts:
    """What the report reads of an action (a plain row: loading 10,000 ORM objects costs half a second)."""

    id: int
    ref: str
    title: str
    owner_id: str | None
    kind: str
    start: date | None
    due: date | None
    status: str
    reason: str
    section_key: str
    acceptance: str
    acceptance_note: str


_A = tables.ACTION
_FACTS = (
    _A.c.id,
    _A.c.ref,
    _A.c.title,
    _A.c.owner_id,
    _A.c.kind,
    _A.c.start,
    _A.c.due,
    _A.c.status,
    _A.c.reason,
    _A.c.section_key,
    _A.c.acceptance,
    _A.c.acceptance_note,
)
SET_ASIDE = {"not_accepted": "not accepted", "under_consideration": "under consideration"}


def build_report(session: Session, plan_id: str, as_of: date) -> Report:
    """Return the report of ``plan_id`` as it stood at the end of ``as_of`` (plan-local)."""
    plan = session.get(Plan, plan_id)
    assert plan is not None
    cutoff = datetime.combine(as_of + timedelta(days=1), time(0), zone(plan.timezone)).astimezone(UTC)
    query = sa_select(*_FACTS).where(_A.c.plan_id == plan_id, _A.c.removed_at.is_(None)).order_by(_A.c.ordinal)
    actions = [_Facts(**row) for row in session.connection().execute(query).mappings()]
    history = _history(session, plan_id, cutoff)
    decided_later = _acceptance_before_later_decisions(session, plan_id, cutoff)
    actions = [
        replace(a, acceptance=decided_later[a.id], acceptance_note="") if a.id in decided_later else a for a in actions
    ]
    open_steps = _open_escalations(session, plan_id, cutoff)
    owners: dict[str, str] = dict(session.exec(select(Owner.id, Owner.name)).all())
    sections = list(
        session.exec(select(Section).where(Section.plan_id == plan_id).order_by(col(Section.ordinal))).all()
    )
    by_section: dict[str, list[ActionLine]] = defaultdict(list)
    extensions: list[tuple[str, str, str, str]] = []
    for action in actions:
        changes = history.get(action.id, [])
        line = _line(action, changes, owners, as_of)
        by_section[action.section_key].append(_attention(line, open_steps.get(action.id, set()), changes, as_of))
        extensions += _extensions(action.ref, changes)
    return Report(plan, as_of, _parts(sections, by_section), extensions)


def _extensions(ref: str, changes: list[ActionChange]) -> list[tuple[str, str, str, str]]:
    """Return (ref, from, to, reason) of each extension granted: the reason is the owner's, from the request it
    answers (the note of whoever granted it only when nobody asked, such as the secretariat's own ``extend``)."""
    found: list[tuple[str, str, str, str]] = []
    asked = ""
    for change in changes:
        if change.field == "extension requested":
            asked = change.note
        elif change.field == "extension refused":
            asked = ""
        elif change.field == "extended":
            found.append((ref, change.old or "", change.new or "", asked or change.note))
            asked = ""
    return found


def _history(session: Session, plan_id: str, cutoff: datetime) -> dict[int, list[ActionChange]]:
    found: dict[int, list[ActionChange]] = defaultdict(list)
    query = (
        select(ActionChange)
        .join(Action, col(Action.id) == ActionChange.action_id)
        .where(Action.plan_id == plan_id, ActionChange.at < cutoff)
    )
    for change in session.exec(query.order_by(col(ActionChange.at), col(ActionChange.id))).all():
        found[change.action_id].append(change)
    return found


def _acceptance_before_later_decisions(session: Session, plan_id: str, cutoff: datetime) -> dict[int, str]:
    """Return, for each action whose acceptance was decided after ``cutoff``, what it was before that decision."""
    query = (
        sa_select(tables.ACTION_CHANGE.c.action_id, tables.ACTION_CHANGE.c.old)
        .join(_A, _A.c.id == tables.ACTION_CHANGE.c.action_id)
        .where(
            _A.c.plan_id == plan_id, tables.ACTION_CHANGE.c.field == "acceptance", tables.ACTION_CHANGE.c.at >= cutoff
        )
        .order_by(tables.ACTION_CHANGE.c.at.desc(), tables.ACTION_CHANGE.c.id.desc())
    )
    return {action_id: old or "accepted" for action_id, old in session.connection().execute(query)}  # earliest wins


def _open_escalations(session: Session, plan_id: str, cutoff: datetime) -> dict[int, set[str]]:
    """Return the occurrences with an escalation open at ``cutoff`` (fired, neither acknowledged nor resolved)."""
    E = tables.ESCALATION
    query = (
        sa_select(E.c.action_id, E.c.occurrence)
        .join(_A, _A.c.id == E.c.action_id)
        .where(
            _A.c.plan_id == plan_id,
            E.c.at < cutoff,
            or_(E.c.acknowledged_at.is_(None), E.c.acknowledged_at >= cutoff),
            or_(E.c.resolved_at.is_(None), E.c.resolved_at >= cutoff),
        )
    )
    found: dict[int, set[str]] = defaultdict(set)
    for action_id, occurrence in session.connection().execute(query.distinct()):
        found[action_id].add(occurrence)
    return found


def _extension_pending(changes: list[ActionChange]) -> str | None:
    """Return the date asked for when the last word on an extension is a request (none granted or refused since)."""
    wanted = None
    for change in changes:
        if change.field == "extension requested":
            wanted = change.new or ""
        elif change.field in {"extended", "extension refused"}:
            wanted = None
    return wanted


def _attention(line: ActionLine, occurrences: set[str], changes: list[ActionChange], as_of: date) -> ActionLine:
    """Return ``line`` with what is open about it: an action with an open escalation or a pending extension request
    is never "on track"; a missed recurring occurrence makes it overdue."""
    if line.state not in {"on track", "overdue"}:
        return line
    alerts: list[str] = []
    missed: list[date] = []
    for occurrence in sorted(occurrences):
        if occurrence.startswith("check-in "):
            alerts.append("check-in unanswered")
        elif occurrence.startswith("start "):
            alerts.append("not started")
        elif occurrence.startswith("stale "):
            alerts.append("no progress reported")
        else:
            try:  # a date, or "DATE reopened DAY": the round that began when a done action was reopened
                missed.append(date.fromisoformat(occurrence.split(" reopened ")[0]))
            except ValueError:
                alerts.append("escalated")
    wanted = _extension_pending(changes)
    if wanted is not None:
        alerts.append(f"{EXTENSION_ASKED}{wanted}" if wanted else "extension requested")
    alerts = list(dict.fromkeys(alerts))
    if line.state == "overdue":
        return replace(line, alerts=tuple(alerts))
    if missed:
        days = (as_of - min(missed)).days
        return replace(line, state="overdue", days_overdue=max(days, 0), alerts=tuple(alerts))
    if alerts:
        return replace(line, state="needs attention", alerts=tuple(alerts))
    return line


def _status_at(action: _Facts, changes: list[ActionChange]) -> tuple[str, str]:
    status, note = "open", ""
    for change in changes:
        if change.field == "status":
            status, note = change.new or "open", change.note
        elif change.field == "progress":
            note = change.note or note
    if not any(c.field == "status" for c in changes) and action.status not in {"open", "in_progress"}:
        return "open", ""  # changed after the day of the report, or never recorded
    return status, note


def _acceptance_at(action: _Facts, changes: list[ActionChange]) -> tuple[str, str]:
    """Return the action's acceptance and its note as of the report's day: the last decision recorded by then,
    else the one it has now (decided in the plan file, or later)."""
    decided = [c for c in changes if c.field == "acceptance"]
    if decided:
        return decided[-1].new or "accepted", decided[-1].note
    return action.acceptance, action.acceptance_note


def _extended_at(action: _Facts, changes: list[ActionChange]) -> date | None:
    extended = [c.new for c in changes if c.field == "extended" and c.new]
    return date.fromisoformat(extended[-1]) if extended else None


def _line(action: _Facts, changes: list[ActionChange], owners: dict[str, str], as_of: date) -> ActionLine:
    status, note = _status_at(action, changes)
    extended = _extended_at(action, changes)
    due = effective_due(action.due, extended)
    base: dict[str, Any] = dict(
        ref=action.ref,
        title=action.title,
        owner=owners.get(action.owner_id or "", "(no owner)"),
        kind=action.kind,
        start=action.start,
        due=due,
        extended_to=extended,
        recurring=action.kind == "recurring",
    )
    if status in {"done", "dropped", "on_hold"}:
        return ActionLine(state={"on_hold": "on hold"}.get(status, status), reason=note, **base)
    acceptance, why = _acceptance_at(action, changes)
    if acceptance in SET_ASIDE:  # not followed up: neither on track nor overdue
        return ActionLine(state="not accepted", reason=why or SET_ASIDE[acceptance], **base)
    if action.kind == "unscheduled" or (due is None and action.kind in {"event"}):
        return ActionLine(state="unscheduled", reason=action.reason, **base)
    if due is not None and due < as_of and action.kind != "recurring":
        return ActionLine(
            state="overdue", days_overdue=(as_of - due).days, reason=note or "no progress reported", **base
        )
    return ActionLine(state="on track", reason=note, **base)


def _parts(sections: list[Section], by_section: dict[str, list[ActionLine]]) -> list[PartBlock]:
    """Return one block per Part, holding every section with actions that its ``parent_key`` chain leads to.

    Actions placed directly in a Part come first, as a block named like the Part; a section goes under
    the Part its parents lead to, wherever the file lists it.
    """
    by_key = {section.key: section for section in sections}
    parts: dict[str, PartBlock] = {}
    for section in sections:
        if section.parent_key is None:
            parts[section.key] = PartBlock(section.number, section.title)
    for section in sections:
        lines = by_section.get(section.key)
        top = _part_of(section, by_key)
        if lines and top is not None and top.key in parts:
            block = IssueBlock(section.number, section.title, lines)
            parts[top.key].issues.append(block)
    return list(parts.values())


def _part_of(section: Section, by_key: dict[str, Section]) -> Section | None:
    """Return the Part (the section without a parent) that ``section`` sits in, following ``parent_key``."""
    seen: set[str] = set()
    node: Section | None = section
    while node is not None and node.parent_key is not None and node.key not in seen:
        seen.add(node.key)
        node = by_key.get(node.parent_key)
    return node if node is not None and node.parent_key is None else None


def render_markdown(report: Report, language: str = DEFAULT) -> str:
    """Return the report as Markdown in ``language``; every text from the plan or a person shows as typed, never as
    markup."""

    def _(message: str) -> str:
        return gettext(language, message)

    whole = _("Whole plan")
    out = [
        "# " + _("Progress report: %(symbol)s") % {"symbol": md(report.plan.symbol or report.plan.title)},
        "",
        md_paragraph(report.plan.title),
        "",
        _("As of %(day)s.") % {"day": day(report.as_of, language)},
        "",
        _counts_table(report.totals(), whole, language),
        "",
    ]
    for part in report.parts:
        label = _("Part %(number)s") % {"number": md(part.number)}
        title = _("Part %(number)s: %(title)s") % {"number": md(part.number), "title": md(part.title)}
        out += [f"## {title}", "", _counts_table(part.counts(), label, language), ""]
        for issue in part.issues:
            head = [_("action"), _("owner"), _("state"), _("due"), _("note")]
            out += [
                f"### {md(issue.number)} {md(issue.title)}",
                "",
                "| " + " | ".join(head) + " |",
                "|---|---|---|---|---|",
            ]
            out += [
                f"| {md(x.ref)} {md(x.title)} | {md(state_words(x.owner, language))} | {md(x.words_in(language))} "
                f"| {day(x.due, language)} | {md(state_words(x.reason, language))} |"
                for x in issue.lines
            ]
            out.append("")
    if report.extensions:
        head = [_("action"), _("from"), _("to"), _("reason")]
        out += ["## " + _("Extensions granted"), "", "| " + " | ".join(head) + " |", "|---|---|---|---|"]
        out += [
            f"| {md(ref)} | {_day_text(old, language)} | {_day_text(new, language)} | {md(reason)} |"
            for ref, old, new, reason in report.extensions
        ]
    return "\n".join(out) + "\n"


def _day_text(text: str, language: str) -> str:
    """Return a day recorded as text (2000-09-30) in words in ``language``; anything else as typed."""
    try:
        return day(date.fromisoformat(text), language)
    except ValueError:
        return md(text)


def _counts_table(counts: dict[str, int], label: str, language: str = DEFAULT) -> str:
    head = "| " + " | ".join([label, *(state_words(s, language) for s in STATES)]) + " |"
    rule = "|" + "---|" * (len(STATES) + 1)
    row = f"| {gettext(language, 'actions')} | " + " | ".join(number(counts[s], language) for s in STATES) + " |"
    return "\n".join([head, rule, row])


def render_html(
    report: Report,
    folders: list[str] | None = None,
    rrules: dict[str, str] | None = None,
    language: str = DEFAULT,
) -> str:
    """Return the report as one printable HTML page in ``language`` with the timeline inside (autoescaped).

    ``folders`` are the template folders searched before the shipped one (the user's own first). The template
    renders in Jinja2's immutable sandbox; one that fails or is refused raises ``TemplateRefused``.
    """
    from jinja2 import TemplateError

    env = _environment(tuple(folders or ()), language)
    try:
        return env.get_template("report/report.html.j2").render(
            report=report,
            states=STATES,
            svg=render_svg(report, rrules, language),
            state_words=lambda state: state_words(state, language),
            days=lambda text: _day_text(text, language),
        )
    except TemplateError as exc:
        raise refused(exc) from None


@lru_cache(maxsize=24)
def _environment(folders: tuple[str, ...], language: str = DEFAULT) -> ImmutableSandboxedEnvironment:
    from jinja2 import FileSystemLoader, StrictUndefined, select_autoescape
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    from engine.shipped import templates_folder

    env = ImmutableSandboxedEnvironment(
        loader=FileSystemLoader([*folders, str(templates_folder())]),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2")),
    )
    install(env, language)
    return env


def recurrence_rules(session: Session, plan_id: str) -> dict[str, str]:
    """Return the RRULE of every recurring action of a plan, by id (for the timeline's ticks)."""
    rows = session.exec(
        select(Action.ref, Action.rrule).where(Action.plan_id == plan_id, col(Action.rrule).is_not(None))
    ).all()
    return {ref: rule for ref, rule in rows if rule}
