"""The secretariat's update campaigns (``/campaigns``): each campaign with who answered, a "Start a campaign"
form whose preview says who will be asked about what (nothing is sent until it is confirmed), and closing one.

Every verb is a POST with the session's CSRF token, for the secretariat and administrators only.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel import col, select

from engine.actions.campaigns import (
    campaign_progress,
    campaigns_of,
    close_campaign,
    pick_plan,
    start_campaign,
    to_update,
)
from engine.read.escalation_review import directory
from engine.store import transaction
from engine.store.followup_models import Campaign
from engine.store.models import Action, Plan
from engine.web.action_pages import rules_of
from engine.web.auth import PageError, Signed, SignedIn, engine_of, now_of, settings_of
from engine.web.common import RowId, parse_day, refusing_bad_input
from engine.web.followup_pages import checked, read_upload
from engine.web.templating import N_, page

router = APIRouter(include_in_schema=False)


def _secretariat(who: Signed) -> None:
    if not who.viewer.sees_all:
        raise PageError(
            403, N_("Not yours to see"), N_("Only the secretariat and administrators run update campaigns.")
        )


@router.get("/campaigns")
def campaigns(request: Request, who: SignedIn) -> HTMLResponse:
    """List the campaigns with who answered, and the form that starts one."""
    _secretariat(who)
    with transaction(engine_of(request)) as session:
        found = [(c, campaign_progress(session, c)) for c in campaigns_of(session)]
        plans = list(session.exec(select(Plan).order_by(col(Plan.id))).all())
        people = directory(session.connection())
    return page(
        request,
        "campaigns.html.j2",
        viewer=who.viewer,
        csrf=who.csrf,
        found=found,
        plans=plans,
        name_of=people.name_of,
        period_month=_period_month,
    )


def _period_month(period: str) -> date:
    """Return the first day of the month a campaign the rules started is for (its period, "2000-05")."""
    year, month = period.split("-")
    return date(int(year), int(month), 1)


@router.post("/campaigns/{campaign_id}/close")
async def close(request: Request, campaign_id: RowId, who: SignedIn) -> RedirectResponse:
    """Close a campaign: later updates no longer count as answers to it."""
    checked(await read_upload(request), who)
    _secretariat(who)
    with transaction(engine_of(request)) as session:
        campaign = session.get(Campaign, campaign_id)
        if campaign is None:
            raise PageError(404, N_("No such campaign"), N_("There is no campaign with that number."))
        close_campaign(session, campaign, now_of(request))
    return RedirectResponse("/campaigns?ok=closed", status_code=303)


def _start_options(form: dict[str, str]) -> dict[str, Any]:
    within = form.get("within", "45").strip()
    if not within.isdigit():
        raise PageError(
            400,
            N_("That could not be done"),
            N_("Due within: expected a number of days, got %(value)s."),
            value=repr(within),
        )
    respond = form.get("respond_by", "").strip()
    return {
        "within_days": int(within),
        "include_overdue": form.get("overdue", "") == "yes",
        "respond_by": parse_day(respond, "Answer by") if respond else None,
        "note": form.get("note", "").strip(),
    }


@router.post("/campaigns/preview")
async def preview_campaign(request: Request, who: SignedIn) -> HTMLResponse:
    """Show who a campaign would ask and about what, with the button that starts it; nothing is sent yet."""
    form = checked(await read_upload(request), who)
    _secretariat(who)
    options = _start_options(form)
    with transaction(engine_of(request)) as session, refusing_bad_input():
        plan = pick_plan(session, form.get("plan") or None)
        actions = to_update(
            session,
            now_of(request),
            plan_id=plan.id,
            within_days=options["within_days"],
            include_overdue=options["include_overdue"],
        )
        people = directory(session.connection())
    by_owner: dict[str, list[Action]] = {}
    for action in actions:
        by_owner.setdefault(action.owner_id or "", []).append(action)
    asked = sorted(((people.name_of(o), mine) for o, mine in by_owner.items()), key=lambda pair: pair[0])
    return page(
        request,
        "campaign_confirm.html.j2",
        viewer=who.viewer,
        csrf=who.csrf,
        plan=plan,
        asked=asked,
        options=options,
        form=form,
    )


@router.post("/campaigns/start")
async def start(request: Request, who: SignedIn) -> RedirectResponse:
    """Start the campaign confirmed on the preview: one message to each owner asked."""
    form = checked(await read_upload(request), who)
    _secretariat(who)
    options = _start_options(form)
    with transaction(engine_of(request)) as session, refusing_bad_input():
        plan = pick_plan(session, form.get("plan") or None)
        rules = rules_of(settings_of(request))  # each owner's request waits for their working day
        start_campaign(session, plan, now_of(request), who=who.viewer.id, rules=rules, **options)
    return RedirectResponse("/campaigns?ok=campaign", status_code=303)
