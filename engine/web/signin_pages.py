"""Signing in by a personal link (by e-mail, or printed by ``planwatch users login-link``) and out.

Opening a link (GET) only shows a button: mail scanners open links, and a single-use link
must survive them. Pressing it (POST) uses the link up and starts a session whose cookie is
HttpOnly, SameSite=Lax, and Secure behind https.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from engine.actions.links import LinkError
from engine.actions.signin import (
    SigninClaim,
    allow_signin_mail,
    close_session,
    mark_used,
    open_session,
    read_signin,
    require_secret,
    signin_message,
    signin_url,
    used,
)
from engine.errors import InputError
from engine.read.queries import owner_by_id_or_email
from engine.settings import Settings
from engine.store import transaction
from engine.store.models import Owner
from engine.web.auth import (
    SESSION_COOKIE,
    AnonymousPost,
    PageError,
    Posted,
    engine_of,
    now_of,
    settings_of,
)
from engine.web.templating import is_https, page, secure_headers

router = APIRouter(include_in_schema=False)
log = logging.getLogger("planwatch.web")


@router.get("/")
def home() -> RedirectResponse:
    """Send visitors to their actions (which asks them to sign in first if needed)."""
    return RedirectResponse("/my", status_code=303)


@router.get("/signin")
def signin_form(request: Request) -> HTMLResponse:
    """Show the form that asks for a sign-in link by e-mail."""
    return page(request, "signin.html.j2", sent=False)


@router.post("/signin")
def signin_request(request: Request, form: AnonymousPost, tasks: BackgroundTasks) -> HTMLResponse:
    """E-mail a sign-in link to a known owner; the answer is the same whether or not the address is known."""
    settings = settings_of(request)
    _secret(settings)
    wanted = form.get("who", "").strip()
    now = now_of(request)
    with transaction(engine_of(request)) as session:
        owner = owner_by_id_or_email(session, wanted) if wanted else None
        if owner is not None and allow_signin_mail(session, owner.id, now, settings.signin_mails_per_hour):
            tasks.add_task(_send, settings, signin_message(owner, signin_url(settings, owner.id, now), settings, now))
        elif owner is not None:
            log.warning(
                "sign-in link to %s not sent: %d went out in the last hour (PLANWATCH_SIGNIN_MAILS_PER_HOUR)",
                owner.id,
                settings.signin_mails_per_hour,
            )
    return page(request, "signin.html.j2", sent=True, per_hour=settings.signin_mails_per_hour)


def _send(settings: Settings, message: object) -> None:
    from email.message import Message

    from engine.channels import DeliveryError, batch, channel_for

    assert isinstance(message, Message)
    try:
        with batch(channel_for(settings)) as channel:
            channel.deliver(message)
    except (DeliveryError, OSError) as exc:
        log.warning("sign-in link to %s not sent: %s", message["To"], exc)


def _secret(settings: Settings) -> str:
    try:
        return require_secret(settings)
    except InputError:
        raise PageError(
            503,
            "Sign-in is not configured",
            "This planwatch has no secret key (PLANWATCH_SECRET_KEY), so it cannot sign anyone in. "
            "Tell its administrator.",
        ) from None


def _claim(request: Request, token: str) -> tuple[SigninClaim, Owner]:
    settings = settings_of(request)
    try:
        claim = read_signin(_secret(settings), token, now_of(request))
    except LinkError as exc:
        raise PageError(400, "This sign-in link does not work", f"{str(exc).capitalize()}.") from None
    with transaction(engine_of(request)) as session:
        owner = session.get(Owner, claim.owner_id)
        spent = used(session, claim.digest)
    if spent is not None:
        raise PageError(
            410,
            "This sign-in link was already used",
            "Each sign-in link works once. Ask for a new one on the sign-in page.",
        )
    if owner is None:
        raise PageError(
            400, "This sign-in link does not work", "The person it was made for is no longer in the directory."
        )
    return claim, owner


@router.get("/signin/{token}")
def signin_confirm(request: Request, token: str) -> HTMLResponse:
    """Show who the link signs in, with a button; nothing is used up yet."""
    _, owner = _claim(request, token)
    return page(request, "signin_confirm.html.j2", owner=owner, token=token)


@router.post("/signin/{token}")
def signin_use(request: Request, token: str, form: AnonymousPost) -> Response:
    """Use the link up, start a session, set its cookie, and go to the person's actions."""
    claim, owner = _claim(request, token)
    settings, now = settings_of(request), now_of(request)
    with transaction(engine_of(request)) as session:
        if not mark_used(session, claim.digest, "signin", owner.id, now):
            raise PageError(
                410, "This sign-in link was already used", "Each sign-in link works once. Ask for a new one."
            )
        close_session(session, request.cookies.get(SESSION_COOKIE, ""))  # whoever was signed in here before
        cookie, _ = open_session(session, owner.id, now, timedelta(seconds=settings.session_seconds))
    response = RedirectResponse("/my", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=int(settings.session_seconds),
        httponly=True,
        samesite="lax",
        secure=is_https(request),
        path="/",
    )
    return secure_headers(response)


@router.post("/signout")
def signout(request: Request, posted: Posted) -> Response:
    """End the session and forget its cookie."""
    with transaction(engine_of(request)) as session:
        close_session(session, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/signin?ok=signed_out", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return secure_headers(response)
