"""Turning an outbox row into an e-mail message: the template context and the message itself."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date
from email.message import EmailMessage
from email.utils import formataddr
from typing import Any

from engine.render import Renderer

SENDER = ("planwatch", "planwatch@example.org")


def headline(kind: str, payload: Mapping[str, Any]) -> str:
    """Return the words people use for what changed: "due in 7 days", "due tomorrow", "12 days overdue"."""
    when = long_date(payload.get("date"))
    if kind == "reminder":
        left = int(payload.get("days_left", 0))
        verb = "due" if payload.get("what", "due") == "due" else "starts"
        words = {0: f"{verb} today", 1: f"{verb} tomorrow"}.get(left, f"{verb} in {left} days")
        return f"{words[0].upper()}{words[1:]} ({when})"
    if kind in {"overdue", "escalation"}:
        late = int(payload.get("days_overdue", 0))
        return f"{late} day{'s' if late != 1 else ''} overdue (due {when})" if late else f"Overdue (due {when})"
    if kind == "checkin":
        return f"Status update requested ({when})"
    return str(payload.get("occurrence", ""))


def long_date(value: object) -> str:
    """Return an ISO date as people write it: 30 April 2000."""
    if not value:
        return "no date"
    day = date.fromisoformat(str(value))
    return f"{day.day} {day:%B %Y}"


def message_id(key: str, domain: str = "planwatch.invalid") -> str:
    """Return a Message-ID derived from the outbox key: a resend carries the same id."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


def build_message(renderer: Renderer, template: str, context: Mapping[str, Any], to: tuple[str, str], key: str) -> EmailMessage:
    """Render ``template`` for ``context`` into a message to ``to`` (name, address)."""
    rendered = renderer.render(template, context)
    msg = EmailMessage()
    msg["Subject"] = rendered.subject
    msg["From"] = formataddr(SENDER)
    msg["To"] = formataddr(to)
    msg["Message-ID"] = message_id(key)
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "OOF, AutoReply"
    msg["X-Planwatch-Key"] = key
    msg.set_content(rendered.text)
    if rendered.html is not None:
        msg.add_alternative(rendered.html, subtype="html")
    return msg
