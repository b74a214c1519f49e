"""The implementation report's pages (``/implementation``): the figures as of one day compared with an earlier
one (two dates chosen in a form), the printable report, and its table as CSV and its Word paper to download;
the same report as ``planwatch report implementation``. The secretariat sees the whole plan, a supervisor the
actions of the people below them; an owner supervising nobody is refused.
"""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from engine.read.implementation import ImplementationReport, build_implementation
from engine.read.implementation_docx import render_docx
from engine.read.implementation_text import percent, render_body, render_csv, render_html
from engine.read.plan_scope import plan_day
from engine.read.queries import plans
from engine.settings import template_folders
from engine.store import transaction
from engine.web.auth import PageError, SignedIn, engine_of, now_of, settings_of
from engine.web.templating import N_, page, page_language, secure_headers

router = APIRouter(include_in_schema=False)


def _day(request: Request, name: str, default: date | None) -> date | None:
    text = request.query_params.get(name, "").strip()
    if not text:
        return default
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise PageError(400, N_("Not a date"), f"{name}: expected a date like 2001-12-31, got {text!r}.") from None


def _report(request: Request, who: SignedIn) -> ImplementationReport:
    """Return the report the query asks for, cut to the viewer's scope; refuse owners who supervise nobody."""
    if not who.viewer.is_supervisor:
        raise PageError(
            403,
            N_("For the secretariat and supervisors"),
            N_(
                "The implementation report covers other people's actions: the secretariat and supervisors read it."
                " Your own actions are on My actions."
            ),
        )
    with transaction(engine_of(request)) as session:
        found = plans(session)
        wanted = request.query_params.get("plan")
        plan = next((p for p in found if p.id == wanted), found[0] if found else None)
        if plan is None:
            raise PageError(404, N_("No plan yet"), N_("No plan has been imported yet; the secretariat imports it."))
        as_of = _day(request, "as_of", plan_day(plan, now_of(request)))
        assert as_of is not None
        since = _day(request, "since", None)
        if since is not None and since >= as_of:
            raise PageError(
                400,
                N_("Dates the wrong way round"),
                N_("since: %(since)s is not before %(as_of)s; choose an earlier day."),
                since=since.isoformat(),
                as_of=as_of.isoformat(),
            )
        return build_implementation(session, plan.id, as_of, since, who.viewer.scope())


def _query(report: ImplementationReport) -> str:
    values = {"plan": report.plan.id, "as_of": report.as_of.isoformat()}
    if report.changes is not None:
        values["since"] = report.changes.since.isoformat()
    return urlencode(values)


def _folders(request: Request) -> tuple[str, ...]:
    return tuple(str(f) for f in template_folders(settings_of(request)))


@router.get("/implementation")
def implementation_page(request: Request, who: SignedIn) -> HTMLResponse:
    """Show the implementation report as of ``?as_of=``, compared with ``?since=`` (the two dates of the form)."""
    report = _report(request, who)
    suggested = report.changes.since if report.changes else report.as_of - timedelta(days=182)
    return page(
        request,
        "implementation.html.j2",
        viewer=who.viewer,
        csrf=who.csrf,
        report=report,
        body=render_body(report, _folders(request), page_language(request)),
        query=_query(report),
        suggested=suggested,
        percent=lambda tally: percent(tally, page_language(request)),
    )


@router.get("/implementation/print")
def implementation_print(request: Request, who: SignedIn) -> HTMLResponse:
    """Show the printable implementation report (the same as ``planwatch report implementation --format html``)."""
    report = _report(request, who)
    return secure_headers(HTMLResponse(render_html(report, _folders(request), page_language(request))))


@router.get("/implementation.csv")
def implementation_csv(request: Request, who: SignedIn) -> Response:
    """Download the report's table, one row per action, as CSV."""
    report = _report(request, who)
    name = f"implementation-{report.as_of.isoformat()}.csv"
    return _download(
        "".join(render_csv(report, page_language(request))).encode("utf-8"), "text/csv; charset=utf-8", name
    )


@router.get("/implementation.docx")
def implementation_docx(request: Request, who: SignedIn) -> Response:
    """Download the report as a Word document laid out as a Governing Body paper."""
    report = _report(request, who)
    kind = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    return _download(
        render_docx(report, page_language(request)), kind, f"implementation-{report.as_of.isoformat()}.docx"
    )


def _download(body: bytes, kind: str, name: str) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return secure_headers(Response(body, media_type=kind, headers=headers))
