"""Follow-up in a real browser: an owner updates all their actions at once; an owner reports an action implemented
with a file and the verifier confirms it; another is returned with a comment.

A real uvicorn server over the example world, Debian's Chromium driven by Playwright (see
``tests/web_support.py``); without Chromium these tests skip on a workstation and fail in CI.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from engine.clock import FixedClock
from engine.settings import Settings
from engine.store import transaction
from engine.store.followup_models import ClosureReport, Evidence, ProgressUpdate
from engine.store.models import Action
from engine.web import create_app

from ..smtpserver import free_port
from ..web_support import NOW, action_id, browser_sign_in, chromium, serving, shoot, web_settings, web_world

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Engine, Settings]]:
    """A real uvicorn server on 127.0.0.1 over the example world; yields its base URL."""
    port = free_port()
    url = f"sqlite:///{tmp_path_factory.mktemp('followup') / 'planwatch.db'}"
    engine = web_world(url)
    settings = web_settings(url, base_url=f"http://127.0.0.1:{port}")
    with serving(create_app(settings, clock=FixedClock(NOW), engine=engine), port) as base:
        yield base, engine, settings
    engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium (the system's own), launched once for the module."""
    with chromium() as launched:
        yield launched


@pytest.fixture
def new_page(browser: Any) -> Iterator[Any]:
    """Make fresh browser contexts (no cookies), one per person."""
    contexts: list[Any] = []

    def make() -> Any:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def _status(engine: Engine, ref: str) -> str:
    with transaction(engine) as session:
        return session.exec(select(Action.status).where(Action.ref == ref)).one()


def test_an_owner_updates_all_their_actions_on_one_page(server, new_page) -> None:  # type: ignore[no-untyped-def]
    base, engine, settings = server
    page = new_page()
    browser_sign_in(page, settings, "hrd")
    page.get_by_role("link", name="Update all").click()
    page.wait_for_url("**/updates")
    assert page.locator("h1").inner_text() == "Update your actions"
    page.get_by_label("What has been done on II.3.1").fill("Twelve offices trained")
    page.get_by_label("Percent complete of II.3.1").fill("60")
    page.get_by_label("A file about II.3.1").set_input_files(
        {"name": "list.csv", "mimeType": "text/csv", "buffer": b"office,trained\nLima,12\n"}
    )
    page.get_by_label("What has been done on II.3.4").fill("Trainers not hired yet")
    page.get_by_label("How II.3.4 is going").select_option("at risk")
    shoot(page, "updates-filled")
    page.get_by_role("button", name="Save all").click()
    page.wait_for_url("**/updates?ok=updated")
    assert page.get_by_role("status").inner_text() == "Your updates are saved. Thank you."
    with transaction(engine) as session:
        rows = session.exec(select(ProgressUpdate, Action).join(Action)).all()
        assert sorted((a.ref, u.text, u.percent, u.state) for u, a in rows) == [
            ("II.3.1", "Twelve offices trained", 60, "on track"),
            ("II.3.4", "Trainers not hired yet", None, "at risk"),
        ]
        assert [e.name for e in session.exec(select(Evidence)).all()] == ["list.csv"]
    page.goto(f"{base}/actions/{action_id(engine, 'II.3.1')}")
    updates = page.locator("table", has_text="What was done")
    assert "Twelve offices trained" in updates.inner_text() and "60%" in updates.inner_text()


def test_an_owner_reports_with_a_file_the_verifier_confirms_one_and_returns_another(server, new_page) -> None:  # type: ignore[no-untyped-def]
    base, engine, settings = server
    owner = new_page()
    browser_sign_in(owner, settings, "codev")
    for ref in ("II.2.2", "II.2.3"):
        owner.goto(f"{base}/actions/{action_id(engine, ref)}")
        owner.get_by_text(f"Report {ref} implemented").click()
        owner.get_by_label("What was done").fill(f"{ref} finished")
        owner.get_by_label("Files (optional").set_input_files(
            {"name": f"{ref}.pdf", "mimeType": "application/pdf", "buffer": PDF}
        )
        owner.get_by_role("button", name="Report it implemented").click()
        owner.wait_for_url("**ok=reported**")
        assert owner.get_by_role("status").filter(has_text="waiting for Amara Okafor to verify it").is_visible()
    assert _status(engine, "II.2.2") == _status(engine, "II.2.3") == "reported"
    verifier = new_page()
    browser_sign_in(verifier, settings, "ed-devcoop")
    verifier.get_by_role("link", name="To verify").click()
    first = verifier.locator("li.card", has_text="II.2.2 finished")
    with verifier.expect_download() as fetched:
        first.get_by_role("link", name="II.2.2.pdf").click()
    assert fetched.value.suggested_filename == "II.2.2.pdf"
    assert Path(fetched.value.path()).read_bytes() == PDF
    shoot(verifier, "verify-queue")
    first.get_by_role("button", name="Confirm II.2.2 implemented").click()
    verifier.wait_for_url("**/verify?ok=verified")
    assert _status(engine, "II.2.2") == "done"
    second = verifier.locator("li.card", has_text="II.2.3 finished")
    second.get_by_role("button", name="Return II.2.3 to its owner").click()  # the comment is required: nothing sent
    assert verifier.url.endswith("/verify?ok=verified") and _status(engine, "II.2.3") == "reported"
    second.get_by_label("What is missing (required)").fill("The attendance list is missing")
    second.get_by_role("button", name="Return II.2.3 to its owner").click()
    verifier.wait_for_url("**/verify?ok=returned")
    assert "Nothing waits for your verification" in verifier.locator("main").inner_text()
    assert _status(engine, "II.2.3") == "open"
    with transaction(engine) as session:
        decided = {r.status for r in session.exec(select(ClosureReport)).all()}
        assert decided == {"verified", "returned"}
    owner.goto(f"{base}/actions/{action_id(engine, 'II.2.3')}")
    assert "The attendance list is missing" in owner.locator("main").inner_text()
    assert owner.get_by_text("Report II.2.3 implemented").is_visible()
