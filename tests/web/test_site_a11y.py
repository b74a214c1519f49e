"""Every page of the web app, checked with axe-core in Chromium: no serious or critical violation.

axe-core comes from ``tests/js``'s lock file (``npm ci`` in ``make test``); its ``axe.min.js`` is
injected into each page (the browser lets it past the pages' Content-Security-Policy), as served by
a real uvicorn server over the example world, signed in as the person who sees it. A violation
fails the test with its rule, the elements it names and axe's help. Without Chromium or axe-core
the checks skip on a workstation and fail in CI (``CI`` set).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from engine.actions.evidence import EvidenceStore, attach_file
from engine.actions.extensions import request_extension
from engine.actions.followup import report_implemented
from engine.actions.links import preferences_url, updates_url
from engine.actions.signin import signin_url
from engine.actions.workflow import progress
from engine.clock import FixedClock
from engine.settings import Settings
from engine.store import transaction
from engine.store.models import Action
from engine.web import create_app

from ..smtpserver import free_port
from ..web_support import (
    NOW,
    action_id,
    axe_violations,
    browser_sign_in,
    chromium,
    link_path,
    serving,
    web_settings,
    web_world,
)

SECOND = Path(__file__).parent.parent / "data" / "gb350-pfa7-plan-of-action.txt"  # a plan the world does not hold
World = tuple[str, Engine, Settings, str]
EXTENDED = "III.b.1"  # pardev's; an extension request waits for ed-devcoop
REPORTED = "II.2.2"  # codev's; reported implemented with a file, waiting for ed-devcoop


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The example world with a pending extension request, served on 127.0.0.1; yields (base, engine, settings, ref)."""
    port = free_port()
    url = f"sqlite:///{tmp_path_factory.mktemp('a11y') / 'planwatch.db'}"
    engine = web_world(url)
    settings = web_settings(url, base_url=f"http://127.0.0.1:{port}")
    with transaction(engine) as session:
        action = session.exec(select(Action).where(col(Action.ref) == EXTENDED)).one()
        assert action.due is not None
        request_extension(
            session, action, action.due + timedelta(days=30), NOW, who="pardev", via="web", reason="Partner late"
        )
        _follow_up(session)
    with serving(create_app(settings, clock=FixedClock(NOW), engine=engine), port) as base:
        yield base, engine, settings, EXTENDED
    engine.dispose()


def _follow_up(session: Session) -> None:
    """codev reports II.2.2 implemented with a file (ed-devcoop verifies it) and updates II.2.3."""
    reported = session.exec(select(Action).where(col(Action.ref) == REPORTED)).one()
    decision = report_implemented(session, reported, NOW, who="codev", via="web", note="Minutes attached")
    attach_file(
        session,
        reported,
        NOW,
        who="codev",
        name="minutes.pdf",
        data=b"%PDF-1.4\n%%EOF\n",
        store=EvidenceStore(),
        closure_id=decision.report.id if decision.report else None,
    )
    updated = session.exec(select(Action).where(col(Action.ref) == "II.2.3")).one()
    progress(session, updated, NOW, who="codev", via="web", note="Half done", percent=50)


def _campaign_link(w: World) -> str:
    return updates_url("", w[2].secret_key, "gb276-tc2", 1, "hrd", NOW)


Pages = Callable[..., Any]
DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 900}}
PHONE: dict[str, Any] = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.fixture(scope="module")
def pages(world: World) -> Iterator[Pages]:
    """``pages(person, phone=False)``: one browser page per person and device, signed in once (None: nobody)."""
    _, _, settings, _ = world
    opened: dict[tuple[str | None, bool], Any] = {}
    with chromium() as browser:

        def page_of(person: str | None, phone: bool = False) -> Any:
            if (person, phone) not in opened:
                # bypass_csp: the pages allow only their own scripts; axe's is injected by the test
                context = browser.new_context(**(PHONE if phone else DESKTOP), bypass_csp=True)
                context.set_default_timeout(10_000)
                opened[person, phone] = context.new_page()
                if person is not None:
                    browser_sign_in(opened[person, phone], settings, person)
            return opened[person, phone]

        yield page_of
        for made in opened.values():
            made.context.close()


def _signin(w: World) -> str:
    return signin_url(w[2], "pardev", NOW).removeprefix(w[2].base_url)


def _damaged(w: World) -> str:
    return link_path(w[2], "III.d.1", "pardev", "done")[:-12] + "x/done"


def _preferences(w: World) -> str:
    return preferences_url("", w[2].secret_key, "pardev", NOW)


def _link(verb: str, recipient: str, role: str, ref: str = "III.d.1") -> Callable[[World], str]:
    return lambda w: link_path(w[2], ref, recipient, verb, role=role)


# name: (who looks, path on the served app, how its heading begins)
PAGES: dict[str, tuple[str | None, Callable[[World], str], str]] = {
    "sign-in form": (None, lambda w: "/signin", "Sign in"),
    "sign-in link": (None, _signin, "Sign in as Rafael Quispe"),
    "sign-in required": (None, lambda w: "/my", "Sign in"),
    "link: report implemented": (None, _link("done", "pardev", "owner"), "Report this action implemented"),
    "link: cause of delay": (None, _link("delay", "pardev", "owner"), "Say why the action is late"),
    "link: report progress": (None, _link("progress", "pardev", "owner"), "Report progress"),
    "link: ask for an extension": (None, _link("extension", "pardev", "owner"), "Ask for an extension"),
    "link: not mine": (None, _link("not_mine", "pardev", "owner"), "This action is not mine"),
    "link: acknowledge": (None, _link("acknowledge", "ed-devcoop", "supervisor"), "Acknowledge the escalation"),
    "link: reassign": (None, _link("reassign", "ed-devcoop", "supervisor"), "Give the action to someone else"),
    "link: grant": (None, _link("grant", "ed-devcoop", "supervisor", EXTENDED), "Grant the extension"),
    "link: refuse": (None, _link("refuse", "ed-devcoop", "supervisor", EXTENDED), "Refuse the extension"),
    "link: damaged": (None, _damaged, "This link does not work"),
    "preferences": (None, _preferences, "Your notification preferences"),
    "my actions": ("pardev", lambda w: "/my", "My actions"),
    "action": ("pardev", lambda w: f"/actions/{action_id(w[1], EXTENDED)}", "III.b.1 "),
    "action by reference": ("pardev", lambda w: "/actions/gb276-tc2/III.d.1", "III.d.1 "),
    "my actions of a supervisor": ("ed-devcoop", lambda w: "/my", "My actions"),
    "escalations": ("ed-devcoop", lambda w: "/escalations", "Escalations"),
    "escalations of one action": ("ed-devcoop", lambda w: "/escalations?action=III.d.1", "Escalations"),
    "action seen by its supervisor": ("ed-devcoop", lambda w: f"/actions/{action_id(w[1], EXTENDED)}", "III.b.1 "),
    "action seen by the secretariat": ("secretariat", lambda w: f"/actions/{action_id(w[1], EXTENDED)}", "III.b.1 "),
    "escalations acknowledged": ("ed-devcoop", lambda w: "/escalations?state=acknowledged", "Escalations"),
    "plan": ("secretariat", lambda w: "/plan", "Plan: "),
    "report": ("secretariat", lambda w: "/report", "Progress report: "),
    "import": ("secretariat", lambda w: "/import", "Import a plan"),
    "update all": ("hrd", lambda w: "/updates", "Update your actions"),
    "update all from a campaign's link": (None, _campaign_link, "Update your actions"),
    "to verify": ("ed-devcoop", lambda w: "/verify", "To verify"),
    "action reported, with updates": ("codev", lambda w: f"/actions/{action_id(w[1], REPORTED)}", "II.2.2 "),
    "campaigns": ("secretariat", lambda w: "/campaigns", "Update campaigns"),
    "not found": ("secretariat", lambda w: "/actions/999999", "No such action"),
    "no such page": ("secretariat", lambda w: "/nowhere", "No such page"),
}


def _check(page: Any, name: str) -> None:
    found = axe_violations(page)
    assert not found, f"{name} ({page.url}): serious or critical accessibility violations:\n" + "\n".join(found)


@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_passes_axe(world: World, pages: Pages, name: str) -> None:
    who, path, heading = PAGES[name]
    page = pages(who)
    page.goto(world[0] + path(world))
    assert page.locator("h1").inner_text().startswith(heading), f"{name}: not the page asked for at {page.url}"
    _check(page, name)


def test_pages_after_a_button_pass_axe(world: World, pages: Pages) -> None:
    """The page a used link shows, the one it shows when used again, preferences saved, /my with new calendar
    links and with the undo of an action marked done."""
    base, _, settings, _ = world
    page = pages(None)
    page.goto(base + link_path(settings, "III.a.1", "pardev", "done"))
    page.get_by_role("button", name="Report it implemented").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().startswith("Reported ")
    _check(page, "link used")
    page.goto(base + link_path(settings, "III.a.1", "pardev", "done"))
    assert page.get_by_role("heading", name="This link was already used").is_visible()
    _check(page, "link used again")
    page.goto(base + _preferences(world))
    page.get_by_role("button", name="Save").click()
    assert page.get_by_role("status").filter(has_text="Saved").is_visible()
    _check(page, "preferences saved")
    mine = pages("hrd")
    mine.goto(base + "/my")
    mine.get_by_role("button", name="Get my calendar links").click()
    mine.wait_for_load_state()
    assert mine.get_by_text("Copy them now").is_visible()
    _check(mine, "my actions with new calendar links")
    mine.get_by_role("button", name="Report II.3.6 implemented").click()
    assert mine.get_by_role("status").filter(has_text="Reported implemented").is_visible()
    _check(mine, "my actions after a report of implementation")


ON_A_PHONE = ["sign-in link", "link: acknowledge", "link: ask for an extension", "my actions", "action"]


def test_the_pages_opened_from_messages_pass_axe_on_a_phone(world: World, pages: Pages) -> None:
    """The pages people reach from a message, on a phone's screen (touch, 390 pixels wide)."""
    found = []
    for name in ON_A_PHONE:
        who, path, heading = PAGES[name]
        page = pages(who, phone=True)
        page.goto(world[0] + path(world))
        assert page.locator("h1").inner_text().startswith(heading), f"{name}: not the page asked for at {page.url}"
        found += [f"{name}: {line}" for line in axe_violations(page)]
    assert not found, "serious or critical accessibility violations on a phone:\n" + "\n".join(found)


def test_the_import_pages_pass_axe(world: World, pages: Pages, tmp_path: Path) -> None:
    """The secretariat's import: a file's error, the preview, the plan imported."""
    page = pages("secretariat")
    broken = tmp_path / "broken.yaml"
    broken.write_text("plan: [\n", encoding="utf-8")
    page.goto(world[0] + "/import")
    page.get_by_label("Plan file").set_input_files(str(broken))
    page.get_by_role("button", name="Preview the import").click()
    assert page.get_by_role("alert").filter(has_text="broken.yaml was not imported").is_visible()
    _check(page, "import refused")
    page.get_by_label("Plan file").set_input_files(str(SECOND))
    page.get_by_role("button", name="Preview the import").click()
    assert page.locator("h1").inner_text() == f"Preview of {SECOND.name}"
    _check(page, "import preview")
    page.get_by_role("button", name=f"Import {SECOND.name}").click()
    assert page.locator("h1").inner_text() == "Plan imported"
    _check(page, "plan imported")
    for name in ("plan", "report"):  # the pages of all plans, now two
        page.goto(world[0] + PAGES[name][1](world))
        assert page.locator("h1").inner_text().startswith(PAGES[name][2])
        _check(page, f"{name} of two plans")


def test_the_campaign_confirmation_passes_axe(world: World, pages: Pages) -> None:
    """The page that says who a campaign will ask, before anything is sent."""
    page = pages("secretariat")
    page.goto(world[0] + "/campaigns")
    page.get_by_role("button", name="See who will be asked").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Start the campaign"
    _check(page, "campaign confirmation")
