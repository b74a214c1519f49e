"""Server-rendered pages: one autoescaping Jinja2 environment over ``templates/web/``, security headers.

Every page gets ``viewer`` (or None), ``csrf`` (the token its forms carry) and ``notice`` (a
fixed message chosen by a code in ``?ok=``, never text from the URL).
"""

from __future__ import annotations

import secrets
from datetime import date, datetime
from functools import lru_cache
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from engine.actions.access import Viewer
from engine.settings import Settings
from engine.shipped import templates_folder
from engine.zones import zone

R = TypeVar("R", bound=Response)
SHIPPED = templates_folder()
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
    "signed_out": "You are signed out.",
}
NOTICES_ABOUT = {  # the same, saying which action (``about``: its reference and title)
    "done": "Marked {about} done.",
    "progress": "Progress recorded for {about}.",
    "requested": "Extension requested for {about}; your supervisor decides.",
    "extended": "Extension granted for {about}.",
}


@lru_cache(maxsize=8)
def environment(folders: tuple[str, ...]) -> Environment:
    """Return the (cached) environment over ``folders``; the first folder holding a template wins."""
    env = Environment(
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
    html = (
        environment(folders_for(settings))
        .get_template(name)
        .render(viewer=viewer, csrf=token, notice=notice, tz=viewer.timezone if viewer else "UTC", **context)
    )
    response = HTMLResponse(html, status_code=status)
    secure_headers(response)
    new = getattr(request.state, "new_csrf", None)
    if new:
        response.set_cookie(ANON_CSRF, new, httponly=True, samesite="lax", secure=is_https(request), path="/")
    return response


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
