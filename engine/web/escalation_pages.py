"""*Escalations* (``/escalations``): one row per action of the viewer's scope with its steps, filtered (also to one
action: ``?action=REF``, as the escalation e-mails link), sorted by lateness, paged; acknowledging the selected
actions or one step with a note, granting or refusing extensions, and the CSV export of every entry.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse

from engine.actions.extensions import decide, pending_requests
from engine.actions.workflow import acknowledge_action, acknowledge_step, may_acknowledge
from engine.read.escalation_review import (
    SORTS,
    STATES,
    ReviewFilter,
    directory,
    owner_choices,
    parts,
    review_csv,
    review_page,
)
from engine.store import transaction
from engine.store.models import Action, Escalation
from engine.store.web_models import ExtensionRequest
from engine.web.auth import PageError, Posted, SignedIn, engine_of, now_of
from engine.web.common import RowId, refusing_bad_input
from engine.web.templating import N_, page, page_language, secure_headers
from engine.zones import zone

router = APIRouter(include_in_schema=False)
FILTER_KEYS = ("action", "level", "state", "part", "owner", "since", "until", "sort", "page")
PICK = "pick-"  # the checkbox of an action on the page: pick-ACTION_ID


def read_filter(params: dict[str, str], tz: str) -> ReviewFilter:
    """Return the filter a query string asks for; values that make no sense are ignored."""
    level = params.get("level", "")
    state = params.get("state", "open")
    sort = params.get("sort", "late")
    page_no = params.get("page", "1")
    return ReviewFilter(
        level=int(level) if level.isdecimal() and len(level) < 3 else None,
        state=state if state in STATES else "open",
        part=params.get("part") or None,
        owner=params.get("owner") or None,
        since=_day(params.get("since", "")),
        until=_day(params.get("until", "")),
        sort=sort if sort in SORTS else "late",
        page=int(page_no) if page_no.isdecimal() and len(page_no) < 7 else 1,
        tz=tz,
        action=params.get("action", "").strip()[:200] or None,
    )


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def query_of(params: dict[str, str], **changes: str) -> str:
    """Return the filter's query string with ``changes`` (only known keys, re-encoded)."""
    kept = {k: v for k, v in params.items() if k in FILTER_KEYS and v}
    kept.update({k: v for k, v in changes.items() if v})
    return urlencode(kept)


@router.get("/escalations")
def escalations(request: Request, who: SignedIn) -> HTMLResponse:
    """Show one page of actions with escalations for the viewer's scope, most overdue first."""
    params = dict(request.query_params)
    flt = read_filter(params, who.viewer.timezone)
    scope = who.viewer.scope()
    today = now_of(request).astimezone(zone(who.viewer.timezone)).date()
    with transaction(engine_of(request)) as session:
        conn = session.connection()
        people = directory(conn)
        language = page_language(request)
        found = review_page(conn, scope, flt, viewer=who.viewer.id, today=today, people=people, language=language)
        requests = pending_requests(session, scope) if who.viewer.is_supervisor else []
        if flt.action:  # one action: its request only
            plan, _, ref = flt.action.rpartition("/")
            requests = [(r, a) for r, a in requests if a.ref == ref and plan in ("", a.plan_id)]
        owners = owner_choices(conn, scope)
        choices = parts(conn, language=language)
    return page(
        request,
        "escalations.html.j2",
        viewer=who.viewer,
        csrf=who.csrf,
        found=found,
        flt=flt,
        params=params,
        requests=requests,
        owners=owners,
        parts=choices,
        states=STATES,
        query_of=query_of,
        here=query_of(params),
        every_action=query_of({k: v for k, v in params.items() if k not in ("action", "page")}),
        name_of=people.name_of,
        pick=PICK,
    )


@router.get("/escalations.csv")
def escalations_csv(request: Request, who: SignedIn) -> StreamingResponse:
    """Export the whole filtered log (all pages) as CSV, its headings in the reader's language."""
    flt = read_filter(dict(request.query_params), who.viewer.timezone)
    response = StreamingResponse(
        review_csv(engine_of(request), who.viewer.scope(), flt, page_language(request)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="escalations.csv"'},
    )
    secure_headers(response)
    return response


def _back(form: dict[str, str], code: str) -> RedirectResponse:
    kept = dict(parse_qsl(form.get("back_query", ""), max_num_fields=20))
    query = query_of(kept, ok=code) if kept else f"ok={code}"
    return RedirectResponse(f"/escalations?{query}", status_code=303)


@router.post("/escalations/acknowledge")
def acknowledge_selected(request: Request, posted: Posted) -> RedirectResponse:
    """Acknowledge the actions ticked on the page: each one's open steps sent to the viewer, with one note."""
    who, form = posted
    picked = {int(k.removeprefix(PICK)) for k in form if k.startswith(PICK) and k[len(PICK) :].isdigit()}
    if not picked:
        raise PageError(
            400, N_("Nothing selected"), N_("Tick the actions to acknowledge, then press the button again.")
        )
    steps = 0
    with transaction(engine_of(request)) as session:
        for ident in sorted(picked):
            action = session.get(Action, ident) if ident < 2**31 else None
            if action is None or not who.viewer.can_see(action.owner_id):
                raise PageError(404, N_("No such action"), N_("One of the actions ticked is not one you can see."))
            steps += len(
                acknowledge_action(
                    session, action, now_of(request), who=who.viewer.id, note=form.get("note", "").strip(), via="web"
                )
            )
    if not steps:
        raise PageError(
            403,
            N_("Nothing of yours to acknowledge"),
            N_(
                "None of the open steps of the actions ticked was sent to you; those steps are acknowledged by the "
                "people they were sent to, or those above them."
            ),
        )
    return _back(form, "acknowledged")


@router.post("/escalations/{entry_id}/acknowledge")
def acknowledge_entry(request: Request, entry_id: RowId, posted: Posted) -> RedirectResponse:
    """Acknowledge one step (with its repeats) with a note; it stops repeating."""
    who, form = posted
    with transaction(engine_of(request)) as session:
        entry = session.get(Escalation, entry_id) if 0 < entry_id < 2**31 else None
        action = session.get(Action, entry.action_id) if entry else None
        if entry is None or action is None or not who.viewer.can_see(action.owner_id):
            raise PageError(
                404, N_("No such escalation"), N_("There is no escalation with that number that you can see.")
            )
        if not may_acknowledge(session, entry, who.viewer.id):
            raise PageError(
                403,
                N_("Not yours to acknowledge"),
                N_(
                    "This step was sent to someone else; only the people it was sent to, or those above them, "
                    "can acknowledge it."
                ),
            )
        acknowledge_step(
            session, entry_id, now_of(request), who=who.viewer.id, note=form.get("note", "").strip(), via="web"
        )
    return _back(form, "acknowledged")


@router.post("/extensions/{request_id}/{decision}")
def decide_request(request: Request, request_id: RowId, decision: str, posted: Posted) -> RedirectResponse:
    """A supervisor grants or refuses an owner's extension request."""
    who, form = posted
    if decision not in ("grant", "refuse"):
        raise PageError(404, N_("No such page"), N_("Extensions are granted or refused, nothing else."))
    with transaction(engine_of(request)) as session, refusing_bad_input():
        row = session.get(ExtensionRequest, request_id)
        action = session.get(Action, row.action_id) if row else None
        if row is None or action is None or not who.viewer.can_supervise(action.owner_id):
            raise PageError(
                404, N_("No such request"), N_("There is no extension request with that number that you can decide.")
            )
        decide(
            session,
            row,
            decision == "grant",
            now_of(request),
            who=who.viewer.id,
            via="web",
            note=form.get("note", "").strip(),
        )
    return _back(form, "granted" if decision == "grant" else "refused")
