"""Who is asking: the session cookie, the signed-in ``Viewer``, form bodies and their CSRF check.

A page asked for without a live session raises ``SignInRequired`` (answered 401 with the
sign-in form, never with data). A POST whose ``csrf`` field does not match the session's
token (or, before sign-in, the double-submit cookie) is refused with 403.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlmodel import Session

from engine.actions.access import Viewer, viewer_for
from engine.actions.signin import find_session, reader_language
from engine.clock import Clock
from engine.settings import Settings
from engine.store import transaction
from engine.store.models import Owner
from engine.web.templating import ANON_CSRF, N_, set_language

SESSION_COOKIE = "pw_session"
MAX_FORM = 64 * 1024


class PageError(Exception):
    """A page that cannot be shown: answered with ``status`` and a plain explanation.

    ``title`` and ``message`` are translated where the page is drawn (mark them with ``N_``); ``values`` fill the
    message's ``%(name)s`` placeholders after it is translated.
    """

    def __init__(self, status: int, title: str, message: str, **values: object) -> None:
        said = message % values if values else message
        super().__init__(said)
        self.status, self.title, self.message = status, title, said
        self.template, self.values = message, values  # the message before its values fill it


class SignInRequired(Exception):
    """No live session: the answer is 401 and the sign-in form."""


@dataclass(frozen=True, slots=True)
class Signed:
    """A signed-in request: the viewer and the CSRF token of their session."""

    viewer: Viewer
    csrf: str


def settings_of(request: Request) -> Settings:
    """Return the app's settings."""
    return request.app.state.settings  # type: ignore[no-any-return]


def engine_of(request: Request) -> Engine:
    """Return the app's database engine."""
    return request.app.state.engine  # type: ignore[no-any-return]


def now_of(request: Request) -> datetime:
    """Return the current time (aware UTC) from the app's clock."""
    clock: Clock = request.app.state.clock
    return clock.now()


def signed_in(request: Request) -> Signed:
    """Return the signed-in viewer, or raise ``SignInRequired``."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > 128:
        raise SignInRequired()
    with transaction(engine_of(request)) as session:
        row = find_session(session, token, now_of(request))
        owner = session.get(Owner, row.owner_id) if row is not None else None
        if row is None or owner is None:
            raise SignInRequired()
        set_language(request, person_language(session, owner))
        return Signed(viewer_for(session, owner), row.csrf)


def person_language(session: Session, owner: Owner) -> str:
    """Return the language ``owner`` reads: their own, else the language of the plan of their actions (of the
    first plan when they own none), else English."""
    return reader_language(session, owner)


async def form_fields(request: Request) -> dict[str, str]:
    """Return the fields of an urlencoded form body (the last value of a repeated name wins)."""
    body = await request.body()
    if len(body) > MAX_FORM:
        raise PageError(413, N_("Form too large"), N_("That form was larger than planwatch accepts."))
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=100))


def same_token(given: str | None, expected: str | None) -> bool:
    """Return True when both tokens are present and equal (compared in constant time)."""
    return bool(given) and bool(expected) and hmac.compare_digest(str(given).encode(), str(expected).encode())


def checked_post(
    form: Annotated[dict[str, str], Depends(form_fields)], who: Annotated[Signed, Depends(signed_in)]
) -> tuple[Signed, dict[str, str]]:
    """Return the signed-in viewer and the form, after checking the form's CSRF token."""
    if not same_token(form.get("csrf"), who.csrf):
        raise PageError(
            403,
            N_("Form refused"),
            N_("This form is missing its security token or has expired. Go back, reload the page and try again."),
        )
    return who, form


def anonymous_post(request: Request, form: Annotated[dict[str, str], Depends(form_fields)]) -> dict[str, str]:
    """Return a form posted before sign-in, after checking it against the double-submit cookie."""
    if not same_token(form.get("csrf"), request.cookies.get(ANON_CSRF)):
        raise PageError(
            403,
            N_("Form refused"),
            N_("This form is missing its security token or has expired. Open the link again and retry."),
        )
    return form


SignedIn = Annotated[Signed, Depends(signed_in)]
Posted = Annotated[tuple[Signed, dict[str, str]], Depends(checked_post)]
AnonymousPost = Annotated[dict[str, str], Depends(anonymous_post)]
