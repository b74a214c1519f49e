"""Server-rendered pages: one sandboxed, autoescaping Jinja2 environment over ``templates/web/``, security headers.

Every page gets ``viewer`` (or None), ``csrf`` (the token its forms carry) and ``notice`` (a
fixed message chosen by a code in ``?ok=``, never text from the URL).

Pages are written in the reader's language: the signed-in person's (their own, else their plan's), the
language of the person a link was sent to, or before sign-in the browser's ``Accept-Language`` among
English, French and Spanish. There is one environment per language, so each template is compiled once
per language it is read in.

The templates are edited by staff, not developers, so they render in Jinja2's immutable sandbox:
a template that reaches for Python's insides (``self.__init__.__globals__``, ``''.__class__``) or
changes the data it is given is refused, and the page says which template and line instead of
running it; the refusal itself is shown with the shipped templates only.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Mapping
from datetime import date, datetime
from functools import lru_cache
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import FileSystemLoader, StrictUndefined, TemplateError, TemplateSyntaxError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from engine.actions.access import Viewer
from engine.importing import OWNER_CHANGED
from engine.languages import (
    DEFAULT,
    LANGUAGES,
    day,
    elide,
    gettext,
    install,
    moment,
    ngettext,
    quoted,
    recurrence,
)
from engine.mail.context import size_words
from engine.read.report import TemplateRefused
from engine.read.report_model import EXTENSION_ASKED, state_words
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


def N_(message: str) -> str:
    """Mark ``message`` for translation where it is written; it is translated where it is shown."""
    return message


NOTICES = {
    "done": N_("Marked done."),
    "progress": N_("Progress recorded."),
    "requested": N_("Extension requested; your supervisor decides."),
    "acknowledged": N_("Escalation acknowledged."),
    "granted": N_("Extension granted."),
    "refused": N_("Extension refused."),
    "extended": N_("Extension granted."),
    "resolved": N_("Reading resolved: the schedule was set."),
    "not_mine": N_("Handed back to the secretariat."),
    "reopened": N_("Reopened: the action is open again."),
    "signed_out": N_("You are signed out."),
    "reported": N_("Reported implemented: the verifier is asked to confirm it."),
    "verified": N_("Confirmed: the action is implemented."),
    "returned": N_("Returned to its owner with your comment."),
    "updated": N_("Your updates are saved. Thank you."),
    "nothing": N_("Nothing was saved: every row was empty."),
    "campaign": N_("Campaign started: each owner gets one message."),
    "closed": N_("Campaign closed: later updates no longer count as answers to it."),
    "delay": N_("Cause of delay recorded: the report on implementation gives it."),
    "acceptance": N_("Acceptance recorded: the action's reminders follow it."),
}
NOTICES_ABOUT = {  # the same, saying which action (``about``: its reference and title)
    "done": N_("Marked {about} done."),
    "progress": N_("Progress recorded for {about}."),
    "requested": N_("Extension requested for {about}; your supervisor decides."),
    "extended": N_("Extension granted for {about}."),
    "reopened": N_("Reopened {about}: it is open again."),
}


@lru_cache(maxsize=24)
def environment(folders: tuple[str, ...], language: str = DEFAULT) -> ImmutableSandboxedEnvironment:
    """Return the (cached) sandboxed environment over ``folders`` in ``language``; the first folder holding a
    template wins."""
    env = ImmutableSandboxedEnvironment(
        loader=FileSystemLoader(list(folders)),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    install(env, language)
    env.filters["local"] = lambda value, tz="UTC": local_time(value, tz, language)
    env.filters["iso"] = _iso
    env.filters["size"] = lambda size: size_words(int(size), language)
    env.globals["words"] = lambda word: data_words(word, language)
    env.globals["alert"] = lambda text: alert_words(str(text), language)
    env.globals["alert_kind"] = alert_kind
    env.globals["resolution"] = lambda text: resolution_words(str(text or ""), language)
    env.globals["read_as"] = lambda action: reading_words(action, language)
    env.globals["why_read"] = lambda action: reading_sentence(action, language)
    return env


ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
STEP = re.compile(r"escalate:(?P<level>\d+)(?:#(?P<again>\d+))?|remind:\w+:(?P<n>\d+)(?P<unit>bd|d|h)")


def step_words(step: re.Match[str], language: str) -> str:
    """Return a rules' step in words: "escalate:2#1" -> "escalation step 2 (repeated)", "remind:due:7d" ->
    "reminder 7 days before"."""
    if step["level"] is not None:
        if step["again"]:
            return gettext(language, "escalation step %(n)s (repeated)") % {"n": step["level"]}
        return gettext(language, "escalation step %(n)s") % {"n": step["level"]}
    n = int(step["n"])
    if n == 0:
        return gettext(language, "reminder on the day")
    if step["unit"] == "bd":
        return ngettext(language, "reminder %(n)s business day before", "reminder %(n)s business days before", n) % {
            "n": n
        }
    if step["unit"] == "h":
        return ngettext(language, "reminder %(n)s hour before", "reminder %(n)s hours before", n) % {"n": n}
    return ngettext(language, "reminder %(n)s day before", "reminder %(n)s days before", n) % {"n": n}


def reading_words(action: Any, language: str) -> str:
    """Return how an action's time frame was read (kind, dates, rule, event), in ``language``; ``action`` is a
    stored action or the fields an import preview read (a mapping with the same names)."""

    def field(name: str) -> Any:
        return action.get(name) if isinstance(action, Mapping) else getattr(action, name, None)

    bits = [gettext(language, str(field("kind")))]
    if field("start"):
        bits.append(gettext(language, "from %(day)s") % {"day": day(_as_day(field("start")), language)})
    if field("due"):
        bits.append(gettext(language, "due %(when)s") % {"when": day(_as_day(field("due")), language)})
    if field("rrule"):
        bits.append(recurrence(str(field("rrule")), language))  # "every six months", not the RRULE
    if field("event"):
        bits.append(gettext(language, "on: %(event)s") % {"event": field("event")})
    if field("after_ref"):
        bits.append(gettext(language, "after %(ref)s") % {"ref": field("after_ref")})
    return (" " if language == DEFAULT else ", ").join(bits)  # "deadline due 31 May 2000", "plazo, vence el ..."


def reading_sentence(action: Any, language: str) -> str:
    """Return the sentence saying how an action's time frame was read, in ``language``, from its stored fields
    (kind, start, due, rrule, event, after_ref, needs_review): "Lu comme une échéance : 30 juin 2026."; ``action``
    is a stored action or an import preview's fields. English readers get the reader's own sentence (``reason``,
    which names the words it read) when there is one; the other languages never see it, as it is English."""

    def field(name: str) -> Any:
        return action.get(name) if isinstance(action, Mapping) else getattr(action, name, None)

    said = str(field("reason") or "").strip()
    if language == DEFAULT and said:
        return said
    kind = str(field("kind") or "unscheduled")
    start, due = _as_day(field("start")), _as_day(field("due"))
    rule = recurrence(str(field("rrule")), language) if field("rrule") else ""
    values = {
        "start": day(start, language),
        "due": day(due, language),
        "rule": rule,
        "event": quoted(field("event"), language) if field("event") else "",
    }
    if kind == "deadline" and due:
        text = gettext(language, "Read as a deadline: %(due)s.")
    elif kind == "window" and start and due:
        text = gettext(language, "Read as a window from %(start)s to %(due)s.")
    elif kind == "window" and due:
        text = gettext(language, "Read as a window ending on %(due)s.")
    elif kind == "start" and start:
        text = gettext(language, "Read as a start: %(start)s.")
    elif kind == "recurring" and rule and start:
        text = gettext(language, "Read as recurring, %(rule)s, first on %(start)s.")
    elif kind == "recurring" and rule:
        text = gettext(language, "Read as recurring, %(rule)s.")
    elif kind == "recurring":
        text = gettext(language, "Read as recurring, with no calendar rule.")
    elif kind == "continuous" and due:
        text = gettext(language, "Read as continuous work until %(due)s.")
    elif kind == "continuous" and start:
        text = gettext(language, "Read as continuous work with no end date, from %(start)s.")
    elif kind == "continuous":
        text = gettext(language, "Read as continuous work with no end date.")
    elif kind == "event" and values["event"]:
        text = gettext(language, "Read as tied to an event, %(event)s, not to a date.")
    elif kind == "unscheduled" or kind not in DATA_WORDS:
        text = gettext(language, "Read as unscheduled: no date could be taken from it.")
    else:  # a kind whose dates are missing
        text = gettext(language, "Read as %(kind)s, with no date.") % {"kind": gettext(language, kind)}
    bits = [text % values]
    if rule and kind == "continuous":
        bits.append(gettext(language, "Its rhythm: %(rule)s.") % values)
    if field("after_ref"):
        bits.append(gettext(language, "It follows %(ref)s.") % {"ref": field("after_ref")})
    owner = _OWNER_CHANGED.match(said)
    if owner:  # a review asked for by a re-import, not by the reading: say why first
        had = owner["had"] if owner["had"] != _HANDED_BACK else gettext(language, _HANDED_BACK)
        bits.insert(
            0,
            gettext(
                language,
                "The plan file changed the owner you had chosen: it now names %(now)s; you had given it to %(had)s."
                " %(now)s owns it now; reassign it if %(had)s should keep it.",
            )
            % {"now": owner["now"], "had": had},
        )
    elif field("needs_review"):
        bits.append(gettext(language, "Needs review: someone should confirm this reading."))
    return elide(" ".join(bits), language)


_HANDED_BACK = N_("nobody (it was handed back)")
_OWNER_CHANGED = re.compile(
    re.escape(OWNER_CHANGED) + r": the plan now names (?P<now>.+?); you had given it to (?P<had>.+?)\. "
)


def _as_day(value: Any) -> date | None:
    """Return a day given as a date or as ISO text (a preview's fields may hold either)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)) if value else None


_OVERDUE = re.compile(r"overdue by (\d+) days?")


def alert_words(text: str, language: str) -> str:
    """Return what is open about an action ("overdue by 3 days", "extension requested to 2000-09-30",
    "check-in unanswered") in ``language``; anything else as it is."""
    found = _OVERDUE.fullmatch(text)
    if found:
        n = int(found.group(1))
        return ngettext(language, "overdue by %(n)s day", "overdue by %(n)s days", n) % {"n": n}
    return state_words(text, language)


_EXTENDED = re.compile(r"extended to (\d{4}-\d\d-\d\d)")


def resolution_words(text: str, language: str) -> str:
    """Return why an escalation was closed (as the log keeps it, in English) in ``language``: "action done",
    "extended to 2000-09-30" ("prorogée au 30 septembre 2000"); anything else through the data's words."""
    found = _EXTENDED.fullmatch(text)
    if found:
        return gettext(language, "extended to %(day)s") % {"day": day(date.fromisoformat(found.group(1)), language)}
    said = {
        "report verified": gettext(language, "report verified"),
        "report returned": gettext(language, "report returned"),
        "report settled": gettext(language, "report settled"),
        "occurrence done": gettext(language, "occurrence done"),
        "action done": gettext(language, "action done"),
        "action dropped": gettext(language, "action dropped"),
        "action on_hold": gettext(language, "action put on hold"),
        "action reported": gettext(language, "action reported implemented"),
        "action open": gettext(language, "action reopened"),
        "action in_progress": gettext(language, "action in progress"),
    }
    return said.get(text) or gettext(language, text.replace("_", " "))


def alert_kind(text: str) -> str:
    """Return what an alert (as ``open_alerts`` gives it, before translation) is about: "overdue", "extension",
    "check-in" or "start"; the pages choose its badge by this, never by the words shown."""
    said = str(text)
    if _OVERDUE.fullmatch(said):
        return "overdue"
    if said.startswith(EXTENSION_ASKED) or said == "extension requested":
        return "extension"
    if said.startswith("check-in"):
        return "check-in"
    return "start" if said == "not started" else "other"


def _iso(value: date | None) -> str:
    """Return a day as a form field holds it (2000-04-30), "" for None."""
    return value.isoformat() if value else ""


# Words of the data shown through ``words()`` on the pages (states, statuses, kinds, roles, channels).
DATA_WORDS = (
    N_("open"),
    N_("in progress"),
    N_("on hold"),
    N_("needs attention"),
    N_("team"),
    N_("plan"),
    N_("part"),
    N_("done"),
    N_("dropped"),
    N_("reported"),
    N_("blocked"),
    N_("late"),
    N_("overdue"),
    N_("due soon"),
    N_("not started"),
    N_("on track"),
    N_("at risk"),
    N_("acknowledged"),
    N_("resolved"),
    N_("all"),
    N_("implemented"),
    N_("partially implemented"),
    N_("not implemented"),
    N_("verified"),
    N_("returned"),
    N_("pending"),
    N_("granted"),
    N_("refused"),
    N_("withdrawn"),
    N_("sent"),
    N_("planned"),
    N_("failed"),
    N_("skipped"),
    N_("cancelled"),
    N_("deadline"),
    N_("window"),
    N_("recurring"),
    N_("continuous"),
    N_("event"),
    N_("unscheduled"),
    N_("start"),
    N_("secretariat"),
    N_("admin"),
    N_("web"),
    N_("email link"),
    N_("import"),
    N_("status"),
    N_("due"),
    N_("owner"),
    N_("reminder"),
    N_("escalation"),
    N_("check-in"),
    N_("closed"),
    N_("answered"),
    N_("waiting"),
    N_("accepted"),
    N_("the action"),
    N_("removed from the plan file"),
    N_("back in the plan file"),
    N_("completed"),
    N_("extension refused"),
    N_("schedule"),
    N_("timeframe"),
    N_("title"),
    N_("removed"),
    N_("restored"),
    N_("catch-up"),
    N_("cli"),
    N_("verification request"),
    N_("verification overdue"),
    N_("extension request"),
    N_("closure"),
    N_("campaign"),
    N_("digested"),
    N_("stale"),
    N_("checkin"),
    N_("closure verified"),
    N_("closure returned"),
    N_("extension granted"),
    N_("extension requested"),
    N_("not-mine"),
    N_("action done"),
    N_("action dropped"),
    N_("action reported"),
    N_("report verified"),
    N_("report returned"),
    N_("report settled"),
    N_("occurrence done"),
    N_("progress reported"),
)


def data_words(word: object, language: str) -> str:
    """Return a word of the data (a state, a step, a resolution, a message's note) in ``language``; the notes
    that carry a day say it in words: "extended to 2026-09-30" -> "prorogée au 30 septembre 2026"."""
    if not word:
        return ""
    text = str(word)
    if text.startswith("extended to ") and ISO_DAY.fullmatch(text[12:]):
        return gettext(language, "extended to %(day)s") % {"day": day(date.fromisoformat(text[12:]), language)}
    step = STEP.fullmatch(text)
    if step:  # a ladder's step: "escalate:2#1", "remind:due:7d"
        return step_words(step, language)
    if text.startswith("sent in digest|"):  # "sent in digest|RECIPIENT|DAY"
        sent = text.rsplit("|", 1)[-1]
        if ISO_DAY.fullmatch(sent):
            return gettext(language, "sent in the digest of %(day)s") % {"day": day(date.fromisoformat(sent), language)}
    return gettext(language, text.replace("_", " "))


# Why a message was not sent (its reason), shown through ``words()`` in the action page's messages.
REASON_WORDS = (
    N_("the owner reported the action implemented before it was sent"),
    N_("the action was put on hold before it was sent"),
    N_("the action is not accepted"),
    N_("the action is under consideration"),
    N_("the action was removed from the plan file before it was sent"),
    N_("the recipient's daily cap was reached; deferred to their next day"),
    N_("the date had passed: the overdue notice sent with it says so"),
    N_("superseded by a later message about the same occurrence (catch-up)"),
)


def folders_for(settings: Settings) -> tuple[str, ...]:
    """Return the template folders of the web pages: the user's own first, then the shipped ones."""
    found = [settings.user_templates_dir, settings.templates_dir, SHIPPED]
    return tuple(dict.fromkeys(str(f.resolve() / "web") for f in found if f is not None))


def local_time(value: datetime | None, tz: str = "UTC", language: str = DEFAULT) -> str:
    """Return an aware UTC datetime as a day and time in words in ``tz``, in ``language`` ("" for None):
    "1 June 2000, 19:00", "1er juin 2000 à 19:00"."""
    return moment(value.astimezone(zone(tz)), language) if value else ""


def page_language(request: Request) -> str:
    """Return the language a page is written in: the one chosen for this request (the signed-in person's,
    or a link's person's), else the browser's first choice among ours, else English."""
    chosen = getattr(request.state, "language", None)
    if chosen in LANGUAGES:
        return str(chosen)
    return browser_language(request.headers.get("accept-language", ""))


def browser_language(header: str) -> str:
    """Return the first language of an ``Accept-Language`` header that planwatch writes in, else English."""
    ranked: list[tuple[float, int, str]] = []
    for place, part in enumerate(header.split(",")[:20]):
        name, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        code = name.strip().lower().split("-")[0]
        if code in LANGUAGES and weight > 0:
            ranked.append((-weight, place, code))
    return min(ranked)[2] if ranked else DEFAULT


def set_language(request: Request, language: str) -> None:
    """Write this request's pages in ``language`` (a signed-in person's, or a link's person's)."""
    request.state.language = language


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
    language = page_language(request)
    code = request.query_params.get("ok", "")
    if about and code in NOTICES_ABOUT:
        notice = gettext(language, NOTICES_ABOUT[code]).format(about=about)
    else:
        notice = gettext(language, NOTICES[code]) if code in NOTICES else ""
    values = dict(viewer=viewer, csrf=token, notice=notice, tz=viewer.timezone if viewer else "UTC", **context)
    folders = folders_for(settings)
    try:
        html = environment(folders, language).get_template(name).render(values)
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
    language = page_language(request)
    message = gettext(
        language, "A page template could not be used: %(fault)s Whoever edits the templates should correct it."
    ) % {"fault": fault}
    html = (
        environment((str(SHIPPED.resolve() / "web"),), language)
        .get_template("message.html.j2")
        .render(values, title=gettext(language, "This page cannot be shown"), message=message)
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
