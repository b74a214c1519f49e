"""*My actions* (``/my``, with the viewer's calendar links), the action sheet and the owner's forms on them.

The sheet opens by number (``/actions/12``) or by the reference shown everywhere (``/actions/PLAN/REF``,
or ``/actions/REF`` when one plan only has it): the feeds' events link to it. An action outside the
viewer's reach answers 404, exactly like one that does not exist.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel import Session, col, select

from engine.actions.acceptance import set_acceptance
from engine.actions.access import Viewer
from engine.actions.extensions import grant_extension, request_extension
from engine.actions.followup import closure_of, report_implemented, set_delay_cause
from engine.actions.workflow import not_mine, progress, reopen
from engine.calendars.build import Feed
from engine.calendars.feeds import Link, active_feeds, renew
from engine.plandoc import effective_due
from engine.read.action_sheet import build_sheet
from engine.read.escalation_review import directory, level_words, occurrence_words
from engine.read.queries import open_actions_of, open_alerts, pending_extension_ids, reading
from engine.rules.loader import RuleSet, load_rules
from engine.rules.policy import DEFAULT_DELAY_CAUSES
from engine.settings import Settings
from engine.store import transaction
from engine.store.followup_models import ClosureReport
from engine.store.models import ACCEPTANCE, Action
from engine.web.auth import PageError, Posted, Signed, SignedIn, engine_of, now_of, settings_of
from engine.web.common import RowId, parse_day, refusing_bad_input, row_id
from engine.web.escalation_pages import query_of
from engine.web.templating import N_, page, page_language
from engine.zones import zone

router = APIRouter(include_in_schema=False)
VIA = "web"


@router.get("/my")
def my_actions(request: Request, who: SignedIn) -> HTMLResponse:
    """List the viewer's open actions by due date, each with done / progress / extension forms, and their calendars."""
    return _my_page(request, who, [])


@router.post("/my/calendar")
def new_calendar_links(request: Request, posted: Posted) -> HTMLResponse:
    """Give the viewer new calendar links (their own feed, and their team's for a supervisor) and show them once.

    Links made before stop working: only a hash of each is kept, so a link cannot be shown again.
    """
    who, _ = posted
    wanted = [Feed("owner", who.viewer.id)] + ([Feed("team", who.viewer.id)] if who.viewer.below else [])
    with transaction(engine_of(request)) as session:
        links = renew(session, who.viewer.id, wanted, now_of(request))
    return _my_page(request, who, links)


def _my_page(request: Request, who: Signed, links: list[Link]) -> HTMLResponse:
    base = settings_of(request).base_url
    with transaction(engine_of(request)) as session:
        actions = open_actions_of(session, who.viewer.id)
        set_aside = [a for a in actions if a.acceptance in SET_ASIDE]
        actions = [a for a in actions if a.acceptance not in SET_ASIDE]
        waiting = waiting_reports(session, who.viewer.id)
        returned = returned_reports(session, actions)
        people = directory(session.connection())
        pending = pending_extension_ids(session, [a.id for a in actions])
        alerts = open_alerts(session, [a.id for a in actions], _today(request, who.viewer))
        feeds = active_feeds(session, who.viewer.id)
        about = _about(request, session, who.viewer)
        reporting = reported_in_two_steps(session, actions, rules_of(settings_of(request)))
        undo = _undo(request, session, who.viewer)
    actions.sort(key=lambda a: (_due(a) is None, _due(a) or date.max, a.plan_id, a.ordinal))
    return page(
        request,
        "my.html.j2",
        viewer=who.viewer,
        csrf=who.csrf,
        actions=actions,
        pending=pending,
        alerts=alerts,
        reading=reading,
        due=_due,
        today=_today(request, who.viewer),
        feeds=[(FEED_NAMES.get(feed.kind, feed.id), created) for feed, created in feeds],
        links=[(FEED_NAMES.get(link.feed.kind, link.feed.id), *link.urls(base)) for link in links],
        about=about,
        undo=undo,
        undo_back="my",
        reporting=reporting,
        set_aside=sorted(set_aside, key=lambda a: (a.plan_id, a.ordinal)),
        waiting=waiting,
        returned=returned,
        name_of=people.name_of,
    )


SET_ASIDE = ("not_accepted", "under_consideration")  # neither worked on nor late: no reminders, no forms


def waiting_reports(session: Session, owner_id: str) -> list[tuple[Action, ClosureReport]]:
    """Return the owner's actions reported implemented and waiting for verification, with their reports."""
    rows = session.exec(
        select(Action, ClosureReport)
        .join(ClosureReport, col(ClosureReport.action_id) == Action.id)
        .where(Action.owner_id == owner_id, col(Action.removed_at).is_(None), ClosureReport.status == "reported")
        .order_by(col(ClosureReport.reported_at), col(ClosureReport.id))
    ).all()
    return [(action, report) for action, report in rows]


def returned_reports(session: Session, actions: list[Action]) -> dict[int, ClosureReport]:
    """Return, by action, the newest report when it was returned to the owner (the action is open again)."""
    ids = [a.id for a in actions if a.id is not None]
    rows = session.exec(
        select(ClosureReport)
        .where(col(ClosureReport.action_id).in_(ids))
        .order_by(col(ClosureReport.reported_at), col(ClosureReport.id))
    ).all()
    newest = {r.action_id: r for r in rows}
    return {ident: r for ident, r in newest.items() if r.status == "returned"}


def _about(request: Request, session: Session, viewer: Viewer) -> str:
    """Name the action a form changed (``?action=ID`` after a redirect), if the viewer may see it."""
    action = _changed(request, session, viewer)
    return _named(action) if action is not None else ""


def _changed(request: Request, session: Session, viewer: Viewer) -> Action | None:
    """Return the action a form changed (``?action=ID`` after a redirect), if the viewer may see it."""
    ident = request.query_params.get("action", "")
    found = row_id(ident)
    action = session.get(Action, found) if found else None
    return action if action is not None and viewer.may_see(action.id, action.owner_id) else None


def _undo(request: Request, session: Session, viewer: Viewer) -> Action | None:
    """Return the action just marked done when the viewer may take that back (the notice offers to reopen it)."""
    if request.query_params.get("ok") != "done":
        return None
    action = _changed(request, session, viewer)
    return action if action is not None and may_reopen(viewer, action) else None


def _today(request: Request, viewer: Viewer) -> date:
    """Return the viewer's day now (in their zone)."""
    return now_of(request).astimezone(zone(viewer.timezone)).date()


def _named(action: Action) -> str:
    title = action.title if len(action.title) <= 60 else action.title[:59] + "…"
    return f"{action.ref} “{title}”"


FEED_NAMES = {"owner": N_("Your actions"), "team": N_("Your team's actions and open escalations")}


def _due(action: Action) -> date | None:
    return effective_due(action.due, action.extended_to)


def visible_action(session: Session, viewer: Viewer, action_id: int, *, acting: bool = False) -> Action:
    """Return the action if the viewer may see it; otherwise the same 404 as for no such action. ``acting``: for
    a change, which its verifier (who sees it only while a report waits for them) may not make here."""
    action = session.get(Action, action_id)
    seen = action is not None and (
        viewer.can_see(action.owner_id) if acting else viewer.may_see(action.id, action.owner_id)
    )
    if action is None or action.removed_at is not None or not seen:
        raise PageError(404, N_("No such action"), N_("There is no action with that number that you can see."))
    return action


def visible_by_ref(session: Session, viewer: Viewer, plan_id: str | None, ref: str) -> Action:
    """Return the action ``ref`` (of ``plan_id``, or of the one plan that has it) if the viewer may see it."""
    query = select(Action).where(Action.ref == ref, col(Action.removed_at).is_(None))
    if plan_id is not None:
        query = query.where(Action.plan_id == plan_id)
    found = [a for a in session.exec(query.order_by(col(Action.plan_id))).all() if viewer.may_see(a.id, a.owner_id)]
    if len(found) > 1:
        choices = ", ".join(f"/actions/{a.plan_id}/{a.ref}" for a in found)
        raise PageError(
            404,
            N_("Which plan?"),
            N_("More than one plan has an action %(ref)s: open one of %(choices)s."),
            ref=ref,
            choices=choices,
        )
    if not found:
        raise PageError(404, N_("No such action"), N_("There is no action %(ref)s that you can see."), ref=ref)
    return found[0]


@router.get("/actions/{key}")
def action_sheet(request: Request, key: str, who: SignedIn) -> HTMLResponse:
    """Show everything about one action, found by its number or by its reference (``/actions/I.2c.1``)."""
    with transaction(engine_of(request)) as session:
        if key.isdigit():
            action = visible_action(session, who.viewer, row_id(key) or 0)  # 0: no such action, the 404
        else:
            action = visible_by_ref(session, who.viewer, None, key)
        return _sheet(request, who, session, action)


@router.get("/actions/{plan_id}/{ref}")
def action_sheet_by_ref(request: Request, plan_id: str, ref: str, who: SignedIn) -> HTMLResponse:
    """Show everything about one action, found by plan and reference (``/actions/gb276-tc2/I.2c.1``)."""
    with transaction(engine_of(request)) as session:
        return _sheet(request, who, session, visible_by_ref(session, who.viewer, plan_id, ref))


def _sheet(request: Request, who: Signed, session: Session, action: Action) -> HTMLResponse:
    sheet = build_sheet(session, action)
    today = _today(request, who.viewer)
    people = directory(session.connection())
    language = page_language(request)
    rules = rules_of(settings_of(request))
    return page(
        request,
        "action.html.j2",
        viewer=who.viewer,
        csrf=who.csrf,
        sheet=sheet,
        reading=reading(sheet.action),
        alerts=_alerts(session, action, today),
        today=today,
        undo=_undo(request, session, who.viewer),
        undo_back="sheet",
        people=people,
        name_of=people.name_of,
        occurrence_words=lambda occurrence, kind: occurrence_words(occurrence, kind, language),
        level_words=lambda level: level_words(level, language),
        about=_named(action),
        reporting=bool(reported_in_two_steps(session, [action], rules)),
        causes=rules.delay_causes if rules is not None else DEFAULT_DELAY_CAUSES,
        acceptances=ACCEPTANCE,
    )


def _alerts(session: Session, action: Action, today: date) -> list[str]:
    """Return what is open about ``action`` in plain words; nothing when it is not followed up (not accepted)."""
    return [] if action.acceptance in SET_ASIDE else open_alerts(session, [action.id], today).get(action.id or 0, [])


def _back(form: dict[str, str], action_id: int, code: str) -> RedirectResponse:
    target = {"my": "/my", "escalations": "/escalations"}.get(form.get("back", ""), f"/actions/{action_id}")
    if target == "/escalations":  # back to the filters the page had (there ``action`` filters the log)
        kept = dict(parse_qsl(form.get("back_query", ""), max_num_fields=20))
        return RedirectResponse(f"/escalations?{query_of(kept, ok=code)}", status_code=303)
    return RedirectResponse(f"{target}?ok={code}&action={action_id}", status_code=303)


def rules_of(settings: Settings) -> RuleSet | None:
    """Return the rules (they say whether closure takes one step or two, and who verifies), or None without a
    rules folder."""
    return load_rules(settings.rules_dir) if settings.rules_dir.exists() else None


def reported_in_two_steps(session: Session, actions: list[Action], rules: RuleSet | None) -> set[int]:
    """Return the ids of ``actions`` whose owner reports them implemented for a verifier to confirm (two-step
    closure), rather than closing them at once."""
    return {a.id for a in actions if a.id is not None and closure_of(session, a, rules).steps != 1}


@router.post("/actions/{action_id}/done")
def mark_done(request: Request, action_id: RowId, posted: Posted) -> RedirectResponse:
    """Close the action (or the current occurrence of a recurring one) as the rules say: in two steps (the default),
    report it implemented for the verifier to confirm; in one step, mark it done at once."""
    who, form = posted
    rules = rules_of(settings_of(request))
    with transaction(engine_of(request)) as session, refusing_bad_input():
        action = visible_action(session, who.viewer, action_id, acting=True)
        if action.owner_id != who.viewer.id and closure_of(session, action, rules).steps != 1:
            raise PageError(403, N_("Not yours to report"), N_("Only the action's owner reports it implemented."))
        decision = report_implemented(
            session, action, now_of(request), who=who.viewer.id, via=VIA, note=form.get("note", "").strip(), rules=rules
        )
    return _back(form, action_id, "reported" if decision.report is not None else "done")


@router.post("/actions/{action_id}/delay")
def record_delay_cause(request: Request, action_id: RowId, posted: Posted) -> RedirectResponse:
    """The owner (or a supervisor above them) says why the action is late: one of the rules' causes ("other" with
    a note); the report on implementation groups overdue actions by it."""
    who, form = posted
    rules = rules_of(settings_of(request))
    with transaction(engine_of(request)) as session, refusing_bad_input():
        action = visible_action(session, who.viewer, action_id, acting=True)
        if not _owns_or_supervises(who.viewer, action):
            raise PageError(
                403, N_("Not yours to explain"), N_("Only the action's owner or their supervisors say why it is late.")
            )
        check_cause(form.get("cause", ""), form.get("note", ""), rules)
        set_delay_cause(
            session,
            action,
            form.get("cause", ""),
            now_of(request),
            who=who.viewer.id,
            via=VIA,
            note=form.get("note", "").strip(),
            causes=rules.delay_causes if rules is not None else DEFAULT_DELAY_CAUSES,
        )
    return _back(form, action_id, "delay")


def check_cause(cause: str, note: str, rules: RuleSet | None) -> None:
    """Refuse a cause of delay the rules do not list, or "other" without a note, in the reader's language."""
    if cause not in (rules.delay_causes if rules is not None else DEFAULT_DELAY_CAUSES):
        raise PageError(
            400,
            N_("That could not be done"),
            N_("Unknown cause of delay “%(cause)s”: choose one of the causes in the list."),
            cause=cause,
        )
    if cause == "other" and not note.strip():
        raise PageError(
            400,
            N_("That could not be done"),
            N_("The cause “other” needs a few words: say what delays the action in the Note box."),
        )


@router.post("/actions/{action_id}/acceptance")
def record_acceptance(request: Request, action_id: RowId, posted: Posted) -> RedirectResponse:
    """The secretariat records whether the recommendation is accepted, partially accepted, not accepted (with the
    reason) or under consideration; by default only accepted actions get reminders and escalations."""
    who, form = posted
    with transaction(engine_of(request)) as session, refusing_bad_input():
        action = visible_action(session, who.viewer, action_id, acting=True)
        if not who.viewer.sees_all:
            raise PageError(
                403, N_("Not yours to decide"), N_("Only the secretariat records whether a recommendation is accepted.")
            )
        if form.get("acceptance") == "not_accepted" and not form.get("note", "").strip():
            raise PageError(
                400,
                N_("That could not be done"),
                N_("A recommendation not accepted needs the reason: write it in the Reason box."),
            )
        set_acceptance(
            session,
            action,
            form.get("acceptance", ""),
            now_of(request),
            who=who.viewer.id,
            via=VIA,
            note=form.get("note", "").strip(),
        )
    return _back(form, action_id, "acceptance")


@router.post("/actions/{action_id}/reopen")
def reopen_action(request: Request, action_id: RowId, posted: Posted) -> RedirectResponse:
    """Undo "done": the owner (or a supervisor above them) puts the action back as it was."""
    who, form = posted
    with transaction(engine_of(request)) as session, refusing_bad_input():
        action = visible_action(session, who.viewer, action_id, acting=True)
        if not _owns_or_supervises(who.viewer, action):
            raise PageError(
                403, N_("Not yours to reopen"), N_("Only the action's owner or their supervisors can reopen it.")
            )
        reopen(session, action, now_of(request), who=who.viewer.id, via=VIA)
    return _back(form, action_id, "reopened")


def may_reopen(viewer: Viewer, action: Action) -> bool:
    """Return True when ``viewer`` may undo "done" on ``action``: theirs or below them, done, and not recurring
    (a recurring action is done one occurrence at a time)."""
    return _owns_or_supervises(viewer, action) and action.status == "done" and action.kind != "recurring"


def _owns_or_supervises(viewer: Viewer, action: Action) -> bool:
    return action.owner_id == viewer.id or viewer.can_supervise(action.owner_id)


@router.post("/actions/{action_id}/progress")
def report_progress(request: Request, action_id: RowId, posted: Posted) -> RedirectResponse:
    """Record a progress report (on track or at risk, with a note)."""
    who, form = posted
    with transaction(engine_of(request)) as session, refusing_bad_input():
        action = visible_action(session, who.viewer, action_id, acting=True)
        progress(
            session,
            action,
            now_of(request),
            who=who.viewer.id,
            via=VIA,
            note=form.get("note", "").strip(),
            state=form.get("state", "on track"),
            percent=percent_of(form.get("percent", "")),
        )
    return _back(form, action_id, "progress")


def percent_of(text: str) -> int | None:
    """Return the percent complete a form gives (None when left empty), or a 400 page saying what was expected."""
    value = text.strip()
    if not value:
        return None
    if not (value.isascii() and value.isdigit() and int(value) <= 100):
        raise PageError(
            400,
            N_("That could not be done"),
            N_("Percent complete: expected a whole number from 0 to 100, got %(value)s."),
            value=repr(value),
        )
    return int(value)


@router.post("/actions/{action_id}/extension")
def ask_extension(request: Request, action_id: RowId, posted: Posted) -> RedirectResponse:
    """Ask for a later due date; the supervisor grants or refuses it."""
    who, form = posted
    wanted = parse_day(form.get("to", ""), "New due date")
    with transaction(engine_of(request)) as session, refusing_bad_input():
        action = visible_action(session, who.viewer, action_id, acting=True)
        request_extension(
            session, action, wanted, now_of(request), who=who.viewer.id, via=VIA, reason=form.get("reason", "").strip()
        )
    return _back(form, action_id, "requested")


@router.post("/actions/{action_id}/extend")
def extend_now(request: Request, action_id: RowId, posted: Posted) -> RedirectResponse:
    """A supervisor grants an extension directly."""
    who, form = posted
    to = parse_day(form.get("to", ""), "New due date")
    with transaction(engine_of(request)) as session, refusing_bad_input():
        action = visible_action(session, who.viewer, action_id, acting=True)
        if not who.viewer.can_supervise(action.owner_id):
            raise PageError(
                403, N_("Not yours to decide"), N_("Only a supervisor of the action's owner can grant an extension.")
            )
        grant_extension(
            session, action, to, now_of(request), who=who.viewer.id, via=VIA, reason=form.get("reason", "").strip()
        )
    return _back(form, action_id, "extended")


@router.post("/actions/{action_id}/not-mine")
def hand_back(request: Request, action_id: RowId, posted: Posted) -> RedirectResponse:
    """The owner hands the action back; the secretariat is told."""
    who, form = posted
    with transaction(engine_of(request)) as session, refusing_bad_input():
        action = visible_action(session, who.viewer, action_id, acting=True)
        if action.owner_id != who.viewer.id:
            raise PageError(403, N_("Not yours to hand back"), N_("Only the action's owner can say it is not theirs."))
        not_mine(session, action, now_of(request), who=who.viewer.id, via=VIA, note=form.get("note", "").strip())
    return RedirectResponse("/my?ok=not_mine", status_code=303)
