"""Previews: a day's messages rendered on a scratch copy (nothing recorded), and the test message."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import Engine

from engine.channels import MemoryChannel
from engine.drive.preview import message_size, preview_rendered, print_rendered, send_test
from engine.drive.simulate import start_cursors
from engine.importing import import_paths
from engine.mail.messages import as_bytes
from engine.mail.render import Renderer
from engine.rules.loader import load_rules
from engine.settings import Settings
from engine.store import make_engine, upgrade

from ..conftest import ROOT, snapshot

DATA = Path(__file__).parent.parent / "data"
T0 = datetime(2000, 1, 3, 12, tzinfo=UTC)


@pytest.fixture
def small(database_url: str, tmp_path: Path) -> Iterator[tuple[Engine, Settings]]:
    """The small plan and its owners in a fresh database, cursors at T0."""
    engine = make_engine(database_url)
    upgrade(engine)
    settings = Settings(
        database_url=database_url, rules_dir=DATA / "rules", templates_dir=ROOT / "templates", maildir=tmp_path / "mail"
    )
    import_paths(engine, [DATA / "small-owners.yaml", DATA / "small-plan.yaml"], settings, T0)
    start_cursors(engine, T0)
    yield engine, settings
    engine.dispose()


def test_a_days_messages_are_rendered_on_a_copy_and_the_store_is_untouched(small: tuple[Engine, Settings]) -> None:
    engine, settings = small
    before = snapshot(settings.database_url)
    rows = preview_rendered(
        engine, settings, load_rules(DATA / "rules"), Renderer([ROOT / "templates"]), date(2000, 3, 17)
    )
    assert {(r["action"], r["recipient_id"], r["step"]) for r in rows} >= {
        ("I.1.1", "zora", "remind:due:14d"),
        ("I.1.2", "boon", "remind:due:14d"),
        ("I.1.3", "luz", "remind:due:14d"),
    }
    zora = next(r for r in rows if r["action"] == "I.1.1" and r["step"] == "remind:due:14d")
    assert zora["subject"] == "[I.1.1] Zurich deadline" and zora["to"] == "Zora Z <zora@example.org>"
    assert zora["text"].startswith("Due in 14 days (31 March 2000)") and zora["html"]
    assert zora["attachments"] == ["small-i.1.1-due-2000-03-31.ics"]
    assert snapshot(settings.database_url) == before


def test_a_preview_can_be_narrowed_to_one_action(small: tuple[Engine, Settings]) -> None:
    engine, settings = small
    rows = preview_rendered(
        engine, settings, load_rules(DATA / "rules"), Renderer([ROOT / "templates"]), date(2000, 3, 17), "I.1.3"
    )
    assert [(r["action"], r["recipient"]) for r in rows] == [("I.1.3", "luz@example.org")]


def test_the_test_message_is_a_reminder_a_week_ahead_delivered_over_the_channel() -> None:
    channel = MemoryChannel()
    now = datetime(2000, 3, 24, 8, tzinfo=UTC)
    sent = send_test(channel, Renderer([ROOT / "templates"]), "someone@example.org", now)
    assert channel.messages == [sent]
    msg = message_from_bytes(as_bytes(sent), policy=email_policy.default)
    assert msg["To"].addresses[0].addr_spec == "someone@example.org"  # type: ignore[attr-defined]
    assert msg.get_body(("plain",)).get_content().splitlines()[0] == "Due in 7 days (31 March 2000)"  # type: ignore[union-attr]
    assert message_size(sent) == len(as_bytes(sent)) > 1000


def test_preview_render_shows_each_message_as_it_would_be_sent_and_records_nothing(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("import", "plans/owners.yaml", "plans/gb276-tc2-implementation-plan.txt").code == 0
    before = snapshot(cli.url)
    shown = cli("preview", "--date", "2000-03-31", "--render", "--action", "I.1a.1")
    assert shown.code == 0, shown.err
    lines = shown.out.splitlines()
    assert "To: Jonas Lindqvist <jonas.lindqvist@example.org>" in lines
    assert any(line.startswith("Subject: [I.1a.1] ") for line in lines)
    assert "Due in 30 days (30 April 2000)" in lines
    assert "attachment: gb276-tc2-i.1a.1-due-2000-04-30.ics" in shown.out
    assert lines[-1] == "1 message(s)."
    rows = [json.loads(line) for line in cli("preview", "--date", "2000-03-31", "--render", "--json").out.splitlines()]
    assert len(rows) > 1 and all(r["text"] and r["html"] and r["subject"] for r in rows)
    assert snapshot(cli.url) == before


def test_a_message_that_cannot_be_built_is_reported_not_left_out(
    small: tuple[Engine, Settings], tmp_path: Path
) -> None:
    engine, settings = small
    rules = tmp_path / "rules"
    rules.mkdir()
    text = (DATA / "rules" / "policies.yaml").read_text(encoding="utf-8")
    (rules / "policies.yaml").write_text(text.replace("template: overdue", "template: overdu", 1), encoding="utf-8")
    rows = preview_rendered(engine, settings, load_rules(rules), Renderer([ROOT / "templates"]), date(2000, 4, 3))
    failed = [r for r in rows if r["error"]]
    assert {(r["action"], r["type"]) for r in failed} == {
        ("I.1.1", "overdue"),
        ("I.1.2", "overdue"),
        ("I.1.3", "overdue"),
    }
    assert all(r["error"].endswith("template not found: email/overdu.txt.j2") for r in failed)
    console = Console(record=True, width=200)
    print_rendered(console, rows)
    out = console.export_text().splitlines()
    assert out[-1] == f"{len(rows) - 3} message(s). 3 cannot be built (see above)."
    assert sum(line.startswith("NOT SENT: cannot build the message: ") for line in out) == 3
