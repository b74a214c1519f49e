"""The pages' part of the app: routers, the answers to missing sign-in and page errors, the style sheet."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from engine.languages import day, gettext, moment
from engine.web import (
    action_pages,
    campaign_pages,
    escalation_pages,
    followup_pages,
    link_pages,
    plan_pages,
    report_pages,
    signin_pages,
)
from engine.web.auth import PageError, Signed, SignInRequired, signed_in
from engine.web.templating import N_, SHIPPED, page, page_language, set_language

STATIC = {"planwatch.css": "text/css; charset=utf-8", "planwatch.js": "text/javascript; charset=utf-8"}


def install(app: FastAPI) -> None:
    """Add the pages, sign-in and action links to ``app``."""
    for module in (
        signin_pages,
        action_pages,
        escalation_pages,
        plan_pages,
        report_pages,
        link_pages,
        followup_pages,
        campaign_pages,
    ):
        app.include_router(module.router)
    app.add_exception_handler(SignInRequired, _sign_in_required)
    app.add_exception_handler(PageError, _page_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _not_found)
    app.add_api_route("/static/{name}", _static, methods=["GET"], include_in_schema=False)


async def _sign_in_required(request: Request, _exc: Exception) -> HTMLResponse:
    return page(request, "signin.html.j2", status=401, sent=False)


def _signed(request: Request) -> dict[str, Any]:
    """Return the page's viewer and CSRF token when someone is signed in (their navigation, not "Sign in"); the
    language already chosen for the request (a link's person's) stays."""
    chosen = getattr(request.state, "language", None)
    try:
        who: Signed = signed_in(request)
    except Exception:  # nobody signed in (SignInRequired), or the sessions cannot be read: the page is drawn anyway
        return {}
    if chosen:
        set_language(request, chosen)
    return {"viewer": who.viewer, "csrf": who.csrf}


async def _page_error(request: Request, exc: Exception) -> HTMLResponse:
    assert isinstance(exc, PageError)
    signed = _signed(request)
    language = page_language(request)  # the title and message are translated when they were marked with N_
    title, message = gettext(language, exc.title), gettext(language, exc.template)
    if exc.values:  # words among the values (marked with N_ where they are given) are translated too
        message %= {k: _value(v, language) for k, v in exc.values.items()}
    return page(request, "message.html.j2", status=exc.status, title=title, message=message, **signed)


def _value(value: object, language: str) -> object:
    """Return a page error's value as the page says it: words translated, days and instants in words (UTC)."""
    if isinstance(value, str):
        return gettext(language, value)
    if isinstance(value, datetime):
        return f"{moment(value.astimezone(UTC), language)} UTC"
    if isinstance(value, date):
        return day(value, language)
    return value


async def _http_error(request: Request, exc: Exception) -> HTMLResponse:
    assert isinstance(exc, StarletteHTTPException)
    title = {404: N_("No such page"), 405: N_("Not allowed")}.get(exc.status_code, N_("That did not work"))
    signed = _signed(request)
    language = page_language(request)
    answer = page(
        request,
        "message.html.j2",
        status=exc.status_code,
        title=gettext(language, title),
        message=f"{exc.detail}.",
        **signed,
    )
    answer.headers.update(exc.headers or {})
    return answer


async def _not_found(request: Request, _exc: Exception) -> HTMLResponse:
    signed = _signed(request)
    language = page_language(request)
    return page(
        request,
        "message.html.j2",
        status=404,
        title=gettext(language, "No such page"),
        message=gettext(language, "There is no page at this address."),
        **signed,
    )


def _static(name: str) -> Response:
    if name not in STATIC:
        return Response("Not Found", status_code=404, media_type="text/plain")
    body = (SHIPPED / "web" / "static" / name).read_bytes()
    return Response(
        body,
        media_type=STATIC[name],
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )
