"""The ``site`` fixture of the page tests: the app over the example world, with signed-in clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import select

from engine.clock import FixedClock
from engine.settings import Settings
from engine.store import transaction
from engine.store.models import Action, Escalation
from engine.web import create_app

from ..web_support import NOW, chromium, sign_in, web_settings, web_world

Client = Callable[[str | None], TestClient]
PAGES = ["/my", "/escalations", "/plan", "/report", "/escalations.csv"]


@pytest.fixture
def site(database_url: str) -> Iterator[tuple[Client, Engine, Settings, FixedClock]]:
    """The app over the example world; ``client(owner)`` returns a client signed in as ``owner`` (None: nobody)."""
    engine = web_world(database_url)
    settings = web_settings(database_url)
    clock = FixedClock(NOW)
    app = create_app(settings, clock=clock, engine=engine)
    clients: list[TestClient] = []

    def client(owner: str | None) -> TestClient:
        made = TestClient(app)
        clients.append(made)
        if owner is not None:
            sign_in(made, settings, owner)
        return made

    yield client, engine, settings, clock
    for made in clients:
        made.close()
    engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium (the system's own), launched once for each module of page tests: each test opens its own
    context. Module scope, not wider: Playwright's sync API keeps its event loop marked running in the main thread,
    so another module's own ``chromium()`` (or an ``asyncio.run``) could not start while this one is open."""
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies) and page, 1280 by 900, that waits at most 10 s for an element."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    opened = context.new_page()
    yield opened
    context.close()


def status_of(engine: Engine, ref: str) -> str:
    """Return the status of the action ``ref``."""
    with transaction(engine) as session:
        return session.exec(select(Action.status).where(Action.ref == ref)).one()


def escalation_id(engine: Engine, ref: str) -> int:
    """Return the id of the (first) escalation of the action ``ref``."""
    with transaction(engine) as session:
        found = session.exec(select(Escalation.id).join(Action).where(Action.ref == ref)).first()
        assert found is not None
        return found
