"""Messages in their reader's language, read from the store: the owner's language, else the plan's; and a message in
a thread keeps the language the thread started in, when its reader has changed language since."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, update

from engine.channels import MemoryChannel
from engine.drive.simulate import start_cursors
from engine.drive.tick import run_tick
from engine.importing import import_paths
from engine.mail.compose import ContextCache, compose
from engine.mail.messages import as_bytes
from engine.mail.render import Renderer
from engine.rules.loader import load_rules
from engine.settings import Settings
from engine.store import make_engine, tables, upgrade

from ..conftest import ROOT

DATA = Path(__file__).parent.parent / "data"
T0 = datetime(2000, 1, 3, 12, tzinfo=UTC)
OUT, W, P = tables.OUTBOX, tables.OWNER, tables.PLAN
RENDERER = Renderer([ROOT / "templates"])


@pytest.fixture
def french_zora(database_url: str) -> Iterator[Engine]:
    """The small plan, its owner Zora reading French, planned and sent until three weeks after its due date."""
    engine = make_engine(database_url)
    upgrade(engine)
    settings = Settings(database_url=database_url, rules_dir=DATA / "rules", templates_dir=ROOT / "templates")
    import_paths(engine, [DATA / "small-owners.yaml", DATA / "small-plan.yaml"], settings, T0)
    with engine.begin() as conn:
        conn.execute(update(W).where(W.c.id == "zora").values(language="fr"))
    start_cursors(engine, T0)
    rules = load_rules(DATA / "rules")
    for at in (datetime(2000, 3, 17, 12, tzinfo=UTC), datetime(2000, 4, 20, 12, tzinfo=UTC)):
        run_tick(engine, rules, MemoryChannel(), RENDERER, at)
    yield engine
    engine.dispose()


def sent_to_zora(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        query = (
            select(OUT).where(OUT.c.recipient_id == "zora", OUT.c.status == "sent").order_by(OUT.c.sent_at, OUT.c.id)
        )
        return [dict(r) for r in conn.execute(query).mappings()]


def body(engine: Engine, row: dict[str, Any], preload: bool = True) -> tuple[str, str]:
    with engine.connect() as conn:
        cache = ContextCache(conn)
        if preload:
            cache.preload([row])
        msg = message_from_bytes(as_bytes(compose(RENDERER, cache, row, row["due_at"])), policy=email_policy.default)
        conn.rollback()
    assert isinstance(msg, EmailMessage)
    plain = msg.get_body(("plain",))
    assert plain is not None
    return str(msg["Subject"]), plain.get_content()


def test_an_owner_reading_french_gets_french_messages_and_the_thread_keeps_its_language(french_zora: Engine) -> None:
    engine = french_zora
    sent = sent_to_zora(engine)
    assert sent and sent[0]["payload"]["language"] == "fr"  # the first message of the thread keeps its language
    first = body(engine, sent[0])[1]
    assert "Bonjour Zora Z," in first and "Dear" not in first
    with engine.begin() as conn:  # Zora now reads Spanish: her open threads go on in French
        conn.execute(update(W).where(W.c.id == "zora").values(language="es"))
    later = [r for r in sent if r["action_id"] == sent[0]["action_id"] and r["id"] != sent[0]["id"]][-1]
    assert later["id"] != sent[0]["id"] and "language" not in later["payload"]
    assert "Bonjour Zora Z," in body(engine, later)[1]
    # a new thread (the escalation thread, where Zora would be a supervisor) starts in her language now
    other = later | {
        "payload": later["payload"] | {"role": "supervisor"},
        "type": "escalation",
        "template": "escalation",
    }
    subject, text = body(engine, other, preload=False)
    assert "Estimado/a Zora Z:" in text and "] Escalamiento: " in subject


def test_a_plan_in_spanish_writes_to_an_owner_without_a_language_in_spanish(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    settings = Settings(database_url=database_url, rules_dir=DATA / "rules", templates_dir=ROOT / "templates")
    import_paths(engine, [DATA / "small-owners.yaml", DATA / "small-plan.yaml"], settings, T0)
    with engine.begin() as conn:
        conn.execute(update(P).values(language="es"))
    start_cursors(engine, T0)
    run_tick(engine, load_rules(DATA / "rules"), MemoryChannel(), RENDERER, datetime(2000, 3, 17, 12, tzinfo=UTC))
    sent = sent_to_zora(engine)
    assert sent and sent[0]["payload"]["language"] == "es"
    assert "Vence dentro de 14 días (31 de marzo de 2000)" in body(engine, sent[0])[1]
    engine.dispose()
