"""The page tests' site over rules that close an action in one step (``one_step_site``: the owner's "done" closes
it at once), for the tests of what one-step closure keeps; or over rules changed as a test says (``ruled_site``)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from engine.clock import FixedClock
from engine.settings import Settings
from engine.web import create_app

from ..web_support import NOW, ROOT, sign_in, web_settings, web_world
from .conftest import Client

Site = tuple[Client, Engine, Settings, FixedClock]


def changed_rules(folder: Path, old: str, new: str) -> Path:
    """Copy the project's rules into ``folder`` with ``old`` replaced by ``new`` in default.yaml; return the copy."""
    shutil.copytree(ROOT / "rules", folder)
    rules = folder / "default.yaml"
    text = rules.read_text(encoding="utf-8")
    assert old in text
    rules.write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


def one_step_site(database_url: str, tmp_path: Path) -> Iterator[Site]:
    """Yield the site with one-step closure (a test module's fixture); close it after."""
    yield from ruled_site(database_url, changed_rules(tmp_path / "rules", "    steps: 2", "    steps: 1"))


def ruled_site(database_url: str, rules: Path) -> Iterator[Site]:
    """Yield the site over the rules folder ``rules``; close it after."""
    engine = web_world(database_url)
    settings = web_settings(database_url, rules_dir=rules)
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
