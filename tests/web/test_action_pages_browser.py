"""*My actions* in a real browser: an owner subscribes to their calendar from ``/my`` and rotates the links.

A real uvicorn server over the example world, Debian's Chromium driven by Playwright (see
``tests/web_support.py``); without Chromium these tests skip on a workstation and fail in CI.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from engine.clock import FixedClock
from engine.settings import Settings
from engine.web import create_app

from ..smtpserver import free_port
from ..web_support import NOW, browser_sign_in, serving, shoot, web_settings, web_world


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Engine, Settings]]:
    """A real uvicorn server on 127.0.0.1 over the example world; yields its base URL."""
    port = free_port()
    url = f"sqlite:///{tmp_path_factory.mktemp('my') / 'planwatch.db'}"
    engine = web_world(url)
    settings = web_settings(url, base_url=f"http://127.0.0.1:{port}")
    with serving(create_app(settings, clock=FixedClock(NOW), engine=engine), port) as base:
        yield base, engine, settings
    engine.dispose()


def shown_links(page: Any, base: str) -> dict[str, tuple[str, str]]:
    """Return the calendar links /my shows, by name: (the https or http address, the webcal one)."""
    found = {}
    for item in page.locator("#calendar ~ ul.feeds > li").all():
        name = item.locator("strong").inner_text()
        web = item.locator("code").inner_text()
        webcal = item.get_by_role("link", name="Subscribe in your calendar app").get_attribute("href")
        assert web.startswith(f"{base}/feeds/") and web.endswith(".ics"), web
        assert webcal == "webcal://" + web.removeprefix("http://"), (web, webcal)
        found[name] = (web, webcal)
    return found


def test_an_owner_subscribes_from_my_actions_and_rotates_the_link(server, page) -> None:  # type: ignore[no-untyped-def]
    base, _, settings = server
    browser_sign_in(page, settings, "hrd")
    calendar = page.get_by_role("region", name="Calendar")
    assert calendar.get_by_text("Subscribe to your actions").is_visible()
    calendar.get_by_role("button", name="Get my calendar links").click()
    assert page.get_by_text("Copy them now").is_visible()
    first = shown_links(page, base)
    assert list(first) == ["Your actions"]  # Kwame supervises nobody: no team feed
    old = first["Your actions"][0]
    served = page.request.get(old)
    assert served.status == 200 and served.headers["content-type"].startswith("text/calendar")
    assert served.text().startswith("BEGIN:VCALENDAR") and "Kwame Mensah" in served.text()
    shoot(page, "my-calendar-links")
    # Each event links to the action's page, which opens for its owner.
    lines = served.text().replace("\r\n ", "").splitlines()  # unfolded (RFC 5545 §3.1)
    event_url = next(line.removeprefix("URL:") for line in lines if line.startswith("URL:"))
    assert event_url.startswith(f"{base}/actions/gb276-tc2/")
    page.goto(event_url)
    assert page.locator("h1").inner_text().startswith(event_url.rpartition("/")[2] + " ")
    # Back on /my the links are not shown again (only their hash is kept); rotating makes new ones.
    page.goto(f"{base}/my")
    calendar = page.get_by_role("region", name="Calendar")
    assert calendar.get_by_text("You have calendar links").is_visible()
    calendar.get_by_role("button", name="Rotate: make new calendar links").click()
    assert page.get_by_text("Links you had before no longer work").is_visible()
    new = shown_links(page, base)["Your actions"][0]
    assert new != old
    assert page.request.get(old).status in (404, 410)
    again = page.request.get(new)
    assert again.status == 200 and again.text().startswith("BEGIN:VCALENDAR")


def test_a_supervisor_also_gets_the_team_calendar(server, page) -> None:  # type: ignore[no-untyped-def]
    base, _, settings = server
    browser_sign_in(page, settings, "ed-devcoop")
    page.get_by_role("button", name="Get my calendar links").click()
    links = shown_links(page, base)
    assert list(links) == ["Your actions", "Your team's actions and open escalations"]
    team = page.request.get(links["Your team's actions and open escalations"][0])
    assert team.status == 200 and "III.d.1" in team.text()  # Rafael Quispe's action, below her
