"""Action links from e-mails (``/a/{token}/{verb}``) and the recipient's preferences (``/preferences/{token}``).

A GET only shows what the link would do, with a button: mail scanners open links and must not
change anything. The POST acts, once: each verb of a link is single use. A forged, damaged,
expired or used link gets a page that says so.

A link acts only as whom it was sent to, in the role it was sent in: the action's owner (or their
delegate or deputy) uses the owner's verbs, a supervisor acknowledges; a plain address, a
supervisor's link used for an owner's verb, or a link whose recipient no longer owns the action
gets a page saying why. A link for an action that is done or dropped shows its state and offers
nothing that acts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from engine.actions.extensions import request_extension
from engine.actions.links import ACT, ACTIONS, OWNER, PREFERENCES, SUPERVISOR, VERBS, LinkError, SignedLink, read_link
from engine.actions.signin import digest, mark_used, used
from engine.actions.workflow import acknowledge_action, complete, not_mine, progress
from engine.plandoc import effective_due
from engine.read.queries import active_action, owner_by_id_or_email
from engine.store import transaction
from engine.store.models import Action, Owner
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
CLOSED = frozenset({"done", "dropped"})
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


def _people_of(session: Session, action: Action) -> set[str]:
    """Return the ids of those who act as the owner of ``action``: the owner, their delegate and deputy."""
    owner = session.get(Owner, action.owner_id) if action.owner_id else None
    if owner is None:
        return set()
    return {owner.id} | {p for p in (owner.delegate_id, owner.deputy_id) if p}


def _allowed(session: Session, link: SignedLink, action: Action, verb: str) -> str:
    """Return the id of the person the link acts for, or refuse it with a page that says why."""
    person = owner_by_id_or_email(session, link.recipient)
    if person is None:
        raise PageError(
            403,
            "This link cannot change the action",
            f"The message was sent to {link.recipient}, who is not in the owners directory, so its links do not "
            f"change {action.ref}. Sign in to planwatch to see it.",
        )
    role = link.role or (OWNER if person.id in _people_of(session, action) else "")
    if not role:
        raise PageError(
            403,
            "This action is not yours",
            f"This link was sent to {person.name}, who does not own {action.ref} (it may have another owner now), "
            "so it cannot change it. Sign in to planwatch to see it.",
        )
    if verb not in VERBS[role]:
        doing = "its owner" if role == OWNER else "a supervisor"
        raise PageError(
            403,
            "This link does not do that",
            f"This message was sent to {person.name} as {doing} of {action.ref}; "
            f"{'only its owner can do that' if role == SUPERVISOR else 'that is for a supervisor'}.",
        )
    return person.id


@router.get("/a/{token}/{verb}")
def confirm_action(request: Request, token: str, verb: str) -> HTMLResponse:
    """Show what the link does, with a form and a button; nothing changes yet."""
    if verb not in ACTIONS:
        raise PageError(404, "No such link", "That is not something a planwatch link does.")
    link = _read(request, token, ACT)
    with transaction(engine_of(request)) as session:
        action = _action(session, link)
        _allowed(session, link, action, verb)
        _unused(session, digest(ACT, verb, token))
        closed = action.status in CLOSED
    return page(
        request,
        "link.html.j2",
        verb=verb,
        action=action,
        due=effective_due(action.due, action.extended_to),
        token=token,
        closed=closed,
    )


@router.post("/a/{token}/{verb}")
def use_action_link(request: Request, token: str, verb: str, form: AnonymousPost) -> HTMLResponse:
    """Do what the link says, once, in the name of the message's recipient."""
    if verb not in ACTIONS:
        raise PageError(404, "No such link", "That is not something a planwatch link does.")
    link, now = _read(request, token, ACT), now_of(request)
    with transaction(engine_of(request)) as session, refusing_bad_input():
        action = _action(session, link)
        who = _allowed(session, link, action, verb)
        _unused(session, digest(ACT, verb, token))
        if action.status in CLOSED:
            raise PageError(
                409,
                f"This action is {action.status}",
                f"{action.ref} is {action.status}; the links in messages about it no longer change it.",
            )
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
    if verb == "acknowledge":
        steps = acknowledge_action(session, action, now, who=who, via=VIA, note=note)
        if not steps:
            raise PageError(
                409,
                "Nothing to acknowledge",
                f"No open escalation of {action.ref} was sent to you; it may have been acknowledged or settled.",
            )
        return f"Acknowledged {len(steps)} open step{'' if len(steps) == 1 else 's'} about {action.ref}."
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
