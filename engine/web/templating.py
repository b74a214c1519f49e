"""Server-rendered pages: one sandboxed, autoescaping Jinja2 environment over ``templates/web/``, security headers.

Every page gets ``viewer`` (or None), ``csrf`` (the token its forms carry) and ``notice`` (a
fixed message chosen by a code in ``?ok=``, never text from the URL).

The templates are edited by staff, not developers, so they render in Jinja2's immutable sandbox:
a template that reaches for Python's insides (``self.__init__.__globals__``, ``''.__class__``) or
changes the data it is given is refused, and the page says which template and line instead of
running it; the refusal itself is shown with the shipped templates only.
"""

from __future__ import annotations

import logging
import secrets
from datetime import date, datetime
from functools import lru_cache
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import FileSystemLoader, StrictUndefined, TemplateError, TemplateSyntaxError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from engine.actions.access import Viewer
from engine.read.report import TemplateRefused
from engine.settings import Settings
from engine.shipped import templates_folder
from engine.zones import zone

R = TypeVar("R", bound=Response)
SHIPPED = templates_folder()
log = logging.getLogger("planwatch.web")
ANON_CSRF = "pw_csrf"
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
NOTICES = {
    "done": "Marked done.",
    "progress": "Progress recorded.",
    "requested": "Extension requested; your supervisor decides.",
    "acknowledged": "Escalation acknowledged.",
    "granted": "Extension granted.",
    "refused": "Extension refused.",
    "extended": "Extension granted.",
    "resolved": "Reading resolved: the schedule was set.",
    "not_mine": "Handed back to the secretariat.",
    "reopened": "Reopened: the action is open again.",
    "signed_out": "You are signed out.",
    "reported": "Reported implemented: the verifier is asked to confirm it.",
    "verified": "Confirmed: the action is implemented.",
    "returned": "Returned to its owner with your comment.",
    "updated": "Your updates are saved. Thank you.",
    "nothing": "Nothing was saved: every row was empty.",
    "campaign": "Campaign started: each owner gets one message.",
    "closed": "Campaign closed: later updates no longer count as answers to it.",
}
NOTICES_ABOUT = {  # the same, saying which action (``about``: its reference and title)
    "done": "Marked {about} done.",
    "progress": "Progress recorded for {about}.",
    "requested": "Extension requested for {about}; your supervisor decides.",
    "extended": "Extension granted for {about}.",
    "reopened": "Reopened {about}: it is open again.",
}


@lru_cache(maxsize=8)
def environment(folders: tuple[str, ...]) -> ImmutableSandboxedEnvironment:
    """Return the (cached) sandboxed environment over ``folders``; the first folder holding a template wins."""
    env = ImmutableSandboxedEnvironment(
        loader=FileSystemLoader(list(folders)),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["local"] = local_time
    env.filters["day"] = _day
    return env


def folders_for(settings: Settings) -> tuple[str, ...]:
    """Return the template folders of the web pages: the user's own first, then the shipped ones."""
    found = [settings.user_templates_dir, settings.templates_dir, SHIPPED]
    return tuple(dict.fromkeys(str(f.resolve() / "web") for f in found if f is not None))


def local_time(moment: datetime | None, tz: str = "UTC") -> str:
    """Return an aware UTC datetime as ``YYYY-MM-DD HH:MM`` in ``tz`` ("" for None)."""
    return moment.astimezone(zone(tz)).strftime("%Y-%m-%d %H:%M") if moment else ""


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def anonymous_csrf(request: Request) -> str:
    """Return the double-submit CSRF token of a browser that is not signed in (new when it has none)."""
    token = request.cookies.get(ANON_CSRF)
    if not token or len(token) > 64:
        token = getattr(request.state, "new_csrf", None) or secrets.token_urlsafe(24)
        request.state.new_csrf = token
    return token


def page(
    request: Request,
    name: str,
    *,
    viewer: Viewer | None = None,
    csrf: str | None = None,
    status: int = 200,
    about: str = "",
    **context: Any,
) -> HTMLResponse:
    """Render ``templates/web/{name}`` into a response with the security headers.

    ``about`` names the action a notice is about ("Progress recorded for II.3.1 ...").
    """
    settings: Settings = request.app.state.settings
    token = csrf if csrf is not None else anonymous_csrf(request)
    code = request.query_params.get("ok", "")
    notice = NOTICES_ABOUT[code].format(about=about) if about and code in NOTICES_ABOUT else NOTICES.get(code, "")
    values = dict(viewer=viewer, csrf=token, notice=notice, tz=viewer.timezone if viewer else "UTC", **context)
    folders = folders_for(settings)
    try:
        html = environment(folders).get_template(name).render(values)
    except TemplateError as exc:
        return refused_page(request, template_fault(exc, folders, f"web/{name}"), values)
    response = HTMLResponse(html, status_code=status)
    secure_headers(response)
    new = getattr(request.state, "new_csrf", None)
    if new:
        response.set_cookie(ANON_CSRF, new, httponly=True, samesite="lax", secure=is_https(request), path="/")
    return response


def refused_page(request: Request, fault: str, values: dict[str, Any] | None = None) -> HTMLResponse:
    """Answer 500 with a readable page saying which template could not be used (``fault``), drawn with the
    shipped templates only: the user's own may be the ones at fault."""
    log.error("a page template was refused: %s", fault)
    values = dict(values or {}, viewer=None, notice="", tz="UTC")
    values.setdefault("csrf", "")
    message = f"A page template could not be used: {fault} Whoever edits the templates should correct it."
    html = (
        environment((str(SHIPPED.resolve() / "web"),))
        .get_template("message.html.j2")
        .render(values, title="This page cannot be shown", message=message)
    )
    return secure_headers(HTMLResponse(html, status_code=500))


async def report_refused(request: Request, exc: Exception) -> HTMLResponse:
    """Answer a report whose template was refused (``TemplateRefused``) with the readable page."""
    assert isinstance(exc, TemplateRefused)
    where = f"{exc.name}, line {exc.line}" if exc.line else exc.name
    return refused_page(request, f"{where}: {exc.message}.")


def template_fault(exc: BaseException, folders: tuple[str, ...], fallback: str) -> str:
    """Return where and why a template failed, as ``web/NAME, line N: what``, naming no server path."""
    found: tuple[str, int | None] | None = None
    if isinstance(exc, TemplateSyntaxError):
        found = (exc.filename or fallback, exc.lineno)
    else:  # the innermost template frame: Jinja maps those to template lines
        tb = exc.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename.endswith(".j2"):
                found = (tb.tb_frame.f_code.co_filename, tb.tb_lineno)
            tb = tb.tb_next
    file, line = found or (fallback, None)
    name = _template_name(file, folders)
    why = "it uses something templates may not use" if isinstance(exc, SecurityError) else "it failed"
    detail = getattr(exc, "message", None) or str(exc)
    return f"{name}{f', line {line}' if line else ''}: {why} ({detail.rstrip('.')})."


def _template_name(file: str, folders: tuple[str, ...]) -> str:
    for folder in folders:
        if file.startswith(folder.rstrip("/") + "/"):
            return "web/" + file[len(folder.rstrip("/")) + 1 :]
    return file if file.startswith("web/") else f"web/{file.rsplit('/', 1)[-1]}"


def secure_headers(response: R) -> R:
    """Add the headers every page carries: CSP, no sniffing, no referrer (links carry tokens), no caching."""
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    return response


def is_https(request: Request) -> bool:
    """Return True when the browser reaches us over https (directly, or as the base URL says behind a proxy)."""
    settings: Settings = request.app.state.settings
    return request.url.scheme == "https" or settings.base_url.startswith("https://")
