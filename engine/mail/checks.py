"""``planwatch templates check``: render every template against sample contexts built by the
very functions that build real ones, and report each problem as ``FILE:LINE: message``.

Besides Jinja errors (syntax, a variable that does not exist), it checks that each message
template has its HTML twin, that the message builds and parses back, and that the subject of
one thread stays the same whatever the message (mail clients thread on an unchanged subject).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from email import policy as email_policy
from email.message import Message
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from sqlmodel import SQLModel

from engine.languages import gettext
from engine.mail.context import Facts, Row, action_context, digest_context, envelope_for, subject_kind
from engine.mail.messages import as_bytes, build_message, headline
from engine.mail.render import Renderer, template_error
from engine.store.models import Action, Owner, Plan, Section
from engine.store.tables import table_of
from engine.store.web_models import ExtensionRequest

SAMPLE_NOW = datetime(2000, 3, 24, 8, 0, tzinfo=UTC)
STANDALONE = frozenset({"digest", "delivery_report", "campaign"})
_BY_TEMPLATE = {
    "reminder": "reminder",
    "final_reminder": "reminder",
    "overdue": "overdue",
    "escalation": "escalation",
    "checkin": "checkin",
    "not_mine": "escalation",
    "extension_granted": "reminder",
    "extension_requested": "extension_request",
    "extension_refused": "extension_request",
    "verification_request": "closure",
    "verification_overdue": "verification",
    "closure_returned": "closure",
    "closure_verified": "closure",
    "stale": "reminder",
}
SAMPLE_CAMPAIGN = {  # an update campaign's message: what the secretariat asked, and by when
    "id": 1,
    "title": "Update of 24 March 2000",
    "within_days": 45,
    "respond_by": "2000-04-07",
    "respond_by_long": "7 April 2000",
    "note": "For the interim report on implementation.",
    "plan": "GB.276/TC/2",
}
WITH_PENDING = frozenset({"escalation", "extension_requested"})  # their samples have an undecided request
PEOPLE = {
    "program": {"name": "Jonas Lindqvist", "timezone": "Europe/Zurich"},
    "ed-devcoop": {"name": "Amara Okafor", "timezone": "Europe/Zurich"},
    "secretariat": {"name": "Plan secretariat", "timezone": "Europe/Zurich"},
}


def _columns(model: type[SQLModel], **values: Any) -> dict[str, Any]:
    """Return a row of ``model``'s table with every column (None unless given), as the database returns it."""
    return {c.name: None for c in table_of(model).columns} | values


def sample_facts(title: str = "Circulate the implementation plan to all field offices", pending: bool = False) -> Facts:
    """Return facts about a made-up action of the example plan, with every column a real row has;
    ``pending`` gives it an undecided extension request."""
    made = datetime(1999, 9, 28, 9, 0, tzinfo=UTC)
    plan = _columns(
        Plan,
        id="gb276-tc2",
        title="Implementation plan: follow-up to the evaluation of technical cooperation",
        symbol="GB.276/TC/2",
        ref_date=date(1999, 9, 28),
        timezone="Europe/Zurich",
        updated_at=made,
    )
    action = _columns(
        Action,
        id=1,
        plan_id="gb276-tc2",
        ref="I.1a.1",
        section_key="I.1a",
        ordinal=1,
        title=title,
        timeframe="By March 2000",
        owner_id="program",
        status="open",
        kind="deadline",
        due=date(2000, 3, 31),
        created_at=made,
        updated_at=made,
        tags=[],
        milestones=[],
        override={},
    )
    section = _columns(
        Section,
        id=2,
        plan_id="gb276-tc2",
        key="I.1a",
        parent_key="I",
        level="issue",
        number="1(a)",
        title="Decentralization and field structure",
        ordinal=2,
    )
    part = _columns(Section, id=1, plan_id="gb276-tc2", key="I", level="part", number="I", title="Policy", ordinal=1)
    owner = _columns(
        Owner,
        id="program",
        name="Jonas Lindqvist",
        email="jonas.lindqvist@example.org",
        timezone="Europe/Zurich",
        supervisor_id="ed-devcoop",
        digest="none",
        role="owner",
    )
    history = [
        {
            "date": "2000-03-01",
            "date_long": "1 March 2000",
            "type": "reminder",
            "label": "reminder",
            "to": "Jonas Lindqvist",
            "what": "Due in 30 days (31 March 2000)",
            "payload": {"date": "2000-03-31", "days_left": 30},
        },
        {
            "date": "2000-03-13",
            "date_long": "13 March 2000",
            "type": "overdue",
            "label": "overdue notice",
            "to": "Jonas Lindqvist",
            "what": "1 day overdue (due 12 March 2000)",
            "payload": {"date": "2000-03-12", "days_overdue": 1},
        },
    ]
    request = _columns(
        ExtensionRequest,
        id=1,
        action_id=1,
        requested_by="program",
        requested_at=datetime(2000, 3, 20, 10, 0, tzinfo=UTC),
        wanted=date(2000, 6, 30),
        reason="budget approved late",
        via="email link",
        status="pending",
    )
    updates = [
        {
            "date": "2000-03-15",
            "date_long": "15 March 2000",
            "who": "Jonas Lindqvist",
            "percent": 60,
            "state": "at risk",
            "text": "Sent to 30 of the 50 offices; the regional ones wait for translations",
        }
    ]
    return Facts(action, plan, section, part, owner, history, None, 5, request if pending else None, updates)


def sample_row(template: str, kind: str, role: str = "owner", **payload: Any) -> dict[str, Any]:
    """Return an outbox row of ``kind`` for ``template`` to a recipient in ``role``."""
    base = {
        "role": role,
        "date": "2000-03-31",
        "days_left": 7,
        "what": "due",
        "role_tz": "Europe/Zurich",
        "days_overdue": 12,
        "missed": "due date",
        "level": 1,
        "from": "2000-03-31",
        "to": "2000-06-30",
        "by": "ed-devcoop",
        "reason": "budget approved late",
        "asked_by": "program",
        "asked_on": "2000-03-20",
        "from_owner": "program",
        "note": "",
        "reported_by": "program",
        "reported_on": "2000-03-20",
        "report_links": ["https://intranet.example.org/letters/2000-03-15.pdf"],
        "report_files": [{"name": "letter-2000-03-15.pdf", "size": 245760}],
        "owner_rating": "implemented",
        "verifier": "ed-devcoop",
        "comment": "Please attach the letter as it was sent.",
        "days_waiting": 21,
        "since": "2000-01-20",
        "days_quiet": 60,
    }
    who = (
        ("program", "jonas.lindqvist@example.org")
        if role in {"owner", "delegate"}
        else ("ed-devcoop", "amara.okafor@example.org")
    )
    return {
        "id": 1,
        "key": f"gb276-tc2/I.1a.1|2000-03-31|{template}:{kind}|{who[0]}",
        "plan_id": "gb276-tc2",
        "action_id": 1,
        "occurrence": "2000-03-31",
        "step": "not-mine" if template == "not_mine" else kind,
        "type": kind,
        "level": int(payload.get("level", 1 if kind == "escalation" else 0)),
        "recipient": who[1],
        "recipient_id": who[0],
        "template": template,
        "due_at": SAMPLE_NOW,
        "status": "pending",
        "reason": "",
        "attempts": 0,
        "last_error": "",
        "payload": base | payload,
        "created_at": SAMPLE_NOW,
        "sent_at": None,
        "next_attempt_at": None,
        "message_id": None,
    }


def standalone_row(template: str, language: str = "en") -> dict[str, Any]:
    """Return a digest (or the administrator's report) row with items of each kind, written in ``language``."""
    late = headline("overdue", {"date": "2000-03-21", "days_overdue": 3}, None, language)
    soon = headline("reminder", {"date": "2000-03-31", "days_left": 7}, None, language)
    part = gettext(language, "Part %(number)s: %(title)s")
    items = [
        {
            "ref": "I.1a.1",
            "plan_id": "gb276-tc2",
            "title": "Circulate the plan",
            "type": "overdue",
            "level": 1,
            "headline": late,
            "due": "2000-03-21",
            "overdue": True,
            "part": part % {"number": "I", "title": "Policy"},
            "part_order": 1,
        },
        {
            "ref": "II.3.1",
            "plan_id": "gb276-tc2",
            "title": "Train staff in project design",
            "type": "reminder",
            "level": 0,
            "headline": soon,
            "due": "2000-03-31",
            "overdue": False,
            "part": part % {"number": "II", "title": "Practice"},
            "part_order": 2,
        },
    ]
    failures = [
        {
            "key": "k",
            "ref": "I.1a.1",
            "recipient": "nobody@example.org",
            "type": "reminder",
            "error": "550 5.1.1 <nobody@example.org>: Recipient address rejected",
        }
    ]
    pauses = [{"since": "2000-03-24T08:00:00+00:00", "reason": "535 5.7.8 Authentication credentials invalid"}]
    return {
        "id": 2,
        "key": f"{template}|program|2000-03-24",
        "plan_id": "gb276-tc2" if template == "campaign" else None,
        "action_id": None,
        "occurrence": "2000-03-24",
        "step": template,
        "type": {"delivery_report": "report", "campaign": "campaign"}.get(template, "digest"),
        "level": 0,
        "recipient": "jonas.lindqvist@example.org",
        "recipient_id": "program",
        "template": template,
        "due_at": SAMPLE_NOW,
        "status": "pending",
        "reason": "",
        "attempts": 0,
        "last_error": "",
        "created_at": SAMPLE_NOW,
        "sent_at": None,
        "payload": {
            "items": items,
            "period": "daily",
            "failures": failures,
            "pauses": pauses,
            "role_tz": "Europe/Zurich",
        }
        | ({"language": language} if language != "en" else {})
        | ({"campaign": SAMPLE_CAMPAIGN} if template == "campaign" else {}),
        "next_attempt_at": None,
        "message_id": None,
    }


def sample_rows(template: str) -> Iterator[dict[str, Any]]:
    """Yield rows that take ``template`` through its branches (days 0, 1 and many; owner and supervisor; check-ins)."""
    if template in STANDALONE:
        yield standalone_row(template)
        return
    kind = _BY_TEMPLATE.get(template, "reminder")
    late = kind in {"overdue", "escalation"}
    # a report of implementation waits for its verifier, and then for the verifier's supervisor
    for role in ("verifier", "supervisor") if template.startswith("verification") else ("owner", "supervisor"):
        yield sample_row(template, kind, role, date="2000-03-12" if late else "2000-03-31")
        yield sample_row(
            template,
            kind,
            role,
            date="2000-03-23" if late else "2000-03-25",
            days_left=1,
            days_overdue=1,
            what="starts",
        )
        yield sample_row(
            template, kind, role, date="2000-03-10" if late else "2000-03-24", days_left=0, missed="check-in", level=2
        )


def sample_message(renderer: Renderer, row: Row, facts: Facts | None = None, now: datetime = SAMPLE_NOW) -> Message:
    """Return the complete message of a sample ``row`` (what ``send-test`` sends and the golden files hold)."""
    facts = facts or sample_facts(pending=row["template"] in WITH_PENDING)
    people = PEOPLE | {"program": dict(facts.owner or {})}
    recipient = people.get(row["recipient_id"] or "") or {"name": "", "email": row["recipient"]}
    if row["action_id"] is None:
        context = digest_context(row, recipient, renderer.identity, now)
        envelope = envelope_for(row, context, None, now)
    else:
        also = ("Plan secretariat",) if row["type"] == "escalation" else ()
        context = action_context(row, facts, recipient, renderer.identity, now, people, also)
        envelope = envelope_for(row, context, facts, now)
    return build_message(renderer.render(row["template"], context), envelope, renderer.identity)


def check_templates(renderer: Renderer) -> list[str]:
    """Return every problem of every template, one ``FILE:LINE: message`` each (empty: all good)."""
    problems: list[str] = []
    subjects: dict[tuple[str, str], tuple[str, str]] = {}
    # The reminder's subject is the reference: the others of its thread must match it.
    for name in sorted(renderer.names(), key=lambda n: (n != "reminder", n)):
        problems += _missing_twin(renderer, name)
        for row in sample_rows(name):
            problem = _check_one(renderer, name, row, subjects)
            if problem:
                problems.append(problem)
                break
    return list(dict.fromkeys(problems))


def render_problems(renderer: Renderer, name: str) -> list[str]:
    """Return the problems of message template ``name`` rendered against its sample rows (empty: it renders)."""
    subjects: dict[tuple[str, str], tuple[str, str]] = {}
    for row in sample_rows(name):
        problem = _check_one(renderer, name, row, subjects)
        if problem:
            return [problem]
    return []


def _missing_twin(renderer: Renderer, name: str) -> list[str]:
    if any((folder / "email" / f"{name}.html.j2").exists() for folder in renderer.folders):
        return []
    return [f"{_path(renderer, name, 'txt')}: no HTML twin email/{name}.html.j2 (each message is text and HTML)"]


def _check_one(renderer: Renderer, name: str, row: Row, subjects: dict[tuple[str, str], tuple[str, str]]) -> str | None:
    try:
        message = sample_message(renderer, row)
        # Parsed back up to its headers only: the parser never raises on a body (it notes defects), so the whole
        # parse proved no more, at seven times the cost (the check runs at each template a simulation sends).
        parsed = BytesParser(policy=email_policy.default).parsebytes(as_bytes(message), headersonly=True)
    except Exception as exc:  # every error becomes one line of the report
        return template_error(exc, _path(renderer, name, "txt"))
    if row["action_id"] is None:
        return None
    # one subject per thread and kind: a verifier's request and reminders say what they ask
    thread = subject_kind(row)
    subject = str(parsed["Subject"])
    first = subjects.setdefault((thread, row["recipient"]), (name, subject))
    if first[1] != subject:
        return (
            f"{_path(renderer, name, 'txt')}: subject {subject!r} differs from {first[1]!r} of {first[0]} for the same "
            f"action and recipient; keep one subject per thread (use email/_subject.txt.j2)"
        )
    return None


def _path(renderer: Renderer, name: str, kind: str) -> str:
    for folder in renderer.folders:
        path = folder / "email" / f"{name}.{kind}.j2"
        if path.exists():
            return str(path)
    return str(Path("email") / f"{name}.{kind}.j2")
