"""Follow-up pages: the owner's report of implementation with evidence, the verifier's queue (``/verify``),
evidence downloads and the bulk update page (``/updates``, and ``/updates/{token}`` from a campaign's message).

Every verb is a POST with the form's CSRF token and a role check; the signed-in forms are the pages' own,
the campaign's link shows its page first and changes nothing until the owner presses "Save all". Evidence is
served only to people who may see its action (or who verify its report), as an attachment with its checked
type, never inline.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session, col, select
from starlette.datastructures import UploadFile

from engine.actions.access import Viewer
from engine.actions.campaigns import (
    Entry,
    save_updates,
    to_update,
)
from engine.actions.evidence import (
    EvidenceStore,
    check_file,
    check_link,
    content_of,
    disposition,
    evidence_for,
    served_type,
)
from engine.actions.followup import may_verify, pending_reports, report_implemented, return_report, verify
from engine.actions.links import UPDATES, LinkError, read_link
from engine.errors import PlanwatchError
from engine.plandoc import effective_due
from engine.read.escalation_review import directory
from engine.read.queries import owner_by_id_or_email
from engine.settings import Settings
from engine.store import transaction
from engine.store.followup_models import RATINGS, Campaign, CampaignRequest, ClosureReport, Evidence
from engine.store.models import Action, Owner
from engine.web.action_pages import percent_of, rules_of, visible_action
from engine.web.auth import (
    PageError,
    Signed,
    SignedIn,
    engine_of,
    now_of,
    person_language,
    same_token,
    settings_of,
)
from engine.web.common import RowId, refusing_bad_input
from engine.web.templating import ANON_CSRF, N_, page, set_language
from engine.zones import zone

router = APIRouter(include_in_schema=False)
VIA, LINK_VIA = "web", "campaign link"
RATING_WORDS = {
    "implemented": "implemented",
    "partially_implemented": "partially implemented",
    "not_implemented": "not implemented",
}
REFUSED = "This form is missing its security token or has expired. Go back, reload the page and try again."
MAX_FILES = 20


@dataclass(frozen=True, slots=True)
class Upload:
    """A posted form: its text fields (the last of a repeated name wins) and its files by field name."""

    fields: dict[str, str]
    files: dict[str, list[tuple[str, bytes]]]


def store_of(settings: Settings) -> EvidenceStore:
    """Return where evidence goes and how large a file may be, as the settings say."""
    return EvidenceStore(settings.evidence_dir, settings.evidence_max_bytes)


async def read_upload(request: Request) -> Upload:
    """Return the fields and files of a posted form (multipart or urlencoded); 413 when it is too large."""
    limit = settings_of(request).evidence_max_bytes * 4 + 1024 * 1024
    if int(request.headers.get("content-length") or 0) > limit:
        raise PageError(
            413, N_("Too large"), N_("The files sent were larger than planwatch accepts; send fewer or smaller.")
        )
    try:
        async with request.form(max_files=MAX_FILES, max_fields=1000, max_part_size=1024 * 1024) as form:
            fields: dict[str, str] = {}
            files: dict[str, list[tuple[str, bytes]]] = {}
            for key, value in form.multi_items():
                if isinstance(value, UploadFile):
                    data = await value.read(limit + 1)
                    if value.filename or data:
                        files.setdefault(key, []).append((value.filename or "", data))
                else:
                    fields[key] = value
    except Exception:  # the multipart parser's refusals: a damaged or oversized body
        raise PageError(
            400, N_("That could not be read"), N_("The form could not be read; reload the page and try again.")
        ) from None
    return Upload(fields, files)


def checked(upload: Upload, who: Signed) -> dict[str, str]:
    """Return the form's fields after checking its CSRF token against the session's."""
    if not same_token(upload.fields.get("csrf"), who.csrf):
        raise PageError(403, N_("Form refused"), REFUSED)
    return upload.fields


# --- the owner's report of implementation -------------------------------------------------------------------


@router.post("/actions/{action_id}/report")
async def report_done(request: Request, action_id: RowId, who: SignedIn) -> RedirectResponse:
    """The owner reports the action implemented, with a note, links, files and their own rating."""
    upload = await read_upload(request)
    form = checked(upload, who)
    settings, now = settings_of(request), now_of(request)
    with transaction(engine_of(request)) as session, refusing_bad_input():
        action = visible_action(session, who.viewer, action_id)
        if action.owner_id != who.viewer.id:
            raise PageError(403, N_("Not yours to report"), N_("Only the action's owner reports it implemented."))
        links = [check_link(line) for line in form.get("links", "").splitlines() if line.strip()]
        files = upload.files.get("evidence", [])
        for name, data in files:
            check_file(name, data, settings.evidence_max_bytes)
        decision = report_implemented(
            session,
            action,
            now,
            who=who.viewer.id,
            via=VIA,
            note=form.get("note", "").strip(),
            links=links,
            owner_rating=form.get("rating", "implemented"),
            rules=rules_of(settings),
            files=files,  # kept before the verifier is told, who is shown their names
            store=store_of(settings),
        )
        code = "reported" if decision.report is not None else "done"
    return RedirectResponse(f"/actions/{action_id}?ok={code}&action={action_id}", status_code=303)


# --- the verifier's queue -----------------------------------------------------------------------------------


@router.get("/verify")
def verify_queue(request: Request, who: SignedIn) -> HTMLResponse:
    """List the reports of implementation waiting for the viewer (every one for the secretariat)."""
    with transaction(engine_of(request)) as session:
        waiting = [(r, a) for r, a in pending_reports(session, None) if may_verify(session, r, who.viewer.id)]
        files = evidence_for(session, closure_ids=[r.id for r, _ in waiting if r.id is not None])
        people = directory(session.connection())
    by_report: dict[int, list[Evidence]] = {}
    for item in files:
        by_report.setdefault(item.closure_id or 0, []).append(item)
    return page(
        request,
        "verify.html.j2",
        viewer=who.viewer,
        csrf=who.csrf,
        waiting=waiting,
        files=by_report,
        name_of=people.name_of,
        ratings=RATING_WORDS,
        due=lambda a: effective_due(a.due, a.extended_to),
    )


def _report(session: Session, report_id: int, viewer: Viewer) -> ClosureReport:
    report = session.get(ClosureReport, report_id)
    if report is None:
        raise PageError(404, N_("No such report"), N_("There is no report of implementation with that number."))
    if not may_verify(session, report, viewer.id):
        raise PageError(
            403,
            N_("Not yours to verify"),
            N_("Only the verifier the rules name, the secretariat or an administrator can."),
        )
    if report.status != "reported":
        raise PageError(409, N_("Already decided"), N_("This report was already %(state)s."), state=report.status)
    return report


@router.post("/verify/{report_id}/confirm")
async def confirm_report(request: Request, report_id: RowId, who: SignedIn) -> RedirectResponse:
    """Confirm a report: the action (or occurrence) is done; the rating is the verifier's own."""
    form = checked(await read_upload(request), who)
    rating = form.get("rating", "implemented")
    if rating not in RATINGS:
        raise PageError(400, N_("That could not be done"), N_("Choose one of the offered ratings."))
    with transaction(engine_of(request)) as session, refusing_bad_input():
        report = _report(session, report_id, who.viewer)
        verify(
            session,
            report,
            now_of(request),
            who=who.viewer.id,
            via=VIA,
            comment=form.get("comment", "").strip(),
            rating=rating,
            rules=rules_of(settings_of(request)),  # the owner is told in their working day
        )
    return RedirectResponse("/verify?ok=verified", status_code=303)


@router.post("/verify/{report_id}/return")
async def return_to_owner(request: Request, report_id: RowId, who: SignedIn) -> RedirectResponse:
    """Return a report with a comment (required): the action is open again and its owner is told why."""
    form = checked(await read_upload(request), who)
    comment = form.get("comment", "").strip()
    if not comment:
        raise PageError(
            400, N_("A comment is needed"), N_("Say what is missing, so the owner knows what to do; then return it.")
        )
    with transaction(engine_of(request)) as session, refusing_bad_input():
        report = _report(session, report_id, who.viewer)
        rules = rules_of(settings_of(request))  # the owner is told in their working day
        return_report(session, report, now_of(request), who=who.viewer.id, via=VIA, comment=comment, rules=rules)
    return RedirectResponse("/verify?ok=returned", status_code=303)


# --- evidence -----------------------------------------------------------------------------------------------


@router.get("/evidence/{evidence_id}")
def download(request: Request, evidence_id: RowId, who: SignedIn) -> Response:
    """Send one evidence file as an attachment, to someone who may see its action or verifies its report."""
    with transaction(engine_of(request)) as session:
        item = session.get(Evidence, evidence_id)
        action = session.get(Action, item.action_id) if item is not None else None
        if item is None or action is None or item.kind != "file" or not _may_open(session, who.viewer, item, action):
            raise PageError(404, N_("No such file"), N_("There is no evidence file with that number that you can see."))
        try:
            data = content_of(item, store_of(settings_of(request)))
        except PlanwatchError as exc:
            raise PageError(410, N_("The file is not available"), f"{exc}.") from None
    headers = {
        "Content-Disposition": disposition(item.name),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, no-store",
        "Referrer-Policy": "no-referrer",
    }
    return Response(data, media_type=served_type(item), headers=headers)


def _may_open(session: Session, viewer: Viewer, item: Evidence, action: Action) -> bool:
    if viewer.can_see(action.owner_id):
        return True
    report = session.get(ClosureReport, item.closure_id) if item.closure_id else None
    return report is not None and may_verify(session, report, viewer.id)


# --- the bulk update page -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose actions the update page lists and how far ahead; ``token`` is set when opened from a message."""

    owner: Owner
    within_days: int
    include_overdue: bool
    campaign_id: int | None
    token: str = ""


def _within(request: Request) -> int:
    text = request.query_params.get("within", "45")
    return int(text) if text.isdigit() and 1 <= int(text) <= 366 else 45


@router.get("/updates")
def my_updates(request: Request, who: SignedIn) -> HTMLResponse:
    """The signed-in owner's open actions due within N days (``?within=``, 45) or overdue, to update at once."""
    with transaction(engine_of(request)) as session:
        owner = session.get(Owner, who.viewer.id)
        assert owner is not None
        scope = Scope(owner, _within(request), True, _open_campaign(session, owner.id))
        return _updates_page(request, session, scope, viewer=who.viewer, csrf=who.csrf)


@router.post("/updates")
async def save_my_updates(request: Request, who: SignedIn) -> RedirectResponse:
    """Save every row filled in: one dated update each (with its file); nothing when one row is refused."""
    upload = await read_upload(request)
    checked(upload, who)
    with transaction(engine_of(request)) as session:
        campaign = _open_campaign(session, who.viewer.id)
        saved = _save(request, session, who.viewer.id, upload, VIA, campaign)
    return RedirectResponse(f"/updates?{urlencode({'ok': 'updated' if saved else 'nothing'})}", status_code=303)


def _open_campaign(session: Session, owner_id: str) -> int | None:
    """Return the newest open campaign that asked ``owner_id``, or None."""
    query = (
        select(Campaign.id)
        .join(CampaignRequest, col(CampaignRequest.campaign_id) == Campaign.id)
        .where(CampaignRequest.owner_id == owner_id, col(Campaign.closed_at).is_(None))
        .order_by(col(Campaign.created_at).desc(), col(Campaign.id).desc())
    )
    return session.exec(query).first()


def _updates_page(
    request: Request, session: Session, scope: Scope, *, viewer: Viewer | None = None, csrf: str | None = None
) -> HTMLResponse:
    actions = to_update(
        session,
        now_of(request),
        owner_id=scope.owner.id,
        within_days=scope.within_days,
        include_overdue=scope.include_overdue,
    )
    today = now_of(request).astimezone(zone(scope.owner.timezone)).date()
    rows = [(a, effective_due(a.due, a.extended_to) or today) for a in actions]
    action = f"/updates/{scope.token}" if scope.token else "/updates"
    return page(
        request,
        "updates.html.j2",
        viewer=viewer,
        csrf=csrf,
        owner=scope.owner,
        rows=rows,
        today=today,
        within=scope.within_days,
        form_action=action,
        signed_in=viewer is not None,
        limit_mb=max(1, settings_of(request).evidence_max_bytes // (1024 * 1024)),
    )


def _save(request: Request, session: Session, owner_id: str, upload: Upload, via: str, campaign: int | None) -> int:
    entries = _entries(upload)
    with refusing_bad_input():
        made = save_updates(
            session,
            owner_id,
            entries,
            now_of(request),
            via=via,
            store=store_of(settings_of(request)),
            campaign_id=campaign,
        )
    return len(made)


def _entries(upload: Upload) -> list[Entry]:
    """Return one entry per row of the posted page (``text-ID``, ``percent-ID``, ``state-ID``, ``file-ID``)."""
    ids = sorted({int(k.split("-", 1)[1]) for k in upload.fields if k.startswith("text-") and k[5:].isdigit()})
    entries = []
    for ident in ids:
        percent = percent_of(upload.fields.get(f"percent-{ident}", ""))
        files = upload.files.get(f"file-{ident}", [])
        name, data = files[0] if files else ("", b"")
        entries.append(
            Entry(
                ident,
                upload.fields.get(f"text-{ident}", ""),
                percent,
                upload.fields.get(f"state-{ident}", "on track"),
                name,
                data,
            )
        )
    return entries


def _link_scope(request: Request, session: Session, token: str) -> Scope:
    """Return whose page a campaign's link opens, or refuse the link with a page that says why."""
    secret = settings_of(request).secret_key
    try:
        link = read_link(secret, token, now_of(request), UPDATES)
    except LinkError as exc:
        raise PageError(400, N_("This link does not work"), f"{str(exc).capitalize()}.") from None
    owner = owner_by_id_or_email(session, link.recipient)
    if owner is None:
        raise PageError(
            403, N_("This link cannot update actions"), f"{link.recipient} is not in the owners directory any more."
        )
    set_language(request, person_language(session, owner))  # the page speaks the language of the link's person
    campaign = session.get(Campaign, int(link.ref)) if link.ref.isdigit() else None
    within, overdue = (campaign.within_days, campaign.include_overdue) if campaign else (45, True)
    open_id = campaign.id if campaign is not None and campaign.closed_at is None else None
    return Scope(owner, within, overdue, open_id, token)


@router.get("/updates/{token}")
def updates_from_message(request: Request, token: str) -> HTMLResponse:
    """Show the owner's update page from a campaign's message; nothing changes until "Save all"."""
    with transaction(engine_of(request)) as session:
        return _updates_page(request, session, _link_scope(request, session, token))


@router.post("/updates/{token}")
async def save_from_message(request: Request, token: str) -> RedirectResponse:
    """Save the rows filled in on the page opened from a campaign's message, in the owner's name."""
    upload = await read_upload(request)
    if not same_token(upload.fields.get("csrf"), request.cookies.get(ANON_CSRF)):
        raise PageError(
            403, N_("Form refused"), N_("This form is missing its security token or has expired. Open the link again.")
        )
    with transaction(engine_of(request)) as session:
        scope = _link_scope(request, session, token)
        saved = _save(request, session, scope.owner.id, upload, LINK_VIA, scope.campaign_id)
    code = "updated" if saved else "nothing"
    return RedirectResponse(f"/updates/{quote(token, safe='')}?ok={code}", status_code=303)
