"""The template context of an outbox row, and the envelope of its message.

What a template may use (README of templates/email lists it): ``action``, ``plan``,
``section``, ``part`` (the plan Part it belongs to), ``owner``, ``recipient``, ``notice``,
``headline``, ``due``, ``date_long``, ``days_left``, ``days_overdue``, ``occurrence``,
``level``, ``summary``, ``history`` (the most recent messages sent about the action, oldest
first) and ``history_more`` (how many earlier ones are left out), ``updates`` (the latest dated
progress updates, oldest first), ``also_to`` (the names of the others this step went to),
``pending_extension`` (the undecided request, or None), ``extended`` (the original and extended
due dates, or None), ``links``, ``thread``, ``sent_on``; a digest has ``period``, ``items`` and
``sections`` (and an update campaign's message ``campaign``); the administrator's report has
``failures`` and ``pauses``; the extension messages have ``extension``.
People are named, never shown by id. Dates in the context are the recipient's local days.

``language`` is the one the message is written in: the thread's (``thread_language``: a message in
a thread keeps the language it started in), else the recipient's, else the plan's, else English.
Words made here (headlines, roles, dates, the calendar entry) are in that language.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from engine.actions.links import OWNER, SUPERVISOR, VERIFIER, VIEWER, action_links, preferences_url, updates_url
from engine.calendars.uids import event_uid, series_uid_day
from engine.languages import gettext, language_of, ngettext, number, quoted
from engine.mail.messages import CalendarEvent, Envelope, headline, long_date, thread_key
from engine.mail.render import MailIdentity, one_line
from engine.zones import aware_utc, zone

Row = Mapping[Any, Any]  # an outbox, action, plan... row: a SQLAlchemy RowMapping or a plain dict
OWNER_ROLES = frozenset({"owner", "delegate"})
EVENT_TYPES = frozenset({"reminder", "overdue", "extension"})
HEADLINE_OF_TEMPLATE: dict[str, str] = {
    "extension_granted": "extension",
    "extension_requested": "extension_requested",
    "extension_refused": "extension_refused",
    "verification_request": "verification",
    "verification_overdue": "verification",
    "closure_returned": "closure_returned",
    "closure_verified": "closure_verified",
    "stale": "stale",
}
SUMMARY_LENGTH = 110


def rating_words(rating: str, language: str) -> str:
    """Return an owner's rating of their own implementation in words ("" for none)."""
    if rating == "implemented":
        return gettext(language, "implemented")
    if rating == "partially_implemented":
        return gettext(language, "partially implemented")
    if rating == "not_implemented":
        return gettext(language, "not implemented")
    return ""


def state_words(state: str, language: str) -> str:
    """Return a progress update's state in words."""
    if state == "on track":
        return gettext(language, "on track")
    if state == "at risk":
        return gettext(language, "at risk")
    return state


def delay_cause_words(cause: str, language: str) -> str:
    """Return a cause of delay in words: the default causes are translated, a plan's own are shown as written."""
    words = {
        "resources": gettext(language, "resources"),
        "depends on another action": gettext(language, "depends on another action"),
        "awaiting a decision": gettext(language, "awaiting a decision"),
        "external factors": gettext(language, "external factors"),
        "other": gettext(language, "other"),
    }
    return words.get(cause, cause)


def _role_words(role: str, language: str) -> str | None:
    words = {
        "owner": gettext(language, "its owner"),
        "delegate": gettext(language, "its owner's delegate"),
        "deputy": gettext(language, "its owner's deputy"),
        "supervisor": gettext(language, "its owner's supervisor"),
        "secretariat": gettext(language, "the plan's secretariat"),
        "verifier": gettext(language, "the person who verifies its implementation"),
    }
    return words.get(role)


@dataclass(frozen=True, slots=True)
class Facts:
    """What a message about one action is built from (read once per dispatch pass).

    ``series_day`` is the day a recurring action's published series UID was made from, as the
    registry of published events keeps it (None: not published yet, or not recurring). ``history``
    holds the most recent messages sent about the action (oldest first) of ``history_total`` in all;
    ``pending`` is its undecided extension request (``wanted``, ``reason``, ``requested_by``,
    ``requested_at``), or None; ``updates`` the owner's latest dated updates (oldest first: ``date_long``,
    ``who`` by name, ``percent`` or None, ``state``, ``text``).
    """

    action: Row
    plan: Row
    section: Row
    part: Row
    owner: Row | None
    history: Sequence[Row] = ()
    series_day: date | None = None
    history_total: int = 0
    pending: Row | None = None
    updates: Sequence[Row] = ()


def recipient_zone(row: Row, person: Row | None) -> str:
    """Return the IANA zone the recipient reads their mail in (UTC when unknown)."""
    payload = row["payload"] or {}
    return str(payload.get("role_tz") or (person or {}).get("timezone") or "UTC")


@lru_cache(maxsize=1024)  # a dispatch pass asks it once per message, for a handful of zones at one instant
def local_day(now: datetime, tz: str) -> date:
    """Return the recipient's local day at ``now`` (aware)."""
    return now.astimezone(zone(tz)).date()


def role_of(row: Row) -> str:
    """Return the recipient's role for this row: owner, delegate, supervisor..., secretariat."""
    payload = row["payload"] or {}
    default = "secretariat" if row["type"] == "escalation" and row["step"] == "not-mine" else "owner"
    return str(payload.get("role") or default)


def link_role(role: str, recipient_id: str | None) -> str:
    """Return the role a message's action links act in: the owner's (owner, delegate, deputy), a supervisor's
    (anyone else in the owners directory), or a viewer's (a plain address: only a link to open the action)."""
    if not recipient_id:
        return VIEWER
    if role == VERIFIER:  # the verifier a report of implementation waits for: confirm or return it
        return VERIFIER
    return OWNER if role in OWNER_ROLES else SUPERVISOR


@lru_cache(maxsize=256)
def role_words(role: str, language: str = "en") -> str:
    """Return a recipient's role in words: "its owner's supervisor", "2 levels above its owner"..."""
    found = _role_words(role, language)
    if found:
        return found
    parts = role.split(".")
    if len(parts) > 1 and all(p == "supervisor" for p in parts):
        return gettext(language, "%(num)d levels above its owner") % {"num": len(parts)}
    return gettext(language, "someone the plan's rules name")


def thread_of(row: Row) -> str:
    """Return "action" for messages to the owner (or delegate), "escalation" for everyone else's thread."""
    return "action" if role_of(row) in OWNER_ROLES else "escalation"


def subject_kind(row: Row) -> str:
    """Return what the subject says the message is: "verify" (a verifier asked to confirm a report),
    "verify_again" (the verifier's reminders), "extension" (a request for an extension to decide), else its thread's
    ("action" or "escalation")."""
    template, thread = row["template"], thread_of(row)
    if template == "verification_request":
        return "verify"
    if template == "verification_overdue" and role_of(row) == "verifier":
        return "verify_again"
    if template == "extension_requested":
        return "extension"
    return thread


def summary(action: Row) -> str:
    """Return a one-line summary of the action: its title, cut at a word near 110 characters."""
    text = one_line(str(action.get("title") or ""))
    if len(text) <= SUMMARY_LENGTH:
        return text
    return text[:SUMMARY_LENGTH].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def message_language(row: Row, recipient: Row, plan: Row | None = None) -> str:
    """Return the language of a row's message: the one its payload fixed (its thread's), else the recipient's,
    else the plan's, else English."""
    payload = row["payload"] or {}
    return language_of(payload.get("language"), recipient.get("language"), (plan or {}).get("language"))


def base_context(
    row: Row, recipient: Row, identity: MailIdentity, now: datetime, language: str = "en"
) -> dict[str, Any]:
    """Return what every template can use: recipient, links (at least ``preferences``), the local day, the
    language."""
    tz = recipient_zone(row, recipient)
    today = local_day(now, tz).isoformat()
    who = row["recipient_id"] or row["recipient"]
    role = role_of(row)
    return {
        "recipient": {
            "name": recipient.get("name") or "",
            "email": row["recipient"],
            "role": role,
            "role_words": role_words(role, language),
            "deputy": bool((row["payload"] or {}).get("in_place_of")),  # the owner is away: this person stands in
            "timezone": tz,
        },
        "links": {"preferences": preferences_url(identity.base_url, identity.secret_key, who, now)},
        "sent_on": long_date(today, language),
        "today": today,
        "local_tz": tz,
        "language": language,
    }


def name_of(people: Mapping[str, Row], who: object) -> str:
    """Return the name of the person with id ``who`` (their id or address itself when not in ``people``)."""
    text = str(who or "")
    return str((people.get(text) or {}).get("name") or text)


def action_context(
    row: Row,
    facts: Facts,
    recipient: Row,
    identity: MailIdentity,
    now: datetime,
    people: Mapping[str, Row] | None = None,
    also_to: Sequence[str] = (),
    language: str | None = None,
) -> dict[str, Any]:
    """Return the context of a message about one action (reminder, overdue, escalation, check-in, ...).

    ``people`` (the owners directory by id) turns ids in the payload into names; ``also_to`` names the
    others the same step went to; ``language`` is the thread's (default: ``message_language``).
    """
    lang = language or message_language(row, recipient, facts.plan)
    base = base_context(row, recipient, identity, now, lang)
    payload = dict(row["payload"] or {})
    people = people or {}
    if payload.get("from_owner"):
        payload["from_owner"] = name_of(people, payload["from_owner"])
    kind = row["type"]
    today = local_day(now, base["local_tz"])
    due = _day(payload.get("date"))
    who = row["recipient_id"] or row["recipient"]
    role = base["recipient"]["role"]
    base["links"] |= action_links(
        identity.base_url,
        identity.secret_key,
        facts.plan["id"],
        facts.action["ref"],
        who,
        now,
        link_role(role, row["recipient_id"]),
    )
    action = facts.action
    if not str(action.get("title") or "").isprintable():  # a title with line breaks: one line in every part
        action = dict(action) | {"title": one_line(str(action["title"]))}
    if lang != "en" and action.get("delay_cause"):
        action = dict(action) | {"delay_cause": delay_cause_words(str(action["delay_cause"]), lang)}
    shown = len(facts.history)
    return base | {  # the facts' dicts are shared by every message of the pass; the sandbox keeps them unchanged
        "action": action,
        "plan": {**facts.plan, "called": plan_called(facts.plan, lang)},
        "section": facts.section,
        "part": facts.part,
        "owner": facts.owner,
        "notice": payload
        | {
            "type": kind,
            "level": row["level"],
            "step": row["step"],
            "occurrence": row["occurrence"],
            "what": payload.get("what", "due"),
            "role": role,
            "missed": payload.get("missed", "due date"),
        },
        "headline": headline(HEADLINE_OF_TEMPLATE.get(row["template"]) or kind, payload, today, lang),
        "date_long": long_date(payload.get("date"), lang),
        "due": payload.get("date"),
        "days_left": (due - today).days if due else payload.get("days_left"),
        "days_overdue": max(0, (today - due).days) if due else int(payload.get("days_overdue", 0)),
        "occurrence": row["occurrence"],
        "level": row["level"],
        "summary": summary(facts.action),
        "history": facts.history if lang == "en" else [_history_in(item, lang) for item in facts.history],
        "history_more": max(0, facts.history_total - shown),
        "updates": facts.updates if lang == "en" else [_update_in(item, lang) for item in facts.updates],
        "also_to": list(also_to),
        "pending_extension": _pending(facts.pending, people, lang),
        "extended": _extended(facts.action, lang),
        "thread": thread_of(row),
        "subject_kind": subject_kind(row),
        "extension": _extension(payload, people, lang),
        "closure": _closure(payload, people, lang),
    }


def history_label(kind: str, language: str) -> str:
    """Return what a message sent about an action was, in words: "reminder", "status request"..."""
    labels = {
        "reminder": gettext(language, "reminder"),
        "checkin": gettext(language, "status request"),
        "overdue": gettext(language, "overdue notice"),
        "escalation": gettext(language, "escalation"),
    }
    return labels.get(kind, kind)


def _history_in(item: Row, language: str) -> dict[str, Any]:
    """Return a history item (as ``ContextCache`` keeps it, in English) in ``language``."""
    return dict(item) | {
        "date_long": long_date(item.get("date"), language),
        "label": history_label(str(item.get("type")), language),
        "what": headline(str(item.get("type")), item.get("payload") or {}, None, language),
    }


def _update_in(item: Row, language: str) -> dict[str, Any]:
    """Return a progress update item in ``language``."""
    return dict(item) | {
        "date_long": long_date(item.get("date"), language),
        "state": state_words(str(item.get("state_key", item.get("state"))), language),
    }


def _closure(payload: Row, people: Mapping[str, Row], language: str = "en") -> dict[str, Any]:
    """Return a report of implementation as templates show it (and, for a stale reminder, since when nothing came)."""
    return {
        "reported_by": name_of(people, payload.get("reported_by", "")),
        "reported_on_long": long_date(payload.get("reported_on"), language),
        "occurrence_long": _occurrence_long(payload.get("reported_occurrence"), language),
        "note": payload.get("note", ""),
        "links": list(payload.get("report_links") or []),
        "files": [
            {"name": str(f.get("name", "")), "size": size_words(int(f.get("size") or 0), language)}
            for f in payload.get("report_files") or []
        ],
        "rating": rating_words(str(payload.get("owner_rating", "")), language),
        "verifier": name_of(people, payload.get("verifier", "")),
        "by": name_of(people, payload.get("by", "")),
        "comment": payload.get("comment", ""),
        "days_waiting": int(payload.get("days_waiting") or 0),
        "since_long": long_date(payload.get("since"), language),
        "days_quiet": int(payload.get("days_quiet") or 0),
    }


def _occurrence_long(value: object, language: str) -> str:
    """Return the occurrence a report is about as a day in words when it is a day ("31 octobre 2026"), else as
    it is."""
    text = str(value or "")
    try:
        return long_date(date.fromisoformat(text).isoformat(), language)
    except ValueError:
        return text


def size_words(size: int, language: str) -> str:
    """Return a file's size as people read it in ``language``: "2.5 MB", "800 KB", "120 bytes"."""
    if size >= 1024 * 1024:
        return gettext(language, "%(num)s MB") % {"num": number(round(size / (1024 * 1024), 1), language)}
    if size >= 1024:
        return gettext(language, "%(num)s KB") % {"num": number(round(size / 1024), language)}
    return ngettext(language, "%(num)s byte", "%(num)s bytes", size) % {"num": number(size, language)}


def _extension(payload: Row, people: Mapping[str, Row], language: str = "en") -> dict[str, Any]:
    return {
        "from": payload.get("from"),
        "to": payload.get("to"),
        "from_long": long_date(payload.get("from"), language),
        "to_long": long_date(payload.get("to"), language),
        "by": name_of(people, payload.get("by", "")),
        "reason": payload.get("reason", ""),
        "asked_by": name_of(people, payload.get("asked_by", "")),
        "asked_on_long": long_date(payload.get("asked_on"), language),
        "note": payload.get("note", ""),
    }


def _extended(action: Row, language: str = "en") -> dict[str, str] | None:
    """Return the action's original and extended due dates, written out, or None when it was not extended."""
    if not action.get("extended_to") or not action.get("due"):
        return None
    return {"from_long": long_date(action["due"], language), "to_long": long_date(action["extended_to"], language)}


def _pending(request: Row | None, people: Mapping[str, Row], language: str = "en") -> dict[str, Any] | None:
    """Return the undecided extension request as templates show it, or None."""
    if request is None:
        return None
    asked = aware_utc(request.get("requested_at"))
    return {
        "to": str(request["wanted"]),
        "to_long": long_date(request["wanted"], language),
        "reason": request.get("reason") or "",
        "asked_by": name_of(people, request.get("requested_by")),
        "asked_on_long": long_date(asked.date() if asked else None, language),
    }


def digest_context(
    row: Row, recipient: Row, identity: MailIdentity, now: datetime, plan: Row | None = None
) -> dict[str, Any]:
    """Return the context of a digest: its items, grouped into ``sections`` (overdue first, then by Part).

    Written in the recipient's language, else the language of ``plan`` (the plan of the row, if any).
    """
    language = message_language(row, recipient, plan)
    base = base_context(row, recipient, identity, now, language)
    payload = row["payload"] or {}
    who = row["recipient_id"] or row["recipient"]
    items = [
        dict(item)
        | {
            "links": action_links(
                identity.base_url,
                identity.secret_key,
                item.get("plan_id", ""),
                item["ref"],
                who,
                now,
                link_role(str(item.get("role") or OWNER), row["recipient_id"]),
            )
        }
        for item in payload.get("items", [])
    ]
    campaign = payload.get("campaign")
    if campaign and campaign.get("respond_by"):
        campaign = dict(campaign) | {"respond_by_long": long_date(campaign["respond_by"], language)}
    if campaign:  # an update campaign's message: one link to the page where all the actions are updated at once
        base["links"]["updates"] = updates_url(
            identity.base_url, identity.secret_key, row["plan_id"] or "", int(campaign["id"]), who, now
        )
    return base | {
        "period": payload.get("period", "daily"),
        "items": items,
        "sections": digest_sections(items, language),
        "failures": list(payload.get("failures", [])),
        "pauses": list(payload.get("pauses", [])),
        "campaign": campaign,
    }


def digest_sections(items: Iterable[Row], language: str = "en") -> list[dict[str, Any]]:
    """Return items grouped as people read a digest: "Overdue" first, then each plan Part; by due date within.

    A group's ``overdue`` says it is the overdue one (its ``heading`` is in ``language``)."""

    def order(item: Row) -> tuple[str, str]:
        """Due date first (undated last), then the action id."""
        return (str(item.get("due") or "9999"), str(item.get("ref")))

    rows = list(items)
    groups: list[dict[str, Any]] = []
    late = sorted((i for i in rows if i.get("overdue")), key=order)
    if late:
        groups.append({"heading": gettext(language, "Overdue"), "overdue": True, "entries": late})
    parts: dict[tuple[int, str], list[Row]] = {}
    for item in rows:
        if not item.get("overdue"):
            parts.setdefault((int(item.get("part_order", 0)), str(item.get("part") or "")), []).append(item)
    for (_, heading), members in sorted(parts.items()):
        groups.append(
            {
                "heading": heading or gettext(language, "Other actions"),
                "overdue": False,
                "entries": sorted(members, key=order),
            }
        )
    return groups


def envelope_for(row: Row, context: Row, facts: Facts | None, now: datetime) -> Envelope:
    """Return the envelope of a row's message: recipient, time, thread and calendar event."""
    recipient = context["recipient"]
    to = (recipient["name"], recipient["email"])
    tz = zone(recipient["timezone"])
    if facts is None:
        return Envelope(row["key"], to, now, context["links"]["preferences"], zone=tz)
    plan_id, ref = facts.plan["id"], facts.action["ref"]
    started = aware_utc(facts.action.get("created_at")) or now
    return Envelope(
        row["key"],
        to,
        now,
        context["links"]["preferences"],
        thread_key(plan_id, ref, context["thread"]),
        started,
        calendar_event(row, facts, context.get("language") or "en"),
        tz,
    )


def calendar_event(row: Row, facts: Facts, language: str = "en") -> CalendarEvent | None:
    """Return the milestone a message is about, for its ``.ics`` attachment (its texts in ``language``); None for
    messages without one."""
    payload = row["payload"] or {}
    kind = "extension" if row["template"] == "extension_granted" else row["type"]
    day = _day(payload.get("to") if kind == "extension" else payload.get("date"))
    asked = payload.get("missed") in {"check-in", "update"} or str(payload.get("occurrence", "")).startswith("stale ")
    if kind not in EVENT_TYPES or day is None or asked:
        return None  # only a milestone goes in a calendar; a check-in or a silence is not one
    what = "start" if payload.get("what") == "starts" else "due"
    action, plan = facts.action, facts.plan
    stamp = aware_utc(action.get("updated_at")) or aware_utc(plan.get("updated_at")) or datetime(2000, 1, 1, tzinfo=UTC)
    title = summary(action)
    description = event_description(action, plan, title, language)
    filename = f"{event_uid(plan['id'], action['ref'], what, day).removesuffix('@planwatch')}.ics"
    if what == "start":
        event_summary = gettext(language, "[%(ref)s] Starts: %(title)s") % {"ref": action["ref"], "title": title}
    else:
        event_summary = gettext(language, "[%(ref)s] Due: %(title)s") % {"ref": action["ref"], "title": title}
    if action.get("kind") == "recurring" and kind != "extension":
        # One occurrence of the feed's series: its UID, and the occurrence's date as RECURRENCE-ID.
        series = facts.series_day or series_uid_day(_day(action.get("start")), _day(plan.get("ref_date")) or day)
        uid = event_uid(plan["id"], action["ref"], "recurring", series)
        return CalendarEvent(uid, day, event_summary, description, stamp, filename, recurrence_id=day)
    uid = event_uid(plan["id"], action["ref"], what, _uid_day(action, what, day))
    return CalendarEvent(uid, day, event_summary, description, stamp, filename)


def plan_called(plan: Row, language: str) -> str:
    """Return what sentences call a plan: its symbol, else its title between quotation marks (a plan read from a
    spreadsheet may have no symbol), else its id."""
    if plan.get("symbol"):
        return str(plan["symbol"])
    return quoted(plan["title"], language) if plan.get("title") else str(plan["id"])


def event_description(action: Row, plan: Row, title: str, language: str) -> str:
    """Return the description of a message's calendar entry: the action, its plan and its time frame."""
    head = gettext(language, "Action %(ref)s of %(plan)s: %(title)s")
    frame = gettext(language, "Time frame in the plan: %(timeframe)s")
    cell = action.get("timeframe") or gettext(language, "(empty cell)")
    return f"{head % {'ref': action['ref'], 'plan': plan_called(plan, language), 'title': title}}\n" + (
        frame % {"timeframe": cell}
    )


def _uid_day(action: Row, what: str, day: date) -> date:
    """Return the day in the event's UID: the milestone's own date, which an extension does not change."""
    if action.get("kind") == "recurring":
        return day
    own = _day(action.get("due") if what == "due" else action.get("start"))
    return own or day


def _day(value: object) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None
