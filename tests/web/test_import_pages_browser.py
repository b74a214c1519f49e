"""The import page in a real browser: Chromium chooses a Word file, sees the preview and imports it.

Debian's Chromium driven by Playwright against a real uvicorn server (see ``tests/web_support.py``), so the
upload is the browser's own multipart body, not a test client's.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func
from sqlmodel import select

from engine.clock import FixedClock
from engine.settings import Settings
from engine.store import transaction
from engine.store.models import Action
from engine.web import create_app

from ..importers.documents import SECOND, SECOND_HEADERS, text_plan, write_docx
from ..smtpserver import free_port
from ..web_support import NOW, browser_sign_in, chromium, serving, shoot, web_settings, web_world


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Engine, Settings]]:
    port = free_port()
    url = f"sqlite:///{tmp_path / 'planwatch.db'}"
    engine = web_world(url)
    settings = web_settings(url, base_url=f"http://127.0.0.1:{port}")
    with serving(create_app(settings, clock=FixedClock(NOW), engine=engine), port) as base:
        yield base, engine, settings
    engine.dispose()


def _count(engine: Engine, plan_id: str) -> int:
    with transaction(engine) as session:
        return session.exec(select(func.count()).select_from(Action).where(Action.plan_id == plan_id)).one()


def test_the_secretariat_uploads_a_word_plan_previews_and_imports_it(server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _base, engine, settings = server
    document = write_docx(text_plan(SECOND), tmp_path / "Plan d'action (PFA 7).docx", SECOND_HEADERS)
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page: Any = context.new_page()
        browser_sign_in(page, settings, "secretariat")
        page.get_by_role("link", name="Import").click()
        page.wait_for_url("**/import")
        page.get_by_label("Plan file").set_input_files(str(document))
        page.get_by_role("button", name="Preview the import").click()
        page.get_by_role("heading", name="Preview of Plan d'action (PFA 7).docx").wait_for()
        body = page.content()
        assert "A.1.1" in body and "By June 2024" in body and "deadline due 30 June 2024" in body
        assert "A new plan: nothing of it is stored yet." in body
        assert _count(engine, "gb350-pfa7") == 0
        shoot(page, "import-preview")
        page.get_by_role("button", name="Import Plan d'action (PFA 7).docx").click()
        page.get_by_role("heading", name="Plan imported").wait_for()
        assert "gb350-pfa7: plan created, 17 actions." in page.content()
        assert _count(engine, "gb350-pfa7") == 17
        context.close()
