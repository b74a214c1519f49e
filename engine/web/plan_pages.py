"""*Plan* (``/plan``: the timeline, counts per Part, the needs-review queue) and the printable
progress report (``/report``, the same report as ``planwatch report --format html``), both cut to
the viewer's scope.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel import Session

from engine.actions.workflow import set_schedule
from engine.read.plan_scope import (
    plan_day,
    review_queue,
    schedule_values,
    scoped_report,
    visible_refs,
)
from engine.read.queries import plans, reading
from engine.read.report import STATES, Report, build_report, recurrence_rules, render_html
from engine.read.timeline import render_svg
from engine.settings import template_folders
from engine.store import transaction
from engine.store.models import Action, Plan
from engine.timeframe import KINDS
from engine.web.auth import PageError, Posted, SignedIn, engine_of, now_of, settings_of
from engine.web.common import RowId, refusing_bad_input
from engine.web.templating import N_, page, page_language, secure_headers

router = APIRouter(include_in_schema=False)


def _plan(session: Session, wanted: str | None) -> Plan:
    found = plans(session)
    chosen = next((p for p in found if p.id == wanted), found[0] if found else None)
    if chosen is None:
        raise PageError(404, N_("No plan yet"), N_("No plan has been imported yet; the secretariat imports it."))
    return chosen


def _as_of(text: str | None, default: date) -> date:
    try:
        return date.fromisoformat(text) if text else default
    except ValueError:
        raise PageError(400, N_("Not a date"), f"as_of: expected a date like 2000-12-31, got {text!r}.") from None


def _report(request: Request, session: Session, who: SignedIn) -> tuple[Report, dict[str, str]]:
    plan = _plan(session, request.query_params.get("plan"))
    as_of = _as_of(request.query_params.get("as_of"), plan_day(plan, now_of(request)))
    report = build_report(session, plan.id, as_of)
    return scoped_report(report, visible_refs(session, plan.id, who.viewer.scope())), recurrence_rules(session, plan.id)


@router.get("/plan")
def plan_page(request: Request, who: SignedIn) -> HTMLResponse:
    """Show the plan's timeline, its counts per Part and (for the secretariat) the needs-review queue."""
    with transaction(engine_of(request)) as session:
        report, rules = _report(request, session, who)
        queue, waiting = review_queue(session, report.plan.id) if who.viewer.sees_all else ([], 0)
        all_plans = plans(session)
    return page(
        request,
        "plan.html.j2",
        viewer=who.viewer,
        csrf=who.csrf,
        report=report,
        svg=render_svg(report, rules, page_language(request)),
        states=STATES,
        queue=queue,
        waiting=waiting,
        kinds=KINDS,
        reading=reading,
        plans=all_plans,
    )


@router.post("/plan/review/{action_id}")
def resolve_reading(request: Request, action_id: RowId, posted: Posted) -> RedirectResponse:
    """The secretariat decides how an action's time frame is read (recorded; clears the review flag)."""
    who, form = posted
    if not who.viewer.sees_all:
        raise PageError(403, N_("Not yours to decide"), N_("Only the secretariat and administrators resolve readings."))
    from engine.rules import events as event_rules

    named = event_rules.load(settings_of(request).rules_dir / "events.yaml")
    with transaction(engine_of(request)) as session, refusing_bad_input():
        action = session.get(Action, action_id)
        if action is None or action.removed_at is not None:
            raise PageError(404, N_("No such action"), N_("There is no action with that number."))
        set_schedule(
            session,
            action,
            schedule_values(form),
            now_of(request),
            who=who.viewer.id,
            via="web",
            note=form.get("note", "").strip(),
            events=named,
        )
    return RedirectResponse(f"/plan?{urlencode({'plan': action.plan_id, 'ok': 'resolved'})}#review", status_code=303)


@router.get("/report")
def report_page(request: Request, who: SignedIn) -> HTMLResponse:
    """Show the printable progress report as of ``?as_of=`` (default: today in the plan's zone)."""
    with transaction(engine_of(request)) as session:
        report, rules = _report(request, session, who)
    folders = [str(f) for f in template_folders(settings_of(request))]
    return secure_headers(
        HTMLResponse(render_html(report, folders=folders, rrules=rules, language=page_language(request)))
    )
