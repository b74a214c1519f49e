"""Action links from e-mails (``/a/{token}/{verb}``) and the recipient's preferences (``/preferences/{token}``).

A GET only shows what the link would do, with a button: mail scanners open links and must not
change anything. The POST acts, once: each verb of a link is single use. A forged, damaged,
expired or used link gets a page that says so.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from engine.actions.access import viewer_for
from engine.actions.extensions import request_extension
from engine.actions.links import ACT, ACTIONS, PREFERENCES, LinkError, SignedLink, read_link
from engine.actions.signin import digest, mark_used, used
from engine.actions.workflow import complete, not_mine, progress
from engine.plandoc import effective_due
from engine.read.queries import active_action, owner_by_id_or_email
from engine.store import transaction
from engine.store.models import Action
from engine.web.auth import (
    AnonymousPost,
    PageError,
    engine_of,
    form_fields,
    now_of,
    same_token,
    settings_of,
)
from engine.web.common import parse_day, refusing_bad_input
from engine.web.templating import ANON_CSRF, page

router = APIRouter(include_in_schema=False)
VIA = "email link"
DIGESTS = {"none": "each message as it comes", "daily": "one daily digest", "weekly": "one weekly digest"}


def _read(request: Request, token: str, kind: str) -> SignedLink:
    secret = settings_of(request).secret_key
    if not secret:
        raise PageError(
            503,
            "Links are not configured",
            "This planwatch has no secret key (PLANWATCH_SECRET_KEY), so it cannot check links.",
        )
    try:
        return read_link(secret, token, now_of(request), kind)
    except LinkError as exc:
        raise PageError(400, "This link does not work", f"{str(exc).capitalize()}.") from None


def _action(session: Session, link: SignedLink) -> Action:
    action = active_action(session, link.plan_id, link.ref)
    if action is None:
        raise PageError(404, "No such action", "The action this link is about is no longer in the plan.")
    return action


def _unused(session: Session, key: str) -> None:
    spent = used(session, key)
    if spent is not None:
        when = spent.used_at.strftime("%Y-%m-%d %H:%M UTC")
        raise PageError(
            410,
            "This link was already used",
            f"This button of the message was already used ({when}). Each works once; sign in to do more.",
        )


@router.get("/a/{token}/{verb}")
def confirm_action(request: Request, token: str, verb: str) -> HTMLResponse:
    """Show what the link does, with a form and a button; nothing changes yet."""
    if verb not in ACTIONS:
        raise PageError(404, "No such link", "That is not something a planwatch link does.")
    link = _read(request, token, ACT)
    with transaction(engine_of(request)) as session:
        action = _action(session, link)
        _unused(session, digest(ACT, verb, token))
    return page(
        request,
        "link.html.j2",
        verb=verb,
        action=action,
        due=effective_due(action.due, action.extended_to),
        token=token,
    )


@router.post("/a/{token}/{verb}")
def use_action_link(request: Request, token: str, verb: str, form: AnonymousPost) -> HTMLResponse:
    """Do what the link says, once, in the name of the message's recipient."""
    if verb not in ACTIONS:
        raise PageError(404, "No such link", "That is not something a planwatch link does.")
    link, now = _read(request, token, ACT), now_of(request)
    with transaction(engine_of(request)) as session, refusing_bad_input():
        action = _action(session, link)
        owner = owner_by_id_or_email(session, link.recipient)
        if owner is not None and not viewer_for(session, owner).can_see(action.owner_id):
            raise PageError(
                403,
                "This action is no longer yours",
                f"{action.ref} has another owner now; the link in your message no longer works for it.",
            )
        who = owner.id if owner else link.recipient
        if not mark_used(session, digest(ACT, verb, token), f"{ACT}:{verb}", who, now):
            raise PageError(
                410, "This link was already used", "Each button of a message works once; sign in to do more."
            )
        outcome = _perform(session, verb, action, form, now, who)
    return page(request, "link_done.html.j2", action=action, outcome=outcome)


def _perform(session: Session, verb: str, action: Action, form: dict[str, str], now: datetime, who: str) -> str:
    note = form.get("note", "").strip()
    if verb == "done":
        what, changed = complete(session, action, now, who=who, via=VIA, note=note)
        return f"Marked {what} done." if changed else f"{what.capitalize()} was already done."
    if verb == "progress":
        progress(session, action, now, who=who, via=VIA, note=note, state=form.get("state", "on track"))
        return "Progress recorded. Thank you."
    if verb == "extension":
        wanted = parse_day(form.get("to", ""), "New due date")
        request_extension(session, action, wanted, now, who=who, via=VIA, reason=form.get("reason", "").strip())
        return f"Extension to {wanted.isoformat()} requested; your supervisor decides and you will hear back."
    not_mine(session, action, now, who=who, via=VIA, note=note)
    return "Handed back: the secretariat is told and will find the right owner."


@router.get("/preferences/{token}")
def preferences(request: Request, token: str) -> HTMLResponse:
    """Show how the recipient receives messages, with a form to change it."""
    link = _read(request, token, PREFERENCES)
    with transaction(engine_of(request)) as session:
        owner = owner_by_id_or_email(session, link.recipient)
    return page(
        request, "preferences.html.j2", owner=owner, address=link.recipient, token=token, digests=DIGESTS, saved=False
    )


@router.post("/preferences/{token}")
def change_preferences(
    request: Request, token: str, form: Annotated[dict[str, str], Depends(form_fields)]
) -> HTMLResponse:
    """Change the recipient's delivery; ``List-Unsubscribe=One-Click`` (RFC 8058) switches to the weekly digest."""
    one_click = form.get("List-Unsubscribe") == "One-Click"
    if not one_click and not same_token(form.get("csrf"), request.cookies.get(ANON_CSRF)):
        raise PageError(
            403,
            "Form refused",
            "This form is missing its security token or has expired. Open the link again and retry.",
        )
    choice = "weekly" if one_click else form.get("digest", "")
    if choice not in DIGESTS:
        raise PageError(400, "That could not be done", "Choose one of the offered ways to receive messages.")
    link = _read(request, token, PREFERENCES)
    with transaction(engine_of(request)) as session:
        owner = owner_by_id_or_email(session, link.recipient)
        if owner is not None:
            owner.digest = choice
            session.add(owner)
    return page(
        request, "preferences.html.j2", owner=owner, address=link.recipient, token=token, digests=DIGESTS, saved=True
    )
