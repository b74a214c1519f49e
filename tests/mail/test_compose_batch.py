"""A message built in a dispatch pass with many others is the message built alone: what a pass keeps for the
next message (a reader's link, a zone's Date, a language's dates and words, a milestone's calendar part, an
address) never carries one message's values into another's."""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select, update

from engine.channels import MemoryChannel
from engine.channels.smtp import SmtpChannel, SmtpConfig
from engine.drive.simulate import start_cursors
from engine.drive.tick import run_tick
from engine.importing import import_paths
from engine.mail.compose import ContextCache, compose
from engine.mail.context import recipient_zone
from engine.mail.render import MailIdentity, Renderer
from engine.rules.loader import load_rules
from engine.settings import Settings
from engine.store import make_engine, tables, upgrade

from ..conftest import ROOT

DATA = Path(__file__).parent.parent / "data"
T0 = datetime(2000, 1, 3, 12, tzinfo=UTC)
NOW = datetime(2000, 4, 20, 12, tzinfo=UTC)
OUT, W = tables.OUTBOX, tables.OWNER
IDENTITY = MailIdentity(
    sender="planwatch <planwatch@example.org>", base_url="https://plans.example.org", secret_key="k"
)
CACHED = ("engine.mail.messages", "engine.mail.context", "engine.mail.compose", "engine.channels.smtp")


@pytest.fixture
def three_languages(database_url: str) -> Iterator[Engine]:
    """The small plan with Zora reading French and Boon Spanish (the others English), planned and sent until three
    weeks after its due date: reminders, overdue notices and escalations to readers in three zones."""
    engine = make_engine(database_url)
    upgrade(engine)
    settings = Settings(database_url=database_url, rules_dir=DATA / "rules", templates_dir=ROOT / "templates")
    import_paths(engine, [DATA / "small-owners.yaml", DATA / "small-plan.yaml"], settings, T0)
    with engine.begin() as conn:
        conn.execute(update(W).where(W.c.id == "zora").values(language="fr"))
        conn.execute(update(W).where(W.c.id == "boon").values(language="es"))
    start_cursors(engine, T0)
    rules, renderer = load_rules(DATA / "rules"), Renderer([ROOT / "templates"])
    for at in (datetime(2000, 3, 17, 12, tzinfo=UTC), datetime(2000, 4, 20, 12, tzinfo=UTC)):
        run_tick(engine, rules, MemoryChannel(), renderer, at)
    yield engine
    engine.dispose()


def forget_everything() -> None:
    """Empty every cache the building modules keep between messages (``functools`` caches and kept tables)."""
    for name in CACHED:
        for value in list(vars(sys.modules[name]).values()):
            if callable(getattr(value, "cache_clear", None)):
                value.cache_clear()
            elif isinstance(value, dict) and value and all(isinstance(k, tuple) for k in value):
                value.clear()  # a table kept by hand, keyed by what it was made from (folded headers)


def a_pass(engine: Engine) -> list[dict[str, Any]]:
    """Every message about an action the world has, and a second milestone of the first reminders (their start,
    a week before their due date): several readers, languages and zones, two milestones of one action."""
    with engine.connect() as conn:
        query = select(OUT).where(OUT.c.action_id.is_not(None)).order_by(OUT.c.id)
        rows = [dict(r) for r in conn.execute(query).mappings()]
    starts = []
    for row in [r for r in rows if r["type"] == "reminder"][:3]:
        due = date.fromisoformat(row["payload"]["date"])
        start = (due - timedelta(days=7)).isoformat()
        payload = row["payload"] | {"what": "starts", "anchor": "start", "date": start, "occurrence": start}
        starts.append(row | {"id": -row["id"], "key": f"{row['key']}|start", "payload": payload})
    return rows + starts


def built(renderer: Renderer, contexts: ContextCache, row: dict[str, Any]) -> tuple[str, list[str], bytes]:
    wire = SmtpChannel(SmtpConfig("127.0.0.1", 25, security="none")).wire(compose(renderer, contexts, row, NOW))
    return wire.sender, wire.recipients, wire.data


GREETINGS = {"en": "Dear {},", "fr": "Bonjour {},", "es": "Estimado/a {}:"}


def reads_as_its_own(row: dict[str, Any], data: bytes, zone: str, language: str, owners: dict[str, Any]) -> None:
    """``data`` is the message of ``row`` by what it says, whatever a cache may hold: its reader's address, name,
    language and zone, a link to their own preferences, and the calendar entry of its own milestone."""
    msg = message_from_bytes(data, policy=email_policy.default)
    assert isinstance(msg, EmailMessage)
    name = (owners.get(row["recipient_id"] or "") or {}).get("name") or ""
    assert msg["To"].addresses[0].addr_spec == row["recipient"]
    assert msg["Date"].datetime.utcoffset() == NOW.astimezone(ZoneInfo(zone)).utcoffset()
    plain = msg.get_body(("plain",))
    assert plain is not None and GREETINGS[language].format(name) in plain.get_content()
    token = msg["List-Unsubscribe"].split("/preferences/", 1)[1].split(".", 1)[0]
    signed = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    assert signed["u"] == (row["recipient_id"] or row["recipient"])
    entries = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
    if row["type"] == "reminder":
        assert f"DTSTART;VALUE=DATE:{row['payload']['date'].replace('-', '')}" in entries[0].get_content()


def built_together(engine: Engine, rows: list[dict[str, Any]]) -> list[tuple[str, list[str], bytes]]:
    """Build ``rows`` in one pass, as the dispatcher does (one context cache, one renderer), from empty caches."""
    forget_everything()
    renderer = Renderer([ROOT / "templates"], IDENTITY)
    with engine.connect() as conn:
        contexts = ContextCache(conn, IDENTITY)
        contexts.preload(rows)
        together = [built(renderer, contexts, row) for row in rows]
        conn.rollback()  # what the preload wrote (a new thread's language) is not kept: each build reads the same
    return together


def test_a_message_built_in_a_pass_is_the_message_built_alone(three_languages: Engine) -> None:
    engine = three_languages
    rows = a_pass(engine)
    with engine.connect() as conn:
        owners = {o["id"]: o for o in conn.execute(select(W)).mappings()}
        contexts = ContextCache(conn, IDENTITY)
        language = {row["id"]: contexts.for_row(row, NOW)["language"] for row in rows}
        conn.rollback()
    zone = {r["id"]: recipient_zone(r, owners.get(r["recipient_id"] or "")) for r in rows}
    # What the pass holds: readers in three languages and three zones, and two milestones of one action to one reader.
    assert set(language.values()) == {"en", "fr", "es"} and len(set(zone.values())) == 3
    milestones = {(r["action_id"], r["recipient"], r["payload"]["date"]) for r in rows if r["type"] == "reminder"}
    assert len(milestones) > len({(a, who) for a, who, _ in milestones})
    # In one pass, one way and the other: a value kept under too short a key would be the first message's both times.
    together = built_together(engine, rows)
    for kind in (zone, language):
        ordered = sorted(rows, key=lambda r: (kind[r["id"]], r["id"]))
        assert kind[ordered[0]["id"]] != kind[ordered[-1]["id"]]
        places = [rows.index(r) for r in ordered]
        assert built_together(engine, ordered) == [together[i] for i in places]
        assert built_together(engine, ordered[::-1]) == [together[i] for i in places[::-1]]
    for row, (_, _, data) in zip(rows, together, strict=True):
        reads_as_its_own(row, data, zone[row["id"]], language[row["id"]], owners)
    fresh = Renderer([ROOT / "templates"], IDENTITY)  # compiled templates only: no message's values
    for row, (sender, recipients, data) in zip(rows, together, strict=True):
        forget_everything()
        with engine.connect() as conn:
            alone = ContextCache(conn, IDENTITY)
            alone.preload([row])
            assert built(fresh, alone, row) == (sender, recipients, data), row["key"]
            conn.rollback()
        assert recipients == [row["recipient"]]


def test_two_milestones_of_one_action_each_carry_their_own_calendar_entry(three_languages: Engine) -> None:
    engine = three_languages
    rows = a_pass(engine)
    start = rows[-1]
    due = next(r for r in rows if r["id"] == -start["id"])
    renderer = Renderer([ROOT / "templates"], IDENTITY)
    with engine.connect() as conn:
        contexts = ContextCache(conn, IDENTITY)
        contexts.preload([due, start])
        entries = []
        for row in (due, start, due):
            msg = message_from_bytes(built(renderer, contexts, row)[2], policy=email_policy.default)
            (ics,) = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
            entries.append((str(ics.get_filename()), str(ics.get_content())))
        conn.rollback()
    assert entries[0] == entries[2] and entries[0] != entries[1]
    assert f"DTSTART;VALUE=DATE:{due['payload']['date'].replace('-', '')}" in entries[0][1]
    assert f"DTSTART;VALUE=DATE:{start['payload']['date'].replace('-', '')}" in entries[1][1]
    assert "start" in entries[1][0] and "due" in entries[0][0]
