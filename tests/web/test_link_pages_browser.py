"""E-mail links in a real browser: the engine runs the small plan and writes its messages to a Maildir; a
person opens the message's HTML in Chromium, follows a button to the web app served by uvicorn, and
confirms on the page it opens. Checked in the database and on the pages, as that person sees them.

The served app's clock is the engine's: the links are valid from the moment their message is sent.
Without Chromium these tests skip on a workstation and fail in CI (see ``tests/web_support.py``).
"""

from __future__ import annotations

import mailbox
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import col, select

from engine.channels.maildir import MaildirChannel
from engine.clock import FixedClock
from engine.drive.simulate import simulate
from engine.drive.tick import run_tick
from engine.importing import import_paths
from engine.mail.compose import renderer_for
from engine.mail.render import Renderer
from engine.rules.loader import RuleSet, load_rules
from engine.settings import Settings
from engine.store import make_engine, transaction, upgrade
from engine.store.models import Action, Escalation, Outbox
from engine.web import create_app

from ..conftest import ROOT
from ..smtpserver import free_port
from ..web_support import SECRET, browser_sign_in, serving, shoot

DATA = ROOT / "tests" / "data"
T0 = datetime(2000, 1, 3, 12, tzinfo=UTC)  # the small plan is imported


@dataclass
class Small:
    """The small plan run by the engine, its Maildir, and the web app serving its database."""

    engine: Engine
    settings: Settings
    rules: RuleSet
    renderer: Renderer
    channel: MaildirChannel
    maildir: Path
    clock: FixedClock
    base: str

    def run_until(self, until: datetime) -> None:
        """Run the engine from T0 to ``until`` (its messages go to the Maildir); the web app's clock follows."""
        simulate(self.engine, self.rules, self.channel, self.renderer, T0, until)
        self.clock.set(until)

    def tick(self, at: datetime) -> None:
        """One tick at ``at`` (sends what was queued by then); the web app's clock follows."""
        run_tick(self.engine, self.rules, self.channel, self.renderer, at)
        self.clock.set(at)

    def messages(self, to: str, subject: str) -> list[EmailMessage]:
        """Return the messages in the Maildir to ``to`` whose subject holds ``subject``, oldest first."""
        box = mailbox.Maildir(self.maildir, create=False)
        found = []
        for key in box.iterkeys():
            with box.get_file(key) as raw:
                parsed = message_from(raw.read())
            if to in str(parsed["To"]) and subject in str(parsed["Subject"]):
                found.append(parsed)
        return sorted(found, key=lambda m: m["Date"].datetime)


def message_from(data: bytes) -> EmailMessage:
    """Parse a message's bytes as a person's mail program would."""
    parsed = message_from_bytes(data, policy=default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def html_of(message: EmailMessage) -> str:
    """Return the HTML part of a message."""
    part = message.get_body(("html",))
    assert part is not None, f"{message['Subject']} has no HTML part"
    return str(part.get_content())


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies) and page, narrower than the other pages' (the browser: conftest.py)."""
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    context.set_default_timeout(10_000)
    opened = context.new_page()
    yield opened
    context.close()


@pytest.fixture
def small(tmp_path: Path) -> Iterator[Small]:
    """The small plan and its owners in a fresh SQLite file, cursors at T0, and the web app serving it."""
    port = free_port()
    url = f"sqlite:///{tmp_path / 'planwatch.db'}"
    settings = Settings(
        database_url=url,
        rules_dir=DATA / "rules",
        templates_dir=ROOT / "templates",
        maildir=tmp_path / "mail",
        base_url=f"http://127.0.0.1:{port}",
        secret_key=SECRET,
        feed_cache_seconds=0,
    )
    engine = make_engine(url)
    upgrade(engine)
    import_paths(engine, [DATA / "small-owners.yaml", DATA / "small-plan.yaml"], settings, T0)
    clock = FixedClock(T0)
    rules = load_rules(DATA / "rules")
    channel = MaildirChannel(tmp_path / "mail")
    with serving(create_app(settings, clock=clock, engine=engine), port) as base:
        yield Small(engine, settings, rules, renderer_for(settings), channel, tmp_path / "mail", clock, base)
    engine.dispose()


def open_email(page: Any, message: EmailMessage) -> None:
    """Show a message's HTML in the browser, as a mail program would."""
    page.set_content(html_of(message))


def steps_of(engine: Engine, ref: str) -> list[Escalation]:
    """Return the escalation log of the action ``ref``, oldest first."""
    with transaction(engine) as session:
        query = select(Escalation).join(Action).where(col(Action.ref) == ref).order_by(col(Escalation.at))
        return list(session.exec(query).all())


def test_a_supervisor_acknowledges_from_the_escalation_email(small: Small, page: Any) -> None:
    small.run_until(datetime(2000, 4, 7, 12, tzinfo=UTC))  # I.1.1 was due on 31 March; mid hears on 7 April
    mails = small.messages("mid@example.org", "[I.1.1] Escalation")
    assert len(mails) == 1, [m["Subject"] for m in small.messages("mid@example.org", "")]
    open_email(page, mails[0])
    assert page.get_by_text("Zora Z's action I.1.1").first.is_visible()
    assert page.get_by_role("link", name="Not mine").count() == 0  # a supervisor's message has no owner's buttons
    page.get_by_role("link", name="Acknowledge", exact=True).click()
    page.wait_for_url(f"{small.base}/a/**/acknowledge")
    assert page.get_by_role("heading", name="Acknowledge the escalation").is_visible()
    assert all(s.acknowledged_at is None for s in steps_of(small.engine, "I.1.1"))  # opening changed nothing
    page.get_by_label("Note (optional)").fill("Zora's report is with the printers")
    shoot(page, "email-acknowledge-confirm")
    page.get_by_role("button", name="Acknowledge", exact=True).click()
    assert page.get_by_role("heading", name="Acknowledged").is_visible()
    # The step sent to her (the supervisor's) is acknowledged with her note; the owner's own step is not hers.
    assert [(s.step, s.acknowledged_by, s.ack_note) for s in steps_of(small.engine, "I.1.1")] == [
        ("escalate:1", None, ""),
        ("escalate:2", "mid", "Zora's report is with the printers"),
    ]
    assert all(s.acknowledged_at is None for s in steps_of(small.engine, "I.1.4"))  # only the action acknowledged
    # On the escalations page, where the message's "Open in planwatch" leads once signed in.
    browser_sign_in(page, small.settings, "mid", small.clock.now())
    open_email(page, mails[0])
    page.get_by_role("link", name="Open in planwatch").click()
    page.wait_for_url("**/escalations?action=I.1.1")
    page.get_by_label("Show").select_option("acknowledged")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**state=acknowledged**")
    row = page.locator("tr", has=page.get_by_role("link", name="I.1.1"))
    assert row.get_by_text("Acknowledged by Middle Manager").first.is_visible()
    assert row.get_by_text("Zora's report is with the printers").first.is_visible()
    shoot(page, "email-acknowledged-escalations")


def test_a_supervisor_grants_an_extension_from_the_notification(small: Small, page: Any) -> None:
    small.run_until(datetime(2000, 3, 17, 12, tzinfo=UTC))  # Zora is reminded of I.1.1, due 31 March
    reminder = small.messages("zora@example.org", "[I.1.1]")
    assert len(reminder) == 1
    open_email(page, reminder[0])
    page.get_by_role("link", name="Ask for an extension").click()
    page.get_by_label("New due date").fill("2000-04-28")
    page.get_by_label("Why more time is needed").fill("The partner's data comes in April")
    page.get_by_role("button", name="Ask for the extension").click()
    assert page.get_by_role("heading", name="Extension of I.1.1 to 28 April 2000 requested").is_visible()
    small.tick(small.clock.now() + timedelta(minutes=5))  # the request's message goes out
    asked = small.messages("mid@example.org", "I.1.1")
    assert len(asked) == 1
    open_email(page, asked[0])
    assert page.get_by_text("The partner's data comes in April").is_visible()
    page.get_by_role("link", name="Grant the extension").click()
    page.wait_for_url(f"{small.base}/a/**/grant")
    assert page.get_by_role("heading", name="Grant the extension").is_visible()
    page.get_by_label("Note to the owner (optional)").fill("Granted; no later than that")
    shoot(page, "email-grant-confirm")
    page.get_by_role("button", name="Grant the extension").click()
    assert page.get_by_role("heading", name="Extension granted").is_visible()
    with transaction(small.engine) as session:
        action = session.exec(select(Action).where(col(Action.ref) == "I.1.1")).one()
        assert (action.due, action.extended_to) == (date(2000, 3, 31), date(2000, 4, 28))
        told = session.exec(select(Outbox).where(col(Outbox.template) == "extension_granted")).all()
        assert [(m.recipient_id, m.status) for m in told] == [("zora", "pending")]
    small.tick(small.clock.now() + timedelta(minutes=5))  # and it reaches her, with both dates and the note
    granted = small.messages("zora@example.org", "[I.1.1]")[-1]
    open_email(page, granted)
    assert page.get_by_text("Extended to 28 April 2000 (was due 31 March 2000)").first.is_visible()
    assert page.get_by_text("Granted; no later than that", exact=False).first.is_visible()
    # Zora sees both dates on the action's page.
    browser_sign_in(page, small.settings, "zora", small.clock.now())
    page.goto(f"{small.base}/actions/small/I.1.1")
    due = page.locator("dt", has_text="Due").locator("xpath=following-sibling::dd[1]")
    assert due.inner_text() == "28 April 2000 (extended from 31 March 2000)"
    shoot(page, "email-extension-granted-action")
