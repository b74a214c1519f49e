"""Messages as they would be sent: the preview of a day rendered, and the test message."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage, Message
from typing import Any

from rich.console import Console
from rich.rule import Rule
from sqlalchemy import Engine

from engine.channels import Channel, MemoryChannel, batch
from engine.drive.rehearse import day_start, scratch
from engine.drive.simulate import simulate
from engine.mail.checks import sample_facts, sample_message, sample_row
from engine.mail.context import Facts
from engine.mail.messages import as_bytes
from engine.mail.render import Renderer
from engine.rules.loader import RuleSet
from engine.settings import Settings

HEADERS = (
    ("from", "From"),
    ("to", "To"),
    ("subject", "Subject"),
    ("date", "Date"),
    ("message_id", "Message-ID"),
    ("in_reply_to", "In-Reply-To"),
)


def preview_rendered(
    engine: Engine, settings: Settings, rules: RuleSet, renderer: Renderer, day: date, action: str | None = None
) -> list[dict[str, Any]]:
    """Return what would be sent on ``day`` (optionally about one action), each with its rendered message.

    It runs the day on a scratch copy of the database, as ``preview`` does, and keeps the messages. A
    message that cannot be built (a template missing or failing) comes last, with its ``error``.
    """
    channel = MemoryChannel()
    begin, end = day_start(day), day_start(day + timedelta(days=1)) - timedelta(microseconds=1)
    with scratch(engine, False, settings.maildir) as (db, _):
        result = simulate(db, rules, channel, renderer, begin, end)
    parsed = [message_from_bytes(as_bytes(m), policy=email_policy.default) for m in channel.messages]
    messages = {str(m["X-Planwatch-Key"]): m for m in parsed if isinstance(m, EmailMessage)}
    rows = [n for n in result.notifications if action is None or n["action"] == action]
    failed = [row for row in result.unrenderable if action is None or row["action"] == action]
    return [row | _describe(messages[row["key"]]) | {"error": ""} for row in rows if row["key"] in messages] + failed


def _describe(msg: EmailMessage) -> dict[str, Any]:
    """Return the headers people look at, the text body, and what else the message holds."""
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    files = [part.get_filename() for part in msg.iter_attachments()]
    return {
        "subject": str(msg["Subject"]),
        "from": str(msg["From"]),
        "to": str(msg["To"]),
        "date": str(msg["Date"]),
        "message_id": str(msg["Message-ID"]),
        "in_reply_to": str(msg["In-Reply-To"] or ""),
        "text": text.get_content() if isinstance(text, EmailMessage) else "",
        "html": html.get_content() if isinstance(html, EmailMessage) else "",
        "attachments": [f for f in files if f],
    }


def print_rendered(console: Console, rows: list[dict[str, Any]]) -> None:
    """Print each previewed message as a mail client would show its text, then the messages that cannot be built."""
    failed = [row for row in rows if row.get("error")]
    rows = [row for row in rows if not row.get("error")]
    for row in rows:
        console.print(Rule(f"{row['at']}  {row['type']}  {row['action'] or ''} → {row['recipient']}", align="left"))
        for name, label in HEADERS:
            if row[name]:
                console.print(f"{label}: {row[name]}", markup=False, highlight=False)
        console.print()
        console.print(row["text"].rstrip(), markup=False, highlight=False)
        extras = [f"HTML part: {len(row['html']):,} characters"] + [
            f"attachment: {name}" for name in row["attachments"]
        ]
        console.print(f"[dim]({'; '.join(extras)})[/]")
    for row in failed:
        console.print(Rule(f"{row['at']}  {row['type']}  {row['action'] or ''} → {row['recipient']}", align="left"))
        console.print(f"NOT SENT: {row['error']}", markup=False, highlight=False, style="bold red")
    console.print(f"{len(rows)} message(s)." + (f" {len(failed)} cannot be built (see above)." if failed else ""))


def send_test(channel: Channel, renderer: Renderer, to: str, now: datetime) -> Message:
    """Send a sample reminder to ``to`` over ``channel`` at ``now`` (aware); return the message sent."""
    due = (now + timedelta(days=7)).date()  # a reminder a week ahead of today, so it reads as a real one
    row = sample_row("reminder", "reminder", date=due.isoformat(), role_tz="UTC")
    row |= {"recipient": to, "recipient_id": None, "key": f"send-test|{to}|{now.isoformat()}"}
    facts = sample_facts()
    facts = Facts(dict(facts.action) | {"due": due}, facts.plan, facts.section, facts.part, facts.owner, facts.history)
    message = sample_message(renderer, row, facts, now=now)
    with batch(channel):
        channel.deliver(message)
    return message


def message_size(message: Message) -> int:
    """Return the size of ``message`` on the wire, in bytes."""
    return len(as_bytes(message))
