"""Action links from e-mails (``/a/{token}/{verb}``) and the recipient's preferences (``/preferences/{token}``).

A GET only shows what the link would do, with a button: mail scanners open links and must not
change anything. The POST acts, once: each verb of a link is single use. A forged, damaged,
expired or used link gets a page that says so.

A link acts only as whom it was sent to, in the role it was sent in: the action's owner (or their
delegate or deputy) uses the owner's verbs (under two-step closure "done" reports the action implemented,
with a note and links, for the verifier to confirm; "delay" says why it is late); a supervisor acknowledges,
grants or refuses a pending extension and reassigns the action to someone below them (never "not mine");
the verifier a report of implementation waits for confirms it or returns it with a comment; a plain address, a
supervisor's link used for an owner's verb, or a link whose recipient no longer owns the action
gets a page saying why. ``view`` acts on nothing: it opens the action's page (a supervisor's: the
escalations page filtered to the action), where planwatch asks for sign-in. A link for an action
that is done or dropped shows its state and offers nothing that acts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel import Session, col, select

from engine.actions.access import viewer_for
from engine.actions.evidence import check_link, evidence_for
from engine.actions.extensions import decide, decider_of, pending_request, request_extension
from engine.actions.followup import (
    closure_of,
    may_verify,
    pending_report,
    report_implemented,
    return_report,
    set_delay_cause,
    verify,
)
from engine.actions.links import (
    ACT,
    ACTIONS,
    OWNER,
    PREFERENCES,
    SUPERVISOR,
    VERBS,
    VERIFIER,
    VIEW,
    LinkError,
    SignedLink,
    read_link,
)
from engine.actions.signin import digest, mark_used, used
from engine.actions.workflow import acknowledge_action, not_mine, progress, reassign
from engine.languages import LANGUAGES, NAMES, day, gettext, ngettext
from engine.plandoc import effective_due
from engine.read.queries import active_action, owner_by_id_or_email
from engine.rules.loader import RuleSet
from engine.rules.policy import DEFAULT_DELAY_CAUSES
from engine.store import transaction
from engine.store.directory import everyone_below
from engine.store.followup_models import RATINGS, ClosureReport
from engine.store.models import Action, Owner
from engine.store.web_models import ExtensionRequest
from engine.web.action_pages import percent_of, rules_of
from engine.web.auth import (
    AnonymousPost,
    PageError,
    engine_of,
    form_fields,
    now_of,
    person_language,
    same_token,
    settings_of,
)
from engine.web.common import parse_day, refusing_bad_input
from engine.web.templating import ANON_CSRF, N_, page, page_language, set_language

router = APIRouter(include_in_schema=False)
VIA = "email link"
CLOSED = frozenset({"done", "dropped"})
DECIDING = frozenset({"grant", "refuse", "reassign"})  # a supervisor's verbs that need authority over the owner
WHO_DOES = {OWNER: N_("its owner"), SUPERVISOR: N_("a supervisor"), VERIFIER: N_("the verifier of its report")}
DIGESTS = {
    "none": N_("each message as it comes"),
    "daily": N_("one daily digest"),
    "weekly": N_("one weekly digest"),
}


def _read(request: Request, token: str, kind: str) -> SignedLink:
    secret = settings_of(request).secret_key
    if not secret:
        raise PageError(
            503,
            N_("Links are not configured"),
            N_("This planwatch has no secret key (PLANWATCH_SECRET_KEY), so it cannot check links."),
        )
    try:
        link = read_link(secret, token, now_of(request), kind)
    except LinkError as exc:
        raise PageError(400, N_("This link does not work"), f"{str(exc).capitalize()}.") from None
    with transaction(engine_of(request)) as session:  # the page speaks the language of whom the link was sent to
        person = owner_by_id_or_email(session, link.recipient)
        if person is not None:
            set_language(request, person_language(session, person))
    return link


def _action(session: Session, link: SignedLink) -> Action:
    action = active_action(session, link.plan_id, link.ref)
    if action is None:
        raise PageError(404, N_("No such action"), N_("The action this link is about is no longer in the plan."))
    return action


def _unused(session: Session, key: str) -> None:
    spent = used(session, key)
    if spent is not None:
        when = spent.used_at  # said in words in the page's language
        raise PageError(
            410,
            N_("This link was already used"),
            N_("This button of the message was already used (%(when)s). Each works once; sign in to do more."),
            when=when,
        )


def _people_of(session: Session, action: Action) -> set[str]:
    """Return the ids of those who act as the owner of ``action``: the owner, their delegate and deputy."""
    owner = session.get(Owner, action.owner_id) if action.owner_id else None
    if owner is None:
        return set()
    return {owner.id} | {p for p in (owner.delegate_id, owner.deputy_id) if p}


def _allowed(session: Session, link: SignedLink, action: Action, verb: str) -> Owner:
    """Return the person the link acts for, or refuse it with a page that says why."""
    person = owner_by_id_or_email(session, link.recipient)
    if person is None:
        raise PageError(
            403,
            N_("This link cannot change the action"),
            N_(
                "The message was sent to %(address)s, who is not in the owners directory, so its links do not "
                "change %(ref)s. Sign in to planwatch to see it."
            ),
            address=link.recipient,
            ref=action.ref,
        )
    role = link.role or (OWNER if person.id in _people_of(session, action) else "")
    if not role:
        raise PageError(
            403,
            N_("This action is not yours"),
            N_(
                "This link was sent to %(name)s, who does not own %(ref)s (it may have another owner now), "
                "so it cannot change it. Sign in to planwatch to see it."
            ),
            name=person.name,
            ref=action.ref,
        )
    if verb not in VERBS[role]:
        doing = WHO_DOES.get(role, N_("someone kept informed"))
        only = (
            N_("only its owner can do that")
            if verb in VERBS[OWNER]
            else N_("that is for its verifier")
            if verb in VERBS[VERIFIER]
            else N_("that is for a supervisor")
        )
        raise PageError(
            403,
            N_("This link does not do that"),
            N_("This message was sent to %(name)s as %(doing)s of %(ref)s; %(only)s."),
            name=person.name,
            doing=doing,
            ref=action.ref,
            only=only,
        )
    if verb in DECIDING and not viewer_for(session, person).can_supervise(action.owner_id):
        raise PageError(
            403,
            N_("Not yours to decide"),
            N_(
                "%(name)s is not above the owner of %(ref)s in the owners directory, so this link cannot "
                "change it. Sign in to planwatch to see it."
            ),
            name=person.name,
            ref=action.ref,
        )
    return person


def _waiting_report(session: Session, action: Action, person: Owner) -> ClosureReport:
    """Return the report of ``action`` waiting for ``person`` to verify it, or a page saying why there is none."""
    report = pending_report(session, action)
    if report is None:
        raise PageError(
            409,
            N_("Nothing waits for verification"),
            N_("No report of implementation of %(ref)s waits for verification; it may have been decided already."),
            ref=action.ref,
        )
    if not may_verify(session, report, person.id):
        raise PageError(
            403,
            N_("Not yours to verify"),
            N_(
                "The report of %(ref)s now waits for someone else, so this link cannot decide it. Sign in to "
                "planwatch to see it."
            ),
            ref=action.ref,
        )
    return report


def _request_of(session: Session, action: Action) -> ExtensionRequest:
    """Return the undecided extension request of ``action``, or a page saying there is none."""
    request = pending_request(session, action)
    if request is None:
        raise PageError(
            409,
            N_("No extension request is waiting"),
            N_("%(ref)s has no undecided extension request; it may have been decided already."),
            ref=action.ref,
        )
    return request


def _below(session: Session, person: Owner) -> list[Owner]:
    """Return the people ``person`` may hand an action to, by name: everyone below them (the secretariat and
    administrators, who find owners for actions handed back: everyone but themselves)."""
    everyone = list(session.exec(select(Owner).order_by(col(Owner.name), col(Owner.id))).all())
    if viewer_for(session, person).sees_all:
        return [o for o in everyone if o.id != person.id]
    below = everyone_below(person.id, {o.id: o.supervisor_id for o in everyone})
    return [o for o in everyone if o.id in below]


def _name(session: Session, who: str | None) -> str:
    person = session.get(Owner, who) if who else None
    return person.name if person is not None else (who or "")


@router.get("/a/{token}/view")
def open_action(request: Request, token: str) -> RedirectResponse:
    """Open the action the link is about; the page asks for sign-in. Nothing changes, so anyone may follow it."""
    link = _read(request, token, ACT)
    with transaction(engine_of(request)) as session:
        action = _action(session, link)
    if link.role == SUPERVISOR:
        return RedirectResponse(f"/escalations?{urlencode({'action': action.ref})}", status_code=303)
    return RedirectResponse(f"/actions/{quote(action.plan_id, safe='')}/{quote(action.ref, safe='')}", status_code=303)


@router.get("/a/{token}/{verb}")
def confirm_action(request: Request, token: str, verb: str) -> HTMLResponse:
    """Show what the link does, with a form and a button; nothing changes yet."""
    if verb not in ACTIONS:
        raise PageError(404, N_("No such link"), N_("That is not something a planwatch link does."))
    link = _read(request, token, ACT)
    extra: dict[str, Any] = {}
    with transaction(engine_of(request)) as session:
        action = _action(session, link)
        person = _allowed(session, link, action, verb)
        _unused(session, digest(ACT, verb, token))
        closed = action.status in CLOSED
        if not closed and verb in ("grant", "refuse"):
            asked = _request_of(session, action)
            extra["asked"] = {
                "by": _name(session, asked.requested_by),
                "wanted": asked.wanted,
                "reason": asked.reason,
                "on": asked.requested_at.date(),
            }
        if not closed and verb == "reassign":
            extra["people"] = [(o.id, o.name) for o in _below(session, person) if o.id != action.owner_id]
        if not closed and verb == "verify":
            extra["report"] = _shown_report(session, _waiting_report(session, action, person))
        extra |= _closure_and_causes(session, action, verb, rules_of(settings_of(request)))
        extra["owner_name"] = _name(session, action.owner_id) or "nobody yet"
    return page(
        request,
        "link.html.j2",
        verb=verb,
        action=action,
        due=effective_due(action.due, action.extended_to),
        token=token,
        closed=closed,
        **extra,
    )


@router.post("/a/{token}/{verb}")
def use_action_link(request: Request, token: str, verb: str, form: AnonymousPost) -> HTMLResponse:
    """Do what the link says, once, in the name of the message's recipient."""
    if verb not in ACTIONS or verb == VIEW:
        raise PageError(404, N_("No such link"), N_("That is not something a planwatch link does."))
    link, now = _read(request, token, ACT), now_of(request)
    with transaction(engine_of(request)) as session, refusing_bad_input():
        action = _action(session, link)
        person = _allowed(session, link, action, verb)
        who = person.id
        _unused(session, digest(ACT, verb, token))
        if action.status in CLOSED:
            raise PageError(
                409,
                N_("This action is closed"),
                N_("%(ref)s is %(state)s; the links in messages about it no longer change it."),
                ref=action.ref,
                state=action.status,
            )
        if not mark_used(session, digest(ACT, verb, token), f"{ACT}:{verb}", who, now):
            raise PageError(
                410, N_("This link was already used"), N_("Each button of a message works once; sign in to do more.")
            )
        rules = rules_of(settings_of(request))
        outcome = _perform(session, verb, action, form, now, person, page_language(request), rules)
        offer_undo = verb == "done" and action.status == "done"
    return page(request, "link_done.html.j2", action=action, outcome=outcome, offer_undo=offer_undo)


def _shown_report(session: Session, report: ClosureReport) -> dict[str, Any]:
    """Return what the verifier's page shows of ``report``: who reported it when, the note, links and file names."""
    assert report.id is not None
    return {
        "by": _name(session, report.reported_by),
        "on": report.reported_at.date(),
        "occurrence": report.occurrence,
        "note": report.note,
        "links": list(report.links or []),
        "files": [e.name for e in evidence_for(session, closure_ids=[report.id]) if e.kind == "file"],
        "rating": report.owner_rating,
    }


def _closure_and_causes(session: Session, action: Action, verb: str, rules: RuleSet | None) -> dict[str, Any]:
    """Return what the owner's "done" and "delay" pages need: two-step closure or not, and the causes of delay."""
    if verb == "done":
        return {"two_step": closure_of(session, action, rules).steps != 1}
    if verb == "delay":
        return {"causes": _causes(rules), "cause": action.delay_cause or "", "cause_note": action.delay_note or ""}
    return {}


def _causes(rules: RuleSet | None) -> tuple[str, ...]:
    return rules.delay_causes if rules is not None else DEFAULT_DELAY_CAUSES


def _perform(
    session: Session,
    verb: str,
    action: Action,
    form: dict[str, str],
    now: datetime,
    person: Owner,
    language: str,
    rules: RuleSet | None = None,
) -> str:
    note, who = form.get("note", "").strip(), person.id

    def _(message: str) -> str:
        return gettext(language, message)

    if verb == "verify":
        return _decide_report(session, action, form, now, person, language)
    if verb == "delay":
        set_delay_cause(session, action, form.get("cause", ""), now, who=who, via=VIA, note=note, causes=_causes(rules))
        return _("The cause of delay of %(ref)s is recorded; the report on implementation gives it.") % {
            "ref": action.ref
        }

    if verb in ("grant", "refuse"):
        asked = _request_of(session, action)
        decide(session, asked, verb == "grant", now, who=who, via=VIA, note=note)
        owner = _name(session, action.owner_id) or _("The owner")
        if verb == "grant":
            return _("Extension granted: %(ref)s is now due on %(day)s. %(owner)s is told.") % {
                "ref": action.ref,
                "day": day(asked.wanted, language),
                "owner": owner,
            }
        return _("Extension of %(ref)s refused: it stays due as before. %(owner)s is told.") % {
            "ref": action.ref,
            "owner": owner,
        }
    if verb == "reassign":
        choices = {o.id: o.name for o in _below(session, person)}
        target = form.get("to", "")
        if target not in choices:
            raise PageError(
                400, N_("That could not be done"), N_("Choose one of the people offered: those who report to you.")
            )
        reassign(session, action, target, now, who=who, via=VIA, note=note)
        return _("%(ref)s now belongs to %(name)s.") % {"ref": action.ref, "name": choices[target]}
    if verb == "done":
        links = [check_link(line) for line in form.get("links", "").splitlines() if line.strip()]
        done = report_implemented(session, action, now, who=who, via=VIA, note=note, links=links, rules=rules)
        what = done.what
        if done.report is None:
            if done.changed:
                return _("Marked %(what)s done.") % {"what": what}
            return _("%(what)s was already done.") % {"what": what[:1].upper() + what[1:]}
        verifier = done.verifier.name if done.verifier is not None else _("the secretariat")
        if not done.changed:
            return _("%(what)s was already reported implemented; it waits for %(name)s to verify it.") % {
                "what": what[:1].upper() + what[1:],
                "name": verifier,
            }
        return _("Reported %(what)s implemented: %(name)s verifies it, and you will hear back.") % {
            "what": what,
            "name": verifier,
        }
    if verb == "progress":
        percent = percent_of(form.get("percent", ""))
        progress(
            session, action, now, who=who, via=VIA, note=note, state=form.get("state", "on track"), percent=percent
        )
        return _("Progress on %(ref)s recorded. Thank you.") % {"ref": action.ref}
    if verb == "extension":
        wanted = parse_day(form.get("to", ""), _("New due date"))
        if effective_due(action.due, action.extended_to) is None:  # a start or ongoing work: nothing to move
            raise PageError(
                400,
                N_("That could not be done"),
                N_("%(ref)s has no due date, so there is nothing to extend. Report its progress instead."),
                ref=action.ref,
            )
        request_extension(session, action, wanted, now, who=who, via=VIA, reason=form.get("reason", "").strip())
        decider = decider_of(session, action)
        when = {"ref": action.ref, "day": day(wanted, language)}
        if decider is None:
            return (
                _("Extension of %(ref)s to %(day)s requested; your supervisor decides and you will hear back.") % when
            )
        return _("Extension of %(ref)s to %(day)s requested; %(name)s decides and you will hear back.") % {
            **when,
            "name": decider.name,
        }
    if verb == "acknowledge":
        steps = acknowledge_action(session, action, now, who=who, via=VIA, note=note)
        if not steps:
            raise PageError(
                409,
                N_("Nothing to acknowledge"),
                N_("No open escalation of %(ref)s was sent to you; it may have been acknowledged or settled."),
                ref=action.ref,
            )
        return ngettext(
            language,
            "Acknowledged %(n)s open step about %(ref)s.",
            "Acknowledged %(n)s open steps about %(ref)s.",
            len(steps),
        ) % {"n": len(steps), "ref": action.ref}
    if verb != "not_mine":
        raise PageError(404, N_("No such link"), N_("That is not something a planwatch link does."))
    not_mine(session, action, now, who=who, via=VIA, note=note)
    return _("Handed back: the secretariat is told and will find the right owner.")


def _decide_report(
    session: Session, action: Action, form: dict[str, str], now: datetime, person: Owner, language: str
) -> str:
    """The verifier confirms the waiting report (with their rating) or returns it (a comment is needed)."""
    report = _waiting_report(session, action, person)
    comment = form.get("comment", "").strip()
    owner = _name(session, action.owner_id) or gettext(language, "The owner")
    if form.get("decision") == "return":
        if not comment:
            raise PageError(
                400,
                N_("A comment is needed"),
                N_("Say what is missing, so the owner knows what to do; then return it."),
            )
        return_report(session, report, now, who=person.id, via=VIA, comment=comment)
        text = gettext(language, "Returned %(ref)s to %(owner)s with your comment: it is open again.")
        return text % {"ref": action.ref, "owner": owner}
    if form.get("decision") != "confirm":
        raise PageError(400, N_("That could not be done"), N_("Choose to confirm the report or to return it."))
    rating = form.get("rating", "implemented")
    if rating not in RATINGS:
        raise PageError(400, N_("That could not be done"), N_("Choose one of the offered ratings."))
    verify(session, report, now, who=person.id, via=VIA, comment=comment, rating=rating)
    text = gettext(language, "Confirmed: %(ref)s counts as implemented. %(owner)s is told.")
    return text % {"ref": action.ref, "owner": owner}


@router.get("/preferences/{token}")
def preferences(request: Request, token: str) -> HTMLResponse:
    """Show how the recipient receives messages, with a form to change it."""
    link = _read(request, token, PREFERENCES)
    with transaction(engine_of(request)) as session:
        owner = owner_by_id_or_email(session, link.recipient)
    return _preferences_page(request, owner, link.recipient, token, saved=False)


@router.post("/preferences/{token}")
def change_preferences(
    request: Request, token: str, form: Annotated[dict[str, str], Depends(form_fields)]
) -> HTMLResponse:
    """Change the recipient's delivery; ``List-Unsubscribe=One-Click`` (RFC 8058) switches to the weekly digest."""
    one_click = form.get("List-Unsubscribe") == "One-Click"
    if not one_click and not same_token(form.get("csrf"), request.cookies.get(ANON_CSRF)):
        raise PageError(
            403,
            N_("Form refused"),
            N_("This form is missing its security token or has expired. Open the link again and retry."),
        )
    choice = "weekly" if one_click else form.get("digest", "")
    if choice not in DIGESTS:
        raise PageError(400, N_("That could not be done"), N_("Choose one of the offered ways to receive messages."))
    language = form.get("language", "").strip().lower()
    if language and language not in LANGUAGES:
        raise PageError(400, N_("That could not be done"), N_("Choose one of the offered languages."))
    link = _read(request, token, PREFERENCES)
    with transaction(engine_of(request)) as session:
        owner = owner_by_id_or_email(session, link.recipient)
        if owner is not None:
            owner.digest = choice
            if language:
                owner.language = language
            session.add(owner)
            set_language(request, person_language(session, owner))
    return _preferences_page(request, owner, link.recipient, token, saved=True)


def _preferences_page(request: Request, owner: Owner | None, address: str, token: str, *, saved: bool) -> HTMLResponse:
    return page(
        request,
        "preferences.html.j2",
        owner=owner,
        address=address,
        token=token,
        digests=DIGESTS,
        languages=NAMES,
        saved=saved,
    )
