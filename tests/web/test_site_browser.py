"""The pages in a real browser: Debian's Chromium driven by Playwright against a real uvicorn server.

Never a browser download: Playwright launches ``/usr/bin/chromium`` (or $PLANWATCH_CHROMIUM).
Without it these tests skip on a workstation and fail in CI (``CI`` set), where ``.ci/run``
installs it (``tests/web_support.py`` holds the server and browser set-up the browser tests share).
Each test saves a screenshot under ``tests/screenshots/``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from engine.actions.signin import signin_url
from engine.clock import FixedClock
from engine.settings import Settings
from engine.store import transaction
from engine.store.models import Action, Escalation
from engine.web import create_app

from ..smtpserver import free_port
from ..web_support import NOW, browser_sign_in, link_path, serving, shoot, web_settings, web_world


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Engine, Settings]]:
    """A real uvicorn server on 127.0.0.1 over the example world; yields its base URL."""
    port = free_port()
    url = f"sqlite:///{tmp_path_factory.mktemp('web') / 'planwatch.db'}"
    engine = web_world(url)
    settings = web_settings(url, base_url=f"http://127.0.0.1:{port}")
    with serving(create_app(settings, clock=FixedClock(NOW), engine=engine), port) as base:
        yield base, engine, settings
    engine.dispose()


sign_in = browser_sign_in


def test_sign_in_by_link(server, page) -> None:  # type: ignore[no-untyped-def]
    base, _, settings = server
    page.goto(f"{base}/my")
    assert page.get_by_role("heading", name="Sign in").is_visible()
    page.goto(signin_url(settings, "pardev", NOW))
    assert page.get_by_role("heading", name="Sign in as Rafael Quispe").is_visible()
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/my")
    assert page.get_by_role("heading", name="My actions").is_visible()
    assert page.get_by_role("link", name="III.a.1").is_visible()
    cookie = next(c for c in page.context.cookies() if c["name"] == "pw_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    # The markup in a title arrives as text: no script ran, no element was made.
    assert page.locator("b", has_text="bold").count() == 0
    assert page.get_by_text('<script>alert("x")</script>', exact=False).count() >= 1
    shoot(page, "my-actions")


def test_acknowledge_an_escalation(server, page) -> None:  # type: ignore[no-untyped-def]
    _, engine, settings = server
    sign_in(page, settings, "ed-devcoop")
    page.get_by_role("link", name="Escalations", exact=True).click()
    row = page.locator("tr", has=page.get_by_role("link", name="III.d.1"))
    row.get_by_label("Select III.d.1").check()
    page.get_by_label("Note (optional)").fill("Spoke to Rafael; partner found")
    page.get_by_role("button", name="Acknowledge selected").click()
    page.wait_for_url("**ok=acknowledged**")
    assert page.get_by_role("status").filter(has_text="Escalation acknowledged.").is_visible()
    with transaction(engine) as session:
        entry = session.exec(select(Escalation).join(Action).where(Action.ref == "III.d.1")).one()
        assert (entry.acknowledged_by, entry.ack_note) == ("ed-devcoop", "Spoke to Rafael; partner found")
    page.get_by_label("Show").select_option("acknowledged")
    page.get_by_role("button", name="Filter").click()
    assert page.get_by_text("Acknowledged by Amara Okafor").first.is_visible()
    shoot(page, "escalations")


def test_report_an_action_implemented_from_an_email_link(server, page) -> None:  # type: ignore[no-untyped-def]
    base, engine, settings = server
    page.goto(base + link_path(settings, "III.b.1", "pardev", "done"))
    assert page.get_by_role("heading", name="Report this action implemented").is_visible()
    with transaction(engine) as session:
        assert (
            session.exec(select(Action.status).where(Action.ref == "III.b.1")).one() == "open"
        )  # opening changed nothing
    page.get_by_label("What was done (optional)").fill("Report sent to the Governing Body")
    page.get_by_label("Links to the evidence (one per line, optional)").fill("https://example.org/gb-report")
    shoot(page, "email-link-confirm")
    page.get_by_role("button", name="Report it implemented").click()
    assert page.get_by_role("heading", name="Reported the action implemented", exact=False).is_visible()
    with transaction(engine) as session:
        assert session.exec(select(Action.status).where(Action.ref == "III.b.1")).one() == "reported"
    shoot(page, "email-link-done")
    page.goto(base + link_path(settings, "III.b.1", "pardev", "done"))
    assert page.get_by_role("heading", name="This link was already used").is_visible()


def test_see_the_timeline(server, page) -> None:  # type: ignore[no-untyped-def]
    _, _, settings = server
    sign_in(page, settings, "secretariat")
    page.get_by_role("link", name="Plan", exact=True).click()
    timeline = page.locator("figure.timeline svg")
    assert timeline.is_visible()
    box = timeline.bounding_box()
    assert box is not None and box["width"] > 600 and box["height"] > 100
    assert page.locator("figure.timeline svg path").count() > 10  # diamonds at due dates
    assert page.get_by_role("heading", name="Counts per Part").is_visible()
    assert page.get_by_role("heading", name="Needs review (13)").is_visible()
    mark = page.get_by_role("img", name="I.1a.1", exact=False).first  # each mark is named for screen readers
    mark.focus()  # and reached by keyboard, its tooltip shown while it has focus
    assert page.locator(".tip").is_visible() and page.locator(".tip").inner_text().startswith("I.1a.1 ")
    shoot(page, "plan-timeline")


def test_the_pages_are_usable_from_the_keyboard(server, page) -> None:  # type: ignore[no-untyped-def]
    _, _, settings = server
    sign_in(page, settings, "hrd")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.get_by_text("Report progress").first.focus()
    page.keyboard.press("Enter")  # a <details> opens from the keyboard
    assert page.get_by_role("radio", name="At risk").first.is_visible()
    shoot(page, "keyboard")
