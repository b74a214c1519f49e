"""Composing the message of a stored outbox row: facts read from the store once per pass, the
history of what was sent, and the renderer the settings ask for."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from engine.actions.extensions import request_extension
from engine.channels import MemoryChannel
from engine.drive.simulate import start_cursors
from engine.drive.tick import run_tick
from engine.importing import import_paths
from engine.mail.compose import ContextCache, compose, renderer_for
from engine.mail.messages import as_bytes, message_id
from engine.mail.render import Renderer
from engine.outbox import enqueue
from engine.rules.loader import load_rules
from engine.settings import Settings
from engine.store import make_engine, tables, transaction, upgrade
from engine.store.models import Action

from ..conftest import ROOT

DATA = Path(__file__).parent.parent / "data"
T0 = datetime(2000, 1, 3, 12, tzinfo=UTC)
OUT = tables.OUTBOX


@pytest.fixture
def small(database_url: str, tmp_path: Path) -> Iterator[tuple[Engine, Settings]]:
    """The small plan and its owners in a fresh database, planned and sent until three weeks after its due date."""
    engine = make_engine(database_url)
    upgrade(engine)
    settings = Settings(database_url=database_url, rules_dir=DATA / "rules", templates_dir=ROOT / "templates")
    import_paths(engine, [DATA / "small-owners.yaml", DATA / "small-plan.yaml"], settings, T0)
    start_cursors(engine, T0)
    rules, renderer = load_rules(DATA / "rules"), Renderer([ROOT / "templates"])
    for at in (datetime(2000, 3, 17, 12, tzinfo=UTC), datetime(2000, 4, 20, 12, tzinfo=UTC)):
        run_tick(engine, rules, MemoryChannel(), renderer, at)
    yield engine, settings
    engine.dispose()


def parse(raw: bytes) -> EmailMessage:
    msg = message_from_bytes(raw, policy=email_policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def row_of(engine: Engine, ref: str = "I.1.1", **where: Any) -> dict[str, Any]:
    """Return the first outbox row about action ``ref`` with the given column values."""
    with engine.connect() as conn:
        query = (
            select(OUT)
            .where(OUT.c.key.startswith(f"small/{ref}|"), *(OUT.c[k] == v for k, v in where.items()))
            .order_by(OUT.c.due_at)
        )
        return dict(conn.execute(query).mappings().first())  # type: ignore[arg-type]


def test_a_stored_reminder_becomes_the_message_its_recipient_reads(small: tuple[Engine, Settings]) -> None:
    engine, _ = small
    row = row_of(engine, recipient_id="zora", step="remind:due:14d")
    renderer = Renderer([ROOT / "templates"])
    with engine.connect() as conn:
        msg = parse(as_bytes(compose(renderer, ContextCache(conn), row, row["due_at"])))
    assert msg["To"].addresses[0].addr_spec == "zora@example.org"
    assert msg["To"].addresses[0].display_name == "Zora Z"
    assert str(msg["Subject"]) == "[I.1.1] Zurich deadline"
    assert msg["Message-ID"] == message_id(row["key"], "example.org")
    assert msg.get_body(("plain",)).get_content().splitlines()[0] == "Due in 14 days (31 March 2000)"  # type: ignore[union-attr]
    assert [part.get_filename() for part in msg.iter_attachments()] == ["small-i.1.1-due-2000-03-31.ics"]


def test_the_facts_name_the_section_and_its_part_and_are_read_once_per_pass(small: tuple[Engine, Settings]) -> None:
    engine, _ = small
    row = row_of(engine, recipient_id="zora", step="remind:due:14d")
    with engine.connect() as conn:
        cache = ContextCache(conn)
        cache.preload([row])
        facts = cache.facts(row["action_id"])
        assert cache.facts(row["action_id"]) is facts
    assert (facts.action["ref"], facts.plan["id"]) == ("I.1.1", "small")
    assert (facts.section["title"], facts.part["title"]) == ("Deadlines", "Part one")
    assert facts.owner is not None and facts.owner["name"] == "Zora Z"


def test_an_escalation_lists_what_was_already_sent_about_the_action(small: tuple[Engine, Settings]) -> None:
    engine, _ = small
    row = row_of(engine, recipient_id="mid", type="escalation", status="sent")
    with engine.connect() as conn:
        context = ContextCache(conn).for_row(row)
    assert context["thread"] == "escalation" and context["recipient"]["name"] == "Middle Manager"
    history = context["history"]
    assert (history[0]["type"], history[0]["to"], history[0]["date"]) == ("reminder", "Zora Z", "2000-03-17")
    assert "overdue" in {h["type"] for h in history}
    assert [h["date"] for h in history] == sorted(h["date"] for h in history)
    assert all(h["date"] <= "2000-04-20" for h in history)


def test_the_settings_renderer_puts_the_users_templates_first_and_signs_as_the_sender(
    small: tuple[Engine, Settings], tmp_path: Path
) -> None:
    engine, settings = small
    own = tmp_path / "own"
    (own / "email").mkdir(parents=True)
    (own / "email" / "reminder.html.j2").write_text("<p>{{ headline }}, from our own template</p>\n")
    settings = Settings(
        database_url=settings.database_url,
        templates_dir=ROOT / "templates",
        user_templates_dir=own,
        sender="Plan Office <office@plans.example.net>",
    )
    renderer = renderer_for(settings)
    assert renderer.folders[0] == own
    row = row_of(engine, recipient_id="zora", step="remind:due:14d")
    with engine.connect() as conn:
        msg = parse(as_bytes(compose(renderer, ContextCache(conn, renderer.identity), row, row["due_at"])))
    assert msg["From"].addresses[0].addr_spec == "office@plans.example.net"
    assert msg["Message-ID"] == message_id(row["key"], "plans.example.net")
    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "Due in 14 days (31 March 2000), from our own template" in html


def test_an_escalation_lists_the_most_recent_messages_and_how_many_earlier(
    small: tuple[Engine, Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, _ = small
    row = row_of(engine, recipient_id="mid", type="escalation", status="sent")
    with engine.connect() as conn:
        everything = ContextCache(conn).for_row(row)["history"]
    assert len(everything) == 3
    monkeypatch.setattr("engine.mail.compose.HISTORY_LIMIT", 2)
    with engine.connect() as conn:
        one = ContextCache(conn).for_row(row)
        ahead = ContextCache(conn)
        ahead.preload([row])
        many = ahead.for_row(row)
        for context in (one, many):
            assert context["history"] == everything[-2:]  # the newest two, oldest first
            assert context["history_more"] == 1
            assert [h["label"] for h in context["history"]] == ["overdue notice", "escalation"]
        msg = parse(as_bytes(compose(Renderer([ROOT / "templates"]), ContextCache(conn), row, row["due_at"])))
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "… and 1 more earlier" in text and "17 March 2000" not in text
    assert "planwatch escalations" not in text


def test_an_escalation_names_the_others_its_step_went_to(small: tuple[Engine, Settings]) -> None:
    engine, _ = small
    row = row_of(engine, recipient_id="mid", type="escalation", status="sent")
    sibling = dict(row) | {"key": row["key"] + "|boss", "recipient": "boss@example.org", "recipient_id": "boss"}
    plain = dict(row) | {"key": row["key"] + "|board", "recipient": "board@example.org", "recipient_id": None}
    with engine.begin() as conn:
        enqueue(conn, [{k: v for k, v in r.items() if k != "id"} for r in (sibling, plain)])
    with engine.connect() as conn:
        context = ContextCache(conn).for_row(row)
        assert context["also_to"] == ["Big Boss", "board@example.org"]
        ahead = ContextCache(conn)
        ahead.preload([row])
        assert ahead.for_row(row)["also_to"] == ["Big Boss", "board@example.org"]
        msg = parse(as_bytes(compose(Renderer([ROOT / "templates"]), ContextCache(conn), row, row["due_at"])))
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "It also went to: Big Boss, board@example.org." in text
    assert text.splitlines()[0].startswith("Zora Z's action I.1.1: ")


def test_an_extension_request_reaches_the_supervisor_with_grant_and_refuse(small: tuple[Engine, Settings]) -> None:
    engine, _ = small
    at = datetime(2000, 4, 21, 9, tzinfo=UTC)
    with transaction(engine) as session:
        action = session.exec(select(Action).where(Action.ref == "I.1.1")).one()
        request_extension(session, action, date(2000, 6, 30), at, who="zora", via="email link", reason="late data")
    row = row_of(engine, template="extension_requested")
    assert row["recipient_id"] == "mid"
    with engine.connect() as conn:
        msg = parse(as_bytes(compose(Renderer([ROOT / "templates"]), ContextCache(conn), row, at)))
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert text.splitlines()[0] == "Extension requested: to 30 June 2000 (due 31 March 2000)"
    assert "Zora Z asks for more time for action I.1.1" in text and "“late data”" in text
    assert "/grant" in text and "/refuse" in text and "/view" in text
    assert "/not_mine" not in text and "/done" not in text and "/acknowledge" not in text
    assert not msg.get_content_type().endswith("calendar") and not list(msg.iter_attachments())


@pytest.mark.parametrize("preloaded", [False, True], ids=["one row", "a pass"])
def test_an_escalation_shows_the_latest_dated_updates_by_name(small: tuple[Engine, Settings], preloaded: bool) -> None:
    from engine.actions.workflow import progress

    engine, _ = small
    with transaction(engine) as session:
        action = session.exec(select(Action).where(Action.ref == "I.1.1")).one()
        for day, percent in ((3, 10), (5, None), (8, 40), (9, 55)):
            when = datetime(2000, 4, day, 9, tzinfo=UTC)
            progress(session, action, when, who="zora", via="web", note=f"step {day}", percent=percent)
    row = row_of(engine, recipient_id="mid", type="escalation", status="sent")
    with engine.connect() as conn:
        cache = ContextCache(conn)
        if preloaded:
            cache.preload([row])
        context = cache.for_row(row)
        text = compose(Renderer([ROOT / "templates"]), cache, row, row["due_at"])
    shown = [(u["date"], u["who"], u["percent"], u["text"]) for u in context["updates"]]
    assert shown == [  # the latest three, oldest first; the first one is left out
        ("2000-04-05", "Zora Z", None, "step 5"),
        ("2000-04-08", "Zora Z", 40, "step 8"),
        ("2000-04-09", "Zora Z", 55, "step 9"),
    ]
    plain = parse(as_bytes(text)).get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "9 April 2000, Zora Z: on track, 55% complete: “step 9”" in plain
