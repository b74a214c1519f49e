"""Shared set-up for the web-page tests: the example plan with a few escalations, signed-in clients, and
for the browser tests a real uvicorn server and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import select

from engine.actions.links import action_links
from engine.actions.signin import signin_url
from engine.importing import import_paths
from engine.settings import Settings
from engine.store import make_engine, transaction, upgrade
from engine.store.models import Action, Escalation

from .conftest import OWNERS, ROOT, SEED

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = Path(__file__).parent / "screenshots"

T0 = datetime(1999, 10, 1, 8, tzinfo=UTC)  # the example plan is imported
NOW = datetime(2000, 6, 1, 12, tzinfo=UTC)  # the pages are looked at
SECRET = "a-test-secret-that-is-long-enough"
XSS = '<script>alert("x")</script> & <b>bold</b>'
# ref, level, days overdue, fired (days before NOW), acknowledged by, sent to
ESCALATIONS = [
    ("I.2b.1", 2, 20, 3, None, "codev"),  # ro-bangkok, below codev
    ("I.2a.1", 1, 5, 1, None, "ed-devcoop"),  # codev's own
    ("III.d.1", 2, 30, 2, None, "ed-devcoop"),  # pardev's, the title has markup
    ("I.3b.3", 1, 60, 10, "ed-devcoop", "ed-devcoop"),  # norms', acknowledged
]


def web_settings(url: str, **changes: object) -> Settings:
    """Settings for the pages: a secret key, the TestClient's base URL, the project's rules and templates."""
    base = Settings(
        database_url=url,
        rules_dir=ROOT / "rules",
        templates_dir=ROOT / "templates",
        base_url="http://testserver",
        secret_key=SECRET,
        feed_cache_seconds=0,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def web_world(url: str) -> Engine:
    """The example plan and owners, III.d.1 retitled with markup, and the escalations above."""
    engine = make_engine(url)
    upgrade(engine)
    import_paths(engine, [OWNERS, SEED], web_settings(url), T0)
    with transaction(engine) as session:
        actions = {a.ref: a for a in session.exec(select(Action)).all()}
        actions["III.d.1"].title = XSS
        session.add(actions["III.d.1"])
        for n, (ref, level, days, ago, ack, to) in enumerate(ESCALATIONS):
            at = NOW - timedelta(days=ago)
            session.add(
                Escalation(
                    key=f"k{n}",
                    at=at,
                    action_id=actions[ref].id,
                    occurrence=str(actions[ref].due or ""),
                    level=level,
                    step=f"escalate:{level}",
                    policy="default",
                    recipients=[to],
                    days_overdue=days,
                    acknowledged_by=ack,
                    acknowledged_at=at if ack else None,
                )
            )
    return engine


def action_id(engine: Engine, ref: str) -> int:
    """Return the database id of the action ``ref``."""
    with transaction(engine) as session:
        found = session.exec(select(Action).where(Action.ref == ref)).one()
        assert found.id is not None
        return found.id


def csrf_of(html: str) -> str:
    """Return the CSRF token of the first form on a page."""
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def sign_in(client: TestClient, settings: Settings, owner: str, now: datetime = NOW) -> None:
    """Sign ``client`` in as ``owner`` through a sign-in link (GET shows the button, POST uses it)."""
    path = signin_url(settings, owner, now).removeprefix(settings.base_url)
    shown = client.get(path)
    assert shown.status_code == 200, shown.text
    used = client.post(path, data={"csrf": csrf_of(shown.text)}, follow_redirects=False)
    assert used.status_code == 303, used.text


def link_path(
    settings: Settings, ref: str, recipient: str, verb: str, sent: datetime = NOW, role: str = "owner"
) -> str:
    """Return the path of an e-mail's action link sent to ``recipient`` in ``role`` (as the e-mail layer builds it)."""
    url = action_links(settings.base_url, settings.secret_key, "gb276-tc2", ref, recipient, sent, role)[verb]
    return url.removeprefix(settings.base_url)


def add_escalation(engine: Engine, key: str, ref: str, level: int, to: list[str], at: datetime = NOW) -> int:
    """Log one open escalation step of ``ref`` sent to ``to``; return its id."""
    with transaction(engine) as session:
        action = session.exec(select(Action).where(Action.ref == ref)).one()
        assert action.id is not None
        entry = Escalation(
            key=key,
            at=at,
            action_id=action.id,
            occurrence=str(action.due or ""),
            level=level,
            step=f"escalate:{level}",
            policy="default",
            recipients=to,
            days_overdue=10,
        )
        session.add(entry)
        session.flush()
        assert entry.id is not None
        return entry.id


def chromium_path() -> str:
    """Return the system Chromium ($PLANWATCH_CHROMIUM, else ``chromium`` on the PATH): never a browser download.

    Without it the browser tests skip on a workstation and fail in CI (``CI`` set), where ``.ci/run`` installs it.
    """
    found = os.environ.get("PLANWATCH_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    message = "Debian's chromium is not installed (apt-get install chromium); .ci/run installs it"
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but {message}")
    pytest.skip(message)


@contextmanager
def chromium() -> Iterator[Any]:
    """Headless Chromium (the system's own) under Playwright."""
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@contextmanager
def serving(app: Any, port: int) -> Iterator[str]:
    """Serve ``app`` with a real uvicorn server on 127.0.0.1:``port`` in a thread; yield its base URL."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline and thread.is_alive():
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def shoot(page: Any, name: str) -> None:
    """Save a full-page screenshot under tests/screenshots/."""
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def browser_sign_in(page: Any, settings: Settings, owner: str, now: datetime = NOW) -> None:
    """Open a sign-in link in the browser and press its button, as a person would; lands on /my."""
    page.goto(signin_url(settings, owner, now))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/my")


AXE = Path(__file__).parent / "js" / "node_modules" / "axe-core" / "axe.min.js"
AXE_FAILS = ("serious", "critical")


def axe_source() -> str:
    """Return axe-core's script from ``tests/js`` (``npm ci`` installs it from the lock file); skip without it,
    but fail in CI, where ``make test`` installs it."""
    if AXE.exists():
        return AXE.read_text(encoding="utf-8")
    message = "axe-core is not installed in tests/js (npm ci there, as make test does)"
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but {message}")
    pytest.skip(message)


def axe_violations(page: Any) -> list[str]:
    """Run axe-core on the page open in ``page``; return one line per serious or critical violation and element:
    rule id, impact, the element's selector, and axe's help with its link."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe_source())
    violations = page.evaluate("async () => (await window.axe.run(document, {resultTypes: ['violations']})).violations")
    return [
        f"{v['id']} ({v['impact']}) at {' '.join(map(str, node['target']))}: {v['help']} <{v['helpUrl']}>"
        for v in violations
        if v.get("impact") in AXE_FAILS
        for node in v["nodes"]
    ]
