"""Update campaigns: the secretariat asks every owner, in one message each, to update all their open actions due
soon or overdue, on one page; the campaign shows who answered.

``start_campaign`` records the ``Campaign``, one ``CampaignRequest`` per owner with at least one open action due
within ``within_days`` (or overdue), and queues one ``campaign`` message each through the outbox's one
``enqueue`` (the message lists the actions, one link each, and one link to the page that updates them all).
``save_updates`` is that page's work: one dated update per action filled in (``workflow.progress``), files
attached as evidence, and the owner's requests counted as answered. Datetimes are aware UTC; dates are the
plan's local days.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from engine.actions.evidence import EvidenceStore, attach_file, check_file
from engine.actions.workflow import progress
from engine.errors import InputError, UsageError
from engine.languages import day, gettext, language_of, ngettext
from engine.outbox import message_key, tell_now
from engine.plandoc import effective_due
from engine.rules.loader import RuleSet, working_instant
from engine.store.followup_models import Campaign, CampaignRequest, ProgressUpdate
from engine.store.models import Action, Owner, Plan, Section
from engine.zones import zone

OPEN = ("open", "in_progress")  # "reported" waits for its verifier; done, dropped and on hold need no update
ASKED_ACCEPTANCE = ("accepted", "partially_accepted")
MAX_DAYS = 366


@dataclass(frozen=True, slots=True)
class Answer:
    """One owner of a campaign: asked about ``actions`` (refs), when they answered (None: not yet), how many."""

    owner_id: str
    name: str
    email: str
    actions: list[str]
    queued_at: datetime
    answered_at: datetime | None
    updated: int


@dataclass(slots=True)
class Entry:
    """What the owner wrote for one action on the update page: text, percent (None), state, an optional file."""

    action_id: int
    text: str = ""
    percent: int | None = None
    state: str = "on track"
    file_name: str = ""
    file_data: bytes = b""
    links: list[str] = field(default_factory=list)

    @property
    def filled(self) -> bool:
        """Return True when the owner wrote or attached something for this action."""
        return bool(self.text.strip() or self.percent is not None or self.file_data)


def plan_today(plan: Plan, now: datetime) -> date:
    """Return the plan's local day at ``now``."""
    return now.astimezone(zone(plan.timezone)).date()


def to_update(
    session: Session,
    now: datetime,
    *,
    plan_id: str | None = None,
    owner_id: str | None = None,
    within_days: int = 45,
    include_overdue: bool = True,
) -> list[Action]:
    """Return the open, accepted actions (of ``plan_id``, of ``owner_id``; None: all) due within ``within_days``
    of the plan's today, and the overdue ones, by due date."""
    query = select(Action, Plan).join(Plan, col(Plan.id) == Action.plan_id)
    query = query.where(col(Action.removed_at).is_(None), col(Action.status).in_(OPEN))
    query = query.where(col(Action.acceptance).in_(ASKED_ACCEPTANCE), col(Action.owner_id).is_not(None))
    if plan_id is not None:
        query = query.where(Action.plan_id == plan_id)
    if owner_id is not None:
        query = query.where(Action.owner_id == owner_id)
    found = []
    for action, plan in session.exec(query).all():
        due, today = effective_due(action.due, action.extended_to), plan_today(plan, now)
        if due is not None and ((due < today and include_overdue) or today <= due <= today + timedelta(within_days)):
            found.append(action)
    return sorted(found, key=lambda a: (effective_due(a.due, a.extended_to) or date.max, a.plan_id, a.ordinal))


def start_campaign(
    session: Session,
    plan: Plan,
    now: datetime,
    *,
    who: str,
    within_days: int = 45,
    include_overdue: bool = True,
    respond_by: date | None = None,
    note: str = "",
    rules: RuleSet | None = None,
) -> Campaign:
    """Ask every owner with open actions of ``plan`` due within ``within_days`` (or overdue) to update them all;
    return the campaign. Each owner gets one ``campaign`` message, queued now for their working day: at once
    within it, else at their next delivery hour on a business day (``rules`` give the hour and the days)."""
    today = plan_today(plan, now)
    if not 1 <= within_days <= MAX_DAYS:
        raise UsageError(f"--within {within_days}: expected a number of days from 1 to {MAX_DAYS}")
    if respond_by is not None and respond_by < today:
        raise UsageError(f"--respond-by {respond_by.isoformat()} is before today ({today.isoformat()})")
    actions = to_update(session, now, plan_id=plan.id, within_days=within_days, include_overdue=include_overdue)
    if not actions:
        late = " or overdue" if include_overdue else ""
        raise UsageError(f"no open action of {plan.id} is due within {within_days} days{late}: nobody to ask")
    campaign = Campaign(
        plan_id=plan.id,
        title=f"Update of {today.day} {today:%B %Y}",
        created_at=now,
        created_by=who,
        within_days=within_days,
        include_overdue=include_overdue,
        respond_by=respond_by,
        note=note.strip(),
    )
    session.add(campaign)
    session.flush()
    by_owner: dict[str, list[Action]] = {}
    for action in actions:
        by_owner.setdefault(action.owner_id or "", []).append(action)
    parts = _parts(session, plan.id)
    for owner_id, mine in sorted(by_owner.items()):
        owner = session.get(Owner, owner_id)
        if owner is None:
            continue
        ids = [a.id for a in mine if a.id is not None]
        session.add(CampaignRequest(campaign_id=campaign.id or 0, owner_id=owner_id, action_ids=ids, queued_at=now))
        _ask(session, campaign, plan, owner, mine, parts, today, now, rules)
    return campaign


def _parts(session: Session, plan_id: str) -> dict[str, tuple[int, str]]:
    """Return each section key's Part as (order, "Part I: title")."""
    sections = {s.key: s for s in session.exec(select(Section).where(Section.plan_id == plan_id)).all()}
    found: dict[str, tuple[int, str]] = {}
    for key, section in sections.items():
        top = section
        while top.parent_key and top.parent_key in sections:
            top = sections[top.parent_key]
        found[key] = (top.ordinal, f"Part {top.number}: {top.title}" if top.level == "part" else top.title)
    return found


def _ask(
    session: Session,
    campaign: Campaign,
    plan: Plan,
    owner: Owner,
    actions: Sequence[Action],
    parts: dict[str, tuple[int, str]],
    today: date,
    now: datetime,
    rules: RuleSet | None = None,
) -> None:
    """Queue the ``campaign`` message to ``owner`` listing ``actions``, for the owner's working day."""
    lang = language_of(owner.language, plan.language)  # the owner reads the list in their language
    items = [_item(a, parts.get(a.section_key, (0, "")), today, lang) for a in actions]
    payload: dict[str, Any] = {
        "role": "owner",
        "role_tz": owner.timezone,
        "language": lang,
        "items": items,
        "campaign": {
            "id": campaign.id,
            "title": campaign.title,
            "within_days": campaign.within_days,
            "respond_by": campaign.respond_by.isoformat() if campaign.respond_by else "",
            "respond_by_long": day(campaign.respond_by, lang) if campaign.respond_by else "",
            "note": campaign.note,
            "plan": plan.symbol or plan.title or plan.id,  # a plan read from a spreadsheet may have no symbol
        },
    }
    tell_now(
        session.connection(),
        message_key(f"campaign/{campaign.id}", owner.id),
        to=(owner.email, owner.id),
        plan_id=plan.id,
        action_id=None,
        occurrence=today.isoformat(),
        step="campaign",
        type="campaign",
        template="campaign",
        now=now,
        payload=payload,
        due_at=working_instant(now, owner.timezone, owner.country, rules),
    )


def _item(action: Action, part: tuple[int, str], today: date, lang: str = "en") -> dict[str, Any]:
    due = effective_due(action.due, action.extended_to)
    assert due is not None
    return {
        "ref": action.ref,
        "plan_id": action.plan_id,
        "title": action.title,
        "type": "overdue" if (today - due).days > 0 else "reminder",
        "level": 0,
        "headline": due_words(due, today, lang),
        "due": due.isoformat(),
        "overdue": (today - due).days > 0,
        "part": part[1],
        "part_order": part[0],
    }


def due_words(due: date, today: date, lang: str) -> str:
    """Return how an action stands against ``due`` in ``lang``: "12 days overdue (due 30 September 2026)",
    "Due today (...)", "Due tomorrow (...)", "Due in 5 days (...)"."""
    late, when = (today - due).days, day(due, lang)
    if late > 0:
        text = ngettext(lang, "%(num)d day overdue (due %(date)s)", "%(num)d days overdue (due %(date)s)", late)
        return text % {"num": late, "date": when}
    if late == 0:
        return gettext(lang, "Due today (%(date)s)") % {"date": when}
    if late == -1:
        return gettext(lang, "Due tomorrow (%(date)s)") % {"date": when}
    text = ngettext(lang, "Due in %(num)d day (%(date)s)", "Due in %(num)d days (%(date)s)", -late)
    return text % {"num": -late, "date": when}


def save_updates(
    session: Session,
    owner_id: str,
    entries: Sequence[Entry],
    now: datetime,
    *,
    via: str,
    store: EvidenceStore,
    campaign_id: int | None = None,
) -> list[ProgressUpdate]:
    """Record one dated update per filled ``entry`` of ``owner_id``'s actions (all or none); return them.

    Every entry is checked first (the action is the owner's and open, the percent 0 to 100, the file
    acceptable), so a refusal changes nothing. The owner's open campaign requests count the updates.
    """
    checked = [(e, _owned(session, owner_id, e)) for e in entries if e.filled]
    for entry, action in checked:
        if entry.file_data:
            try:
                check_file(entry.file_name, entry.file_data, store.max_bytes)
            except InputError as exc:
                raise UsageError(f"{action.ref}: {exc}") from None
    made = []
    for entry, action in checked:
        update = progress(
            session,
            action,
            now,
            who=owner_id,
            via=via,
            note=entry.text.strip(),
            state=entry.state,
            percent=entry.percent,
            campaign_id=campaign_id,
        )
        session.flush()
        if entry.file_data:
            attach_file(
                session,
                action,
                now,
                who=owner_id,
                name=entry.file_name,
                data=entry.file_data,
                store=store,
                update_id=update.id,
            )
        made.append(update)
    count_answers(session, owner_id, [a.id for _, a in checked if a.id is not None], now)
    return made


def _owned(session: Session, owner_id: str, entry: Entry) -> Action:
    action = session.get(Action, entry.action_id)
    if action is None or action.removed_at is not None or action.owner_id != owner_id:
        raise UsageError(f"action {entry.action_id} is not one of yours; reload the page")
    if action.status not in OPEN:
        raise UsageError(f"{action.ref} is {action.status.replace('_', ' ')}: it takes no update now")
    if entry.state not in {"on track", "at risk"}:
        raise UsageError(f"{action.ref}: choose on track or at risk")
    if entry.percent is not None and not 0 <= entry.percent <= 100:
        raise UsageError(f"{action.ref}: percent complete {entry.percent} is not between 0 and 100")
    return action


def count_answers(session: Session, owner_id: str, action_ids: Sequence[int], now: datetime) -> int:
    """Count updates of ``action_ids`` as the owner's answer to every open campaign that asked about them; return
    how many requests they answered."""
    if not action_ids:
        return 0
    query = (
        select(CampaignRequest)
        .join(Campaign, col(Campaign.id) == CampaignRequest.campaign_id)
        .where(CampaignRequest.owner_id == owner_id, col(Campaign.closed_at).is_(None))
    )
    touched = 0
    for request in session.exec(query).all():
        asked = set(request.action_ids or [])
        hits = len(asked & set(action_ids))
        if hits:
            request.answered_at = request.answered_at or now
            request.updated += hits
            session.add(request)
            touched += 1
    return touched


def campaign_progress(session: Session, campaign: Campaign) -> list[Answer]:
    """Return each owner the campaign asked, answered ones last, by name.

    An owner has answered when any action they were asked about got a dated update after they were asked
    (and before the campaign closed), however it was given: the update page, a message's link, the command line.
    """
    query = (
        select(CampaignRequest, Owner)
        .join(Owner, col(Owner.id) == CampaignRequest.owner_id)
        .where(CampaignRequest.campaign_id == campaign.id)
    )
    asked = list(session.exec(query).all())
    refs = dict(session.exec(select(Action.id, Action.ref).where(Action.plan_id == campaign.plan_id)).all())
    given = _updates_since(session, campaign, [i for request, _ in asked for i in request.action_ids or []])
    answers = []
    for request, owner in asked:
        mine = sorted(
            at for action_id, at in given if action_id in set(request.action_ids or []) and at >= request.queued_at
        )
        answers.append(
            Answer(
                owner.id,
                owner.name,
                owner.email,
                [refs.get(i, str(i)) for i in request.action_ids or []],
                request.queued_at,
                mine[0] if mine else request.answered_at,
                max(len(mine), request.updated),
            )
        )
    return sorted(answers, key=lambda a: (a.answered_at is not None, a.name, a.owner_id))


def _updates_since(session: Session, campaign: Campaign, action_ids: Sequence[int]) -> list[tuple[int, datetime]]:
    """Return (action id, when) of the dated updates of ``action_ids`` while ``campaign`` was open."""
    if not action_ids:
        return []
    query = select(ProgressUpdate.action_id, ProgressUpdate.at).where(
        col(ProgressUpdate.action_id).in_(sorted(set(action_ids))), ProgressUpdate.at >= campaign.created_at
    )
    if campaign.closed_at is not None:
        query = query.where(ProgressUpdate.at <= campaign.closed_at)
    return [(action_id, at) for action_id, at in session.exec(query).all()]


def close_campaign(session: Session, campaign: Campaign, now: datetime) -> bool:
    """Close ``campaign``: later updates no longer count as answers to it; return False when it was closed."""
    if campaign.closed_at is not None:
        return False
    campaign.closed_at = now
    session.add(campaign)
    return True


def campaigns_of(session: Session, plan_id: str | None = None) -> list[Campaign]:
    """Return the campaigns (of one plan, or all), newest first."""
    query = select(Campaign)
    if plan_id is not None:
        query = query.where(Campaign.plan_id == plan_id)
    return list(session.exec(query.order_by(col(Campaign.created_at).desc(), col(Campaign.id).desc())).all())


def find_campaign(session: Session, campaign_id: int | None) -> Campaign:
    """Return the campaign ``campaign_id`` (None: the newest); raise ``UsageError`` when there is none."""
    if campaign_id is None:
        found = campaigns_of(session)
        if not found:
            raise UsageError("no campaign yet; start one with `planwatch campaign start`")
        return found[0]
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise UsageError(f"no campaign {campaign_id}; `planwatch campaign status` shows the newest")
    return campaign


def pick_plan(session: Session, plan_id: str | None) -> Plan:
    """Return the plan ``plan_id``, or the only plan when None; raise ``UsageError`` naming the choices."""
    plans = list(session.exec(select(Plan).order_by(col(Plan.id))).all())
    if plan_id is not None:
        found = next((p for p in plans if p.id == plan_id), None)
        if found is None:
            raise UsageError(f"no plan {plan_id!r}; the plans are: {', '.join(p.id for p in plans) or 'none yet'}")
        return found
    if len(plans) != 1:
        choices = ", ".join(p.id for p in plans)
        raise UsageError(f"choose the plan with --plan: one of {choices}" if plans else "no plan imported yet")
    return plans[0]
